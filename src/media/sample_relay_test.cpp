#include "media/sample_relay.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>
#include <vector>

namespace tl::media {
namespace {

TEST(SampleRelay, MixesRelayedSamplesIntoTheFrameWithSaturation) {
    SampleRelay relay;
    std::vector<std::int16_t> in(160, 1000);
    in[0] = 32500;  // + 500 passes the 16-bit range
    ASSERT_TRUE(relay.push(in));
    std::vector<std::int16_t> frame(160, 500);
    EXPECT_EQ(relay.mix_into(frame), 160u);
    EXPECT_EQ(frame[0], 32767) << "saturates instead of wrapping";
    EXPECT_EQ(frame[1], 1500);
    EXPECT_EQ(relay.size(), 0u);
    EXPECT_EQ(relay.mix_into(frame), 0u) << "nothing left: an underrun adds nothing";
}

TEST(SampleRelay, DropsFramesBeyondTheBacklogInsteadOfAddingDelay) {
    SampleRelay relay;
    const std::vector<std::int16_t> frame(160, 1);
    int accepted = 0;
    for (int i = 0; i < 10; ++i) accepted += relay.push(frame) ? 1 : 0;
    EXPECT_EQ(accepted, 4);
    EXPECT_EQ(relay.dropped(), 6u);
    EXPECT_EQ(relay.size(), SampleRelay::kMaxBacklog);
}

TEST(SampleRelay, ProducerAndConsumerOnTwoThreadsKeepTheSampleOrder) {
    SampleRelay relay;
    constexpr int kFrames = 20000;
    std::thread producer([&] {
        std::vector<std::int16_t> frame(160);
        for (int f = 0; f < kFrames; ++f) {
            std::iota(frame.begin(), frame.end(), static_cast<std::int16_t>(f % 200));
            while (!relay.push(frame)) std::this_thread::yield();
        }
    });
    int frames = 0;
    std::vector<std::int16_t> out(160);
    while (frames < kFrames) {
        std::fill(out.begin(), out.end(), 0);
        if (relay.size() < 160) {
            std::this_thread::yield();
            continue;
        }
        ASSERT_EQ(relay.mix_into(out), 160u);
        for (int i = 0; i < 160; ++i) ASSERT_EQ(out[i], frames % 200 + i) << frames;
        ++frames;
    }
    producer.join();
    EXPECT_EQ(relay.size(), 0u);
}

}  // namespace
}  // namespace tl::media
