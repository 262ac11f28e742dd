#pragma once
// The caller's audio on its way to the assistant. The TurnDetector runs where the caller's frames
// arrive, on the caller's RTP strand, so no frame is copied or posted; a barge-in stops the
// assistant's playback from right there; only turn events (a few per turn) are posted to the
// call's strand.
//
// Thread-safety: push() on the caller's RTP strand only (it is that session's on_audio);
// report_words() from any thread (applied before the next frame: within 20 ms).

#include "media/rtp_session.hpp"
#include "voice/listening/turn_detector.hpp"

#include <atomic>
#include <functional>
#include <span>

namespace tl::call {

class CallerListener {
public:
    using PostEvent = std::function<void(voice::TurnEvent)>;

    // `caller` is the session whose on_audio calls push(): it outlives every push().
    CallerListener(voice::TurnTakingConfig config, media::RtpSession& caller, PostEvent post);

    void push(std::span<const std::int16_t> frame);
    void report_words(std::uint64_t turn, std::size_t words);

private:
    media::RtpSession& caller_;
    PostEvent post_;
    voice::TurnDetector detector_;
    voice::AssistantSpeaking speaking_ = voice::AssistantSpeaking::kNo;
    // (turn << 16) | min(words, 0xffff); 0: nothing to report.
    std::atomic<std::uint64_t> words_report_{0};
};

}  // namespace tl::call
