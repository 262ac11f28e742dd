#pragma once
// Audio handed from one RTP session's strand to another's without a lock, an allocation or a
// posted handler: a bridge relays every 20 ms frame this way. A single-producer single-consumer
// ring of samples; the producer is whichever strand feeds the session (one at a time), the
// consumer is the session's own sender. When the producer runs ahead (the two far ends' clocks
// drift, or the consumer has not started) frames are dropped so the relay never adds more than
// kMaxBacklog samples of delay.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tl::media {

class SampleRelay {
public:
    static constexpr std::size_t kCapacity = 1024;  // a power of two
    static constexpr std::size_t kMaxBacklog = 640;  // 80 ms at 8 kHz: four 20 ms frames

    // Producer side. False when the frame was dropped (backlog full).
    bool push(std::span<const std::int16_t> samples);

    // Consumer side: adds up to out.size() samples into `out` (saturating, so queued audio
    // and relayed audio mix) and returns how many it added.
    std::size_t mix_into(std::span<std::int16_t> out);

    std::size_t size() const;
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
    std::array<std::int16_t, kCapacity> ring_{};
    std::atomic<std::size_t> head_{0};  // next write (producer)
    std::atomic<std::size_t> tail_{0};  // next read (consumer)
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace tl::media
