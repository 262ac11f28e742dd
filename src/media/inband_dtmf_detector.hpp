#pragma once
// In-band DTMF: key presses sent as audio (ITU-T Q.23 dual tones) by far ends that do not send
// RFC 4733 telephone-events, found in decoded 8 kHz audio. Goertzel analysis over 12.75 ms blocks
// (inband_dtmf_block.hpp); a digit is reported once two blocks in a row hold it, and the same
// digit again only after two blocks without it (a pause of 25.5 ms; key presses are at least
// 40 ms apart). Design and thresholds: docs/inband-dtmf.md.
//
// Not thread-safe: one per received stream, used on its strand. push() does not allocate, lock or
// log; it costs about 1-2 us of CPU per 20 ms frame (docs/inband-dtmf.md).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/inband_dtmf_block.hpp"

namespace tl::media {

class InbandDtmfDetector {
public:
    // Feeds one frame of 8 kHz linear PCM (normally 160 samples = 20 ms; any length works, a
    // partial block waits for the next frame). Returns a digit ('0'-'9', '*', '#', 'A'-'D') once
    // per key press, at the end of the second block in a row that holds it: tones from 34 ms
    // are always reported, tones under 19 ms never (by where the blocks fall in between). Should
    // one frame complete two digits (frames over 25 ms, tones glued together), the second comes
    // out of the next push().
    std::optional<char> push(std::span<const std::int16_t> frame);

    // Forgets all audio and any digit in progress (a new stream, or after a hold).
    void reset();

private:
    void on_block(const detail::DtmfBlock& block);

    std::array<std::int16_t, detail::kDtmfBlockSamples> block_{};
    std::size_t filled_ = 0;  // samples of block_ holding audio not yet analysed

    char candidate_ = 0;        // the digit of the last block, 0 when it had none
    int candidate_blocks_ = 0;  // consecutive blocks holding candidate_
    char reported_ = 0;         // the digit of the press in progress, 0 after a pause
    int gap_blocks_ = 0;        // consecutive blocks without a digit

    // Digits found but not yet returned, oldest first. A 480-sample frame completes at most five
    // blocks and so at most three digits; beyond kMaxPending (only reachable with tones glued
    // together without pauses) the newest are dropped.
    static constexpr std::size_t kMaxPending = 4;
    std::array<char, kMaxPending> pending_{};
    std::size_t pending_count_ = 0;
};

}  // namespace tl::media
