#include "media/inband_dtmf_detector.hpp"

#include <algorithm>

namespace tl::media {
namespace {

using detail::DtmfBlock;
using detail::DtmfBlockCheck;

// Two blocks in a row: every tone of 38.1 ms (2 blocks + 101 samples) covers two whole blocks
// wherever it starts, as Q.24's 40 ms key presses need. A block passes from about 3/4 filled
// (the share check), so tones under 19 ms never pass two.
constexpr int kMinToneBlocks = 2;

// Two blocks without the digit end a press: one bad block (a burst of noise, a short dropout)
// does not split a press in two, while a 40 ms pause (AT&T asks for 50) still holds two whole
// blocks. Silences up to 15 ms inside a press never split it; 20 ms (a lost packet played as
// silence) does at about 1.5% of positions.
constexpr int kMinGapBlocks = 2;

// Whether a block that failed the checks still carries the press in progress: the key's tones
// are still the strongest of their groups at the minimum level. A tone near a limit passes in
// some blocks and fails in others (at 8 dB of twist, the weak tone's margin over its group also
// wavers under the strong one's side lobes); without this the press would be reported again after
// every two failed blocks. Noise able to fake it would have to reach -15 dBm0 (a Goertzel filter
// takes 2% of white noise), so pauses still end a press.
bool continues_press(const DtmfBlock& block, char reported) {
    return reported != 0 && block.digit == reported && block.check != DtmfBlockCheck::kTooQuiet;
}

}  // namespace

std::optional<char> InbandDtmfDetector::push(std::span<const std::int16_t> frame) {
    while (!frame.empty()) {
        const std::size_t take = std::min(frame.size(), block_.size() - filled_);
        std::copy_n(frame.begin(), take, block_.begin() + static_cast<std::ptrdiff_t>(filled_));
        filled_ += take;
        frame = frame.subspan(take);
        if (filled_ == block_.size()) {
            filled_ = 0;
            on_block(detail::analyse_dtmf_block(block_));
        }
    }
    if (pending_count_ == 0) {
        return std::nullopt;
    }
    const char digit = pending_[0];
    std::shift_left(pending_.begin(),
                    pending_.begin() + static_cast<std::ptrdiff_t>(pending_count_), 1);
    --pending_count_;
    return digit;
}

void InbandDtmfDetector::on_block(const DtmfBlock& block) {
    if (block.check != DtmfBlockCheck::kDigit) {
        candidate_ = 0;
        candidate_blocks_ = 0;
        if (continues_press(block, reported_)) {
            gap_blocks_ = 0;
        } else {
            gap_blocks_ = std::min(gap_blocks_ + 1, kMinGapBlocks);  // bounded: calls run for days
            if (gap_blocks_ == kMinGapBlocks) {
                reported_ = 0;
            }
        }
        return;
    }
    gap_blocks_ = 0;
    if (block.digit == candidate_) {
        candidate_blocks_ = std::min(candidate_blocks_ + 1, kMinToneBlocks);
    } else {
        candidate_ = block.digit;
        candidate_blocks_ = 1;
    }
    // A different digit without a pause is a new press too (tones glued by a dialler).
    if (candidate_blocks_ == kMinToneBlocks && candidate_ != reported_) {
        reported_ = candidate_;
        if (pending_count_ < pending_.size()) {
            pending_[pending_count_++] = candidate_;
        }
    }
}

void InbandDtmfDetector::reset() { *this = InbandDtmfDetector{}; }

}  // namespace tl::media
