#include "media/sample_relay.hpp"

#include <algorithm>

namespace tl::media {

bool SampleRelay::push(std::span<const std::int16_t> samples) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    if (head - tail + samples.size() > kMaxBacklog) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    for (std::size_t i = 0; i < samples.size(); ++i) {
        ring_[(head + i) & (kCapacity - 1)] = samples[i];
    }
    head_.store(head + samples.size(), std::memory_order_release);
    return true;
}

std::size_t SampleRelay::mix_into(std::span<std::int16_t> out) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_acquire);
    const std::size_t n = std::min(out.size(), head - tail);
    for (std::size_t i = 0; i < n; ++i) {
        const int mixed = out[i] + ring_[(tail + i) & (kCapacity - 1)];
        out[i] = static_cast<std::int16_t>(std::clamp(mixed, -32768, 32767));
    }
    tail_.store(tail + n, std::memory_order_release);
    return n;
}

std::size_t SampleRelay::size() const {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
}

}  // namespace tl::media
