#pragma once
// Replay protection for inbound digest authentication. Nonces are stateless (NonceIssuer), so a
// captured `Authorization: Digest ...` header would otherwise authenticate any number of new
// INVITEs from the same source until its nonce goes stale. This remembers, for each nonce that
// authenticated a request, the highest nonce count (nc) accepted per client nonce (cnonce): a
// request that does not raise it is a replay and gets a fresh challenge with stale=true
// (RFC 7616 §3.3 and §5.12, RFC 2617 §3.2.2: the client may retry with the new nonce without
// asking its user; it is not a wrong password). A different cnonce on the same nonce starts its
// own count, as the RFCs allow. Without qop there is no nc: the nonce is good for one request.
//
// Process-local. When several nodes share the nonce secret (derived from one master key), a
// header captured on its way to node A can still be replayed once to node B within the nonce
// lifetime: across nodes the protection is best effort (the nonce also binds the source address,
// so the replay must come from the captured client's address).
//
// Bounded: at most `max_entries` (nonce, cnonce) entries. Each is kept for `lifetime` after its
// nonce first authenticated a request, which covers the nonce's whole validity (a nonce is never
// accepted before it is issued). Expired entries are dropped first; when the cache is still full
// the oldest entry is evicted (counted in `live_evictions`), which re-opens the replay window of
// that one nonce for the rest of its lifetime. That is the fail-safe choice: refusing new
// entries instead would lock legitimate callers out under load, while an eviction needs more
// than `max_entries` authenticated requests within one nonce lifetime (100,000 in 5 minutes,
// over 300 per second, by default) and only weakens replay protection for the oldest nonces
// back to what stateless nonces give.
//
// Thread-safety: every method may be called concurrently (one mutex; taken once per digest-
// authenticated INVITE, never per packet).

#include "common/metrics.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace tl::sip {

class DigestReplayCache {
public:
    // The clock of NonceIssuer, so one injected `now` serves both.
    using Clock = std::chrono::system_clock;
    static constexpr std::size_t kDefaultMaxEntries = 100'000;

    DigestReplayCache(std::chrono::seconds lifetime,
                      std::size_t max_entries,
                      metrics::Counter& live_evictions);

    enum class Verdict { kFresh, kReplay };

    // Called after a request's credentials verified: kFresh, and remembered, when `nc` is higher
    // than any accepted before for (nonce, cnonce), or the pair is new; kReplay otherwise, and
    // nothing changes. Without qop pass an empty cnonce and nc 0.
    Verdict admit(std::string_view nonce,
                  std::string_view cnonce,
                  std::uint32_t nc,
                  Clock::time_point now = Clock::now());

    // Entries held (expired ones may linger until the next admit()).
    std::size_t size() const;

private:
    // A keyed 128-bit BLAKE2b digest of (nonce, cnonce): every entry has the same small size
    // whatever the client sent, and clients cannot steer entries into one hash bucket.
    using Key = std::array<unsigned char, 16>;
    struct KeyHash {
        std::size_t operator()(const Key& key) const;
    };
    struct Entry {
        std::uint32_t highest_nc = 0;
        Clock::time_point expires_at;
    };
    // Insertion order. A slot is current while its entry still carries the slot's expiry; an
    // entry re-created after expiring (possible only when the wall clock steps back) gets a new
    // slot, and its old one is dropped without touching it. There are never fewer slots than
    // entries, so capping the slots caps the entries.
    struct Slot {
        Key key;
        Clock::time_point expires_at;
    };

    Key key_of(std::string_view nonce, std::string_view cnonce) const;
    void pop_front_slot(Clock::time_point now);

    const std::chrono::seconds lifetime_;
    const std::size_t max_entries_;
    metrics::Counter& live_evictions_;
    std::array<unsigned char, 32> hash_key_{};
    mutable std::mutex mutex_;
    std::unordered_map<Key, Entry, KeyHash> entries_;
    std::deque<Slot> slots_;
};

}  // namespace tl::sip
