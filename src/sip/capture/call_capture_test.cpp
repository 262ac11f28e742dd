#include "sip/capture/call_capture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

CapturedMessage sized(long long at_ms, std::size_t bytes) {
    return test::message(at_ms, Direction::kIn, test::kCarrierIp,
                         std::string(bytes, static_cast<char>('a' + at_ms % 26)));
}

TEST(CallCapture, KeepsEverythingWithinTheLimits) {
    CallCapture capture;
    for (const auto& m : test::transfer_call().messages) capture.add(m);
    const auto snapshot = capture.snapshot();
    EXPECT_FALSE(snapshot.truncated);
    ASSERT_EQ(snapshot.messages.size(), test::transfer_call().messages.size());
    EXPECT_EQ(snapshot.messages.front().raw, test::transfer_call().messages.front().raw);
}

TEST(CallCapture, DefaultLimits) {
    EXPECT_EQ(CallCapture::kMaxMessages, 200u);
    EXPECT_EQ(CallCapture::kMaxBytes, 256u * 1024u);
    CallCapture capture;
    for (int i = 0; i < 250; ++i) capture.add(sized(i, 10));
    const auto snapshot = capture.snapshot();
    EXPECT_EQ(snapshot.messages.size(), 200u);
    EXPECT_TRUE(snapshot.truncated);
    EXPECT_EQ(snapshot.messages.back().timestamp,
              test::call_start() + std::chrono::milliseconds{199});
}

TEST(CallCapture, DropsPastTheMessageLimitAndKeepsTheOldest) {
    CallCapture capture(3, 1000);
    for (int i = 0; i < 5; ++i) capture.add(sized(i, 10));
    const auto snapshot = capture.snapshot();
    EXPECT_TRUE(snapshot.truncated);
    ASSERT_EQ(snapshot.messages.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(snapshot.messages[i].timestamp,
                  test::call_start() + std::chrono::milliseconds{i});
    }
}

TEST(CallCapture, DropsPastTheByteLimit) {
    CallCapture capture(100, 25);
    capture.add(sized(0, 10));
    capture.add(sized(1, 15));  // exactly at the limit: kept
    EXPECT_FALSE(capture.snapshot().truncated);
    capture.add(sized(2, 1));
    const auto snapshot = capture.snapshot();
    EXPECT_TRUE(snapshot.truncated);
    EXPECT_EQ(snapshot.messages.size(), 2u);
}

TEST(CallCapture, OneTooLargeMessageEndsTheCapture) {
    // A later small message is dropped too: the capture stays a prefix of the call, with no
    // hole in the middle that would make the ladder lie.
    CallCapture capture(100, 100);
    capture.add(sized(0, 10));
    capture.add(sized(1, 500));
    capture.add(sized(2, 10));
    const auto snapshot = capture.snapshot();
    EXPECT_TRUE(snapshot.truncated);
    ASSERT_EQ(snapshot.messages.size(), 1u);
    EXPECT_EQ(snapshot.messages[0].raw.size(), 10u);
}

TEST(CallCapture, ZeroLimitsKeepNothing) {
    CallCapture capture(0, 0);
    EXPECT_FALSE(capture.snapshot().truncated);
    capture.add(sized(0, 0));
    EXPECT_TRUE(capture.snapshot().truncated);
    EXPECT_TRUE(capture.snapshot().messages.empty());
}

TEST(CallCapture, SnapshotIsOldestFirst) {
    CallCapture capture;
    capture.add(sized(5, 1));
    capture.add(sized(1, 2));
    capture.add(sized(5, 3));  // same time as the first: stays after it
    const auto snapshot = capture.snapshot();
    ASSERT_EQ(snapshot.messages.size(), 3u);
    EXPECT_EQ(snapshot.messages[0].raw.size(), 2u);
    EXPECT_EQ(snapshot.messages[1].raw.size(), 1u);
    EXPECT_EQ(snapshot.messages[2].raw.size(), 3u);
}

TEST(CallCapture, ConcurrentAddsAndSnapshots) {
    CallCapture capture(1000, 1'000'000);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&capture, t] {
            for (int i = 0; i < 200; ++i) {
                capture.add(sized(t * 1000 + i, 7));
                if (i % 50 == 0) (void)capture.snapshot();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const auto snapshot = capture.snapshot();
    EXPECT_EQ(snapshot.messages.size(), 800u);
    EXPECT_FALSE(snapshot.truncated);
}

}  // namespace
}  // namespace tl::sip
