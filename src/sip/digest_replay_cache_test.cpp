#include "sip/digest_replay_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace tl::sip {
namespace {

using Verdict = DigestReplayCache::Verdict;
using std::chrono::seconds;

constexpr seconds kLifetime{300};
const DigestReplayCache::Clock::time_point kT0{seconds(1'700'000'000)};

class DigestReplayCacheTest : public ::testing::Test {
protected:
    metrics::Counter evictions_;
    DigestReplayCache cache_{kLifetime, 100, evictions_};
};

TEST_F(DigestReplayCacheTest, FirstUseIsFreshAnExactReplayIsNot) {
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0 + seconds(2)), Verdict::kReplay);
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0 + seconds(299)), Verdict::kReplay);
}

TEST_F(DigestReplayCacheTest, OnlyAHigherCountOnTheSameNonceAndCnonceIsFresh) {
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n1", "c1", 2, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n1", "c1", 7, kT0), Verdict::kFresh);  // gaps are allowed
    for (std::uint32_t nc : {1u, 2u, 6u, 7u}) {
        EXPECT_EQ(cache_.admit("n1", "c1", nc, kT0), Verdict::kReplay) << nc;
    }
    EXPECT_EQ(cache_.admit("n1", "c1", 8, kT0), Verdict::kFresh);
}

TEST_F(DigestReplayCacheTest, EachCnonceAndEachNonceCountsOnItsOwn) {
    EXPECT_EQ(cache_.admit("n1", "c1", 5, kT0), Verdict::kFresh);
    // A new cnonce on the same nonce starts again at 1 (RFC 7616 §3.4).
    EXPECT_EQ(cache_.admit("n1", "c2", 1, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n2", "c1", 1, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n1", "c2", 1, kT0), Verdict::kReplay);
    // The pair is one key, not a concatenation: ("n1c", "2") is not ("n1", "c2").
    EXPECT_EQ(cache_.admit("n1c", "2", 1, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.size(), 4u);
}

TEST_F(DigestReplayCacheTest, WithoutQopANonceIsGoodForOneRequest) {
    EXPECT_EQ(cache_.admit("n1", "", 0, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n1", "", 0, kT0 + seconds(1)), Verdict::kReplay);
}

TEST_F(DigestReplayCacheTest, EntriesExpireAfterTheLifetime) {
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n2", "c1", 1, kT0 + seconds(100)), Verdict::kFresh);
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0 + kLifetime - seconds(1)), Verdict::kReplay);
    // n1 is forgotten once its lifetime is over (its nonce is stale by then); n2 is not yet.
    EXPECT_EQ(cache_.admit("n3", "c1", 1, kT0 + kLifetime), Verdict::kFresh);
    EXPECT_EQ(cache_.size(), 2u);
    EXPECT_EQ(cache_.admit("n2", "c1", 1, kT0 + kLifetime), Verdict::kReplay);
    EXPECT_EQ(cache_.admit("n1", "c1", 1, kT0 + kLifetime), Verdict::kFresh);
    EXPECT_EQ(evictions_.value(), 0u);
}

TEST(DigestReplayCache, ExpiredEntriesMakeRoomBeforeLiveOnes) {
    metrics::Counter evictions;
    DigestReplayCache cache(kLifetime, 3, evictions);
    for (const char* nonce : {"n1", "n2", "n3"}) cache.admit(nonce, "c", 1, kT0);
    EXPECT_EQ(cache.admit("n4", "c", 1, kT0 + kLifetime), Verdict::kFresh);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(evictions.value(), 0u);
}

TEST(DigestReplayCache, TheCapHoldsUnder200kDistinctNonces) {
    metrics::Counter evictions;
    constexpr std::size_t kCap = DigestReplayCache::kDefaultMaxEntries;
    DigestReplayCache cache(kLifetime, kCap, evictions);
    constexpr std::size_t kNonces = 200'000;
    for (std::size_t i = 0; i < kNonces; ++i) {
        ASSERT_EQ(cache.admit("nonce-" + std::to_string(i), "c", 1, kT0), Verdict::kFresh) << i;
        ASSERT_LE(cache.size(), kCap);
    }
    EXPECT_EQ(cache.size(), kCap);
    // Full of live entries: the oldest went first, and each such eviction is counted.
    EXPECT_EQ(evictions.value(), kNonces - kCap);
    EXPECT_EQ(cache.admit("nonce-" + std::to_string(kNonces - 1), "c", 1, kT0), Verdict::kReplay);
    EXPECT_EQ(cache.admit("nonce-" + std::to_string(kNonces - kCap), "c", 1, kT0),
              Verdict::kReplay);
    EXPECT_EQ(cache.admit("nonce-0", "c", 1, kT0), Verdict::kFresh);  // forgotten: fail-open
    EXPECT_EQ(cache.size(), kCap);
}

TEST(DigestReplayCache, ConcurrentReplaysLetExactlyOneThrough) {
    metrics::Counter evictions;
    DigestReplayCache cache(kLifetime, 1000, evictions);
    constexpr int kThreads = 8;
    constexpr int kRounds = 200;
    std::atomic<int> fresh{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kRounds; ++i) {
                if (cache.admit("n" + std::to_string(i), "c", 1, kT0) == Verdict::kFresh) ++fresh;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(fresh.load(), kRounds);
}

}  // namespace
}  // namespace tl::sip
