#include "sip/digest_replay_cache.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace tl::sip {

DigestReplayCache::DigestReplayCache(std::chrono::seconds lifetime,
                                     std::size_t max_entries,
                                     metrics::Counter& live_evictions)
    : lifetime_(lifetime),
      max_entries_(std::max<std::size_t>(max_entries, 1)),
      live_evictions_(live_evictions) {
    // The key only keeps clients from steering entries into one bucket: should libsodium have
    // no usable RNG (sodium_init is idempotent; negative means failure), the all-zero key still
    // gives correct answers.
    if (sodium_init() >= 0) randombytes_buf(hash_key_.data(), hash_key_.size());
}

std::size_t DigestReplayCache::KeyHash::operator()(const Key& key) const {
    std::size_t h = 0;
    std::memcpy(&h, key.data(), sizeof h);  // already a keyed uniform digest
    return h;
}

DigestReplayCache::Key DigestReplayCache::key_of(std::string_view nonce,
                                                 std::string_view cnonce) const {
    // The nonce's length first, so that no (nonce, cnonce) pair hashes like another split.
    const std::uint64_t nonce_size = nonce.size();
    crypto_generichash_state state;
    crypto_generichash_init(&state, hash_key_.data(), hash_key_.size(), sizeof(Key));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&nonce_size),
                              sizeof nonce_size);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(nonce.data()),
                              nonce.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(cnonce.data()),
                              cnonce.size());
    Key key{};
    crypto_generichash_final(&state, key.data(), key.size());
    return key;
}

void DigestReplayCache::pop_front_slot(Clock::time_point now) {
    const auto& slot = slots_.front();
    const auto it = entries_.find(slot.key);
    if (it != entries_.end() && it->second.expires_at == slot.expires_at) {
        if (now < it->second.expires_at) live_evictions_.inc();
        entries_.erase(it);
    }
    slots_.pop_front();
}

DigestReplayCache::Verdict DigestReplayCache::admit(std::string_view nonce,
                                                    std::string_view cnonce,
                                                    std::uint32_t nc,
                                                    Clock::time_point now) {
    const auto key = key_of(nonce, cnonce);
    std::lock_guard lock(mutex_);
    // Expired first: slots are in insertion order, and with a steady wall clock that is expiry
    // order too.
    while (!slots_.empty() && slots_.front().expires_at <= now) pop_front_slot(now);
    if (const auto it = entries_.find(key); it != entries_.end() && now < it->second.expires_at) {
        if (nc <= it->second.highest_nc) return Verdict::kReplay;
        it->second.highest_nc = nc;
        return Verdict::kFresh;
    }
    // Still full: evict the oldest (see the header for what that costs).
    while (slots_.size() >= max_entries_) pop_front_slot(now);
    const auto expires_at = now + lifetime_;
    entries_.insert_or_assign(key, Entry{nc, expires_at});
    slots_.push_back(Slot{key, expires_at});
    return Verdict::kFresh;
}

std::size_t DigestReplayCache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace tl::sip
