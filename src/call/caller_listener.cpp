#include "call/caller_listener.hpp"

#include <algorithm>

namespace tl::call {

CallerListener::CallerListener(voice::TurnTakingConfig config,
                               media::RtpSession& caller,
                               PostEvent post)
    : caller_(caller),
      post_(std::move(post)),
      detector_(std::move(config), voice::VadConfig{}, [this](const voice::TurnEvent& event) {
          // Barge-in: silence the assistant now, not after a trip through the call's strand.
          if (event.kind == voice::TurnEventKind::kBargeIn) caller_.flush();
          post_(event);
      }) {}

void CallerListener::push(std::span<const std::int16_t> frame) {
    if (const auto report = words_report_.exchange(0); report != 0) {
        detector_.report_words(report >> 16, static_cast<std::size_t>(report & 0xffff));
    }
    // The play queue (atomic) tells whether the assistant is talking: a caller speaking now is
    // interrupting it.
    const auto speaking = caller_.playing() ? voice::AssistantSpeaking::kYes
                                            : voice::AssistantSpeaking::kNo;
    if (speaking != speaking_) {
        speaking_ = speaking;
        detector_.set_assistant_speaking(speaking);
    }
    detector_.push(frame);
}

void CallerListener::report_words(std::uint64_t turn, std::size_t words) {
    words_report_.store(turn << 16 | std::min<std::size_t>(words, 0xffff));
}

}  // namespace tl::call
