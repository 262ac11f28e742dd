#include "recording/recording_tap.hpp"

#include <algorithm>
#include <bit>

namespace tl::recording {

RecordingTap::RecordingTap(std::size_t capacity_frames)
    : capacity_(std::bit_ceil(std::max<std::size_t>(capacity_frames, 2))) {
    ring_ = std::make_unique<StereoFrame[]>(capacity_);
}

void RecordingTap::caller_audio(std::span<const std::int16_t> samples) {
    if (samples.size() >= kMaxPending) {
        samples = samples.last(kMaxPending);
        pending_size_ = 0;
    }
    const std::size_t overflow = pending_size_ + samples.size() > kMaxPending
                                     ? pending_size_ + samples.size() - kMaxPending
                                     : 0;
    if (overflow > 0) {
        std::copy(pending_.begin() + static_cast<std::ptrdiff_t>(overflow),
                  pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.begin());
        pending_size_ -= overflow;
    }
    std::copy(samples.begin(), samples.end(),
              pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_));
    pending_size_ += samples.size();
}

void RecordingTap::sent_audio(std::span<const std::int16_t> frame) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    // The caller's samples are taken even when the frame is dropped, so what follows a gap
    // stays in step.
    const std::size_t taken = std::min(pending_size_, kFrameSamples);
    if (head - tail >= capacity_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
    } else {
        StereoFrame& out = ring_[head & (capacity_ - 1)];
        std::copy_n(pending_.begin(), taken, out.caller.begin());
        std::fill(out.caller.begin() + static_cast<std::ptrdiff_t>(taken), out.caller.end(),
                  std::int16_t{0});
        const std::size_t n = std::min(frame.size(), kFrameSamples);
        std::copy_n(frame.begin(), n, out.assistant.begin());
        std::fill(out.assistant.begin() + static_cast<std::ptrdiff_t>(n), out.assistant.end(),
                  std::int16_t{0});
        head_.store(head + 1, std::memory_order_release);
    }
    std::copy(pending_.begin() + static_cast<std::ptrdiff_t>(taken),
              pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.begin());
    pending_size_ -= taken;
}

std::optional<StereoFrame> RecordingTap::next() {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return std::nullopt;
    StereoFrame frame = ring_[tail & (capacity_ - 1)];
    tail_.store(tail + 1, std::memory_order_release);
    return frame;
}

}  // namespace tl::recording
