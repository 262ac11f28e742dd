#pragma once
// Where a call's audio leaves the media path for its recording. The caller's RTP session calls
// caller_audio() for each frame it receives and sent_audio() for each 20 ms frame it sends (the
// assistant's speech, or the bridged agent's audio, mixed as the caller hears it). Each sent
// frame is paired with the caller audio that arrived since the previous one into one stereo
// frame and copied into a bounded single-producer single-consumer queue: no lock, no allocation,
// no IO, no log. The recorder's writer thread empties the queue; when it falls behind, frames are
// dropped and counted, and the media path never waits.
//
// Thread-safety: caller_audio() and sent_audio() on the caller's RTP strand only (one producer);
// finish() from any thread; next(), finished(), dropped() and frames() on the writer thread.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace tl::recording {

constexpr std::size_t kFrameSamples = 160;  // 20 ms at 8 kHz
constexpr int kSampleRate = 8000;

struct StereoFrame {
    std::array<std::int16_t, kFrameSamples> caller{};     // left
    std::array<std::int16_t, kFrameSamples> assistant{};  // right: assistant or bridged agent
};

class RecordingTap {
public:
    // 2.56 s of audio: the writer wakes every 100 ms, so only a stalled disk fills it.
    static constexpr std::size_t kDefaultCapacity = 128;

    explicit RecordingTap(std::size_t capacity_frames = kDefaultCapacity);

    // Producer (the caller's RTP strand).
    void caller_audio(std::span<const std::int16_t> samples);
    void sent_audio(std::span<const std::int16_t> frame);

    // No more audio will come (the call ended); the writer finishes the files once drained.
    void finish() { finished_.store(true, std::memory_order_release); }

    // Consumer (the writer thread).
    std::optional<StereoFrame> next();
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
    // Caller audio waiting for the next sent frame. Three frames at most: when the caller's
    // clock runs ahead of ours the oldest samples go, so the channels never drift apart by more.
    static constexpr std::size_t kMaxPending = 3 * kFrameSamples;

    std::unique_ptr<StereoFrame[]> ring_;
    std::size_t capacity_;              // a power of two
    std::atomic<std::size_t> head_{0};  // next write (producer)
    std::atomic<std::size_t> tail_{0};  // next read (consumer)
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<bool> finished_{false};
    std::array<std::int16_t, kMaxPending> pending_{};
    std::size_t pending_size_ = 0;
};

}  // namespace tl::recording
