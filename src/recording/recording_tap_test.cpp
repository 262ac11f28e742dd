#include "recording/recording_tap.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tl::recording {
namespace {

std::vector<std::int16_t> constant(std::int16_t value, std::size_t n = kFrameSamples) {
    return std::vector<std::int16_t>(n, value);
}

TEST(RecordingTap, PairsCallerAudioWithEachSentFrame) {
    RecordingTap tap;
    tap.caller_audio(constant(100));
    tap.sent_audio(constant(-200));
    auto frame = tap.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->caller.front(), 100);
    EXPECT_EQ(frame->caller.back(), 100);
    EXPECT_EQ(frame->assistant.front(), -200);
    EXPECT_EQ(frame->assistant.back(), -200);
    EXPECT_FALSE(tap.next());
}

TEST(RecordingTap, SilenceWhereTheCallerSentNothing) {
    RecordingTap tap;
    tap.caller_audio(constant(7, 80));  // half a frame arrived
    tap.sent_audio(constant(1));
    const auto frame = tap.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->caller[79], 7);
    EXPECT_EQ(frame->caller[80], 0);
}

TEST(RecordingTap, CallerAudioBeyondThreeFramesDropsTheOldest) {
    RecordingTap tap;
    for (std::int16_t v = 1; v <= 5; ++v) tap.caller_audio(constant(v));
    tap.sent_audio(constant(0));
    const auto frame = tap.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->caller.front(), 3);  // 1 and 2 were dropped: at most 60 ms behind
}

TEST(RecordingTap, AFullQueueDropsAndCountsInsteadOfBlocking) {
    RecordingTap tap(4);
    for (int i = 0; i < 10; ++i) tap.sent_audio(constant(static_cast<std::int16_t>(i)));
    EXPECT_EQ(tap.dropped(), 6u);
    for (int i = 0; i < 4; ++i) {
        const auto frame = tap.next();
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->assistant.front(), i);
    }
    EXPECT_FALSE(tap.next());
}

}  // namespace
}  // namespace tl::recording
