#include "media/port_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace tl::media {
namespace {

TEST(PortPool, HandsOutEvenPairsAndRoundsLowUp) {
    auto pool = PortPool::create(10001, 10008);  // pairs 10002/3, 10004/5, 10006/7
    EXPECT_EQ(pool->capacity(), 3);
    std::vector<PortLease> leases;
    std::set<int> ports;
    for (int i = 0; i < 3; ++i) {
        auto lease = pool->acquire();
        ASSERT_TRUE(lease.has_value());
        EXPECT_EQ(lease->rtp_port() % 2, 0);
        EXPECT_EQ(lease->rtcp_port(), lease->rtp_port() + 1);
        EXPECT_GE(lease->rtp_port(), 10002);
        EXPECT_LE(lease->rtcp_port(), 10008);
        ports.insert(lease->rtp_port());
        leases.push_back(std::move(*lease));
    }
    EXPECT_EQ(ports.size(), 3u);
    EXPECT_EQ(pool->in_use(), 3);
}

TEST(PortPool, ExhaustedPoolIsUnavailable) {
    auto pool = PortPool::create(20000, 20003);
    auto a = pool->acquire();
    auto b = pool->acquire();
    ASSERT_TRUE(a && b);
    auto c = pool->acquire();
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().code, Errc::kUnavailable);
    EXPECT_FALSE(c.error().message.empty());
}

TEST(PortPool, LeaseReturnsItsPairOnDestructionAndMove) {
    auto pool = PortPool::create(20000, 20003);
    {
        auto a = pool->acquire();
        ASSERT_TRUE(a);
        PortLease moved = std::move(*a);
        EXPECT_FALSE(*a);  // moved-from lease owns nothing
        EXPECT_TRUE(moved);
        EXPECT_EQ(pool->in_use(), 1);
        PortLease other;
        other = std::move(moved);
        EXPECT_EQ(pool->in_use(), 1);
    }
    EXPECT_EQ(pool->in_use(), 0);
}

TEST(PortPool, RoundRobinDoesNotReuseAJustReleasedPort) {
    auto pool = PortPool::create(30000, 30009);  // 5 pairs
    int first = 0;
    {
        auto a = pool->acquire();
        ASSERT_TRUE(a);
        first = a->rtp_port();
    }
    auto b = pool->acquire();
    ASSERT_TRUE(b);
    EXPECT_NE(b->rtp_port(), first);
}

TEST(PortPool, EmptyOrInvertedRangeHasNoCapacity) {
    EXPECT_EQ(PortPool::create(5000, 5000)->capacity(), 0);
    EXPECT_EQ(PortPool::create(6000, 5000)->capacity(), 0);
    EXPECT_FALSE(PortPool::create(6000, 5000)->acquire().has_value());
    EXPECT_EQ(PortPool::create(65530, 70000)->capacity(), 3);  // 65530/1, 65532/3, 65534/5
}

TEST(PortPool, AssigningOverALiveLeaseReleasesIt) {
    auto pool = PortPool::create(40000, 40009);
    auto a = pool->acquire();
    auto b = pool->acquire();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(pool->in_use(), 2);
    *a = std::move(*b);
    EXPECT_EQ(pool->in_use(), 1);
}

}  // namespace
}  // namespace tl::media
