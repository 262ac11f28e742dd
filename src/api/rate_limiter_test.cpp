#include "api/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace tl::api {
namespace {

TEST(RateLimiter, FixedWindowPerKey) {
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'010));
    RateLimiter limiter(3, std::chrono::seconds(60), [&] { return now; });
    for (int i = 0; i < 3; ++i) {
        const auto d = limiter.check("k");
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.remaining, 2 - i);
        EXPECT_EQ(d.reset_epoch_seconds, 1'700'000'040);  // window [1'699'999'980, +60)
    }
    const auto denied = limiter.check("k");
    EXPECT_FALSE(denied.allowed);
    EXPECT_EQ(denied.retry_after_seconds, 30);
    EXPECT_TRUE(limiter.check("other").allowed);
    now += std::chrono::seconds(30);
    EXPECT_TRUE(limiter.check("k").allowed);
}

}  // namespace
}  // namespace tl::api
