#include "voice/listening/turn_detector.hpp"

#include <algorithm>

namespace tl::voice {
namespace {

// Utterance capacity reserved when speech may be starting: 10 s beyond the pre-roll, so most
// turns never reallocate while they are collected.
constexpr std::size_t kReservedSamples = 10 * kListenSampleRate;

std::int64_t to_frames(std::chrono::milliseconds duration) {
    const std::int64_t ms = std::max<std::int64_t>(duration.count(), 0);
    return (ms + kFrameMs - 1) / kFrameMs;  // rounded up
}

}  // namespace

TurnDetector::TurnDetector(TurnTakingConfig config, VadConfig vad, Handler handler)
    : config_(config), vad_(vad), handler_(std::move(handler)) {
    min_delay_frames_ = std::max<std::int64_t>(1, to_frames(config_.endpointing_min_delay));
    max_delay_frames_ = std::max(min_delay_frames_, to_frames(config_.endpointing_max_delay));
    min_interruption_frames_ =
        std::max<std::int64_t>(1, to_frames(config_.interruption_min_duration));
    min_speech_frames_ = std::max<std::int64_t>(1, to_frames(config_.min_speech_duration));
    false_interruption_frames_ =
        config_.false_interruption_timeout
            ? std::max<std::int64_t>(1, to_frames(*config_.false_interruption_timeout))
            : 0;
    post_roll_frames_ = to_frames(config_.post_roll);
    max_utterance_frames_ = std::max(
        {min_interruption_frames_ + 1, min_speech_frames_ + 1, to_frames(config_.max_utterance)});
    pre_roll_frames_ = static_cast<std::size_t>(to_frames(config_.pre_roll));
    ring_.assign(pre_roll_frames_ * kFrameSamples, 0);
}

void TurnDetector::push(std::span<const std::int16_t> audio) {
    if (carry_size_ > 0) {
        const std::size_t take = std::min(audio.size(), kFrameSamples - carry_size_);
        std::copy_n(audio.begin(), take, carry_.begin() + static_cast<std::ptrdiff_t>(carry_size_));
        carry_size_ += take;
        audio = audio.subspan(take);
        if (carry_size_ < kFrameSamples) {
            return;
        }
        process_frame(carry_);
        carry_size_ = 0;
    }
    while (audio.size() >= kFrameSamples) {
        process_frame(audio.first<kFrameSamples>());
        audio = audio.subspan(kFrameSamples);
    }
    std::copy(audio.begin(), audio.end(), carry_.begin());
    carry_size_ = audio.size();
}

void TurnDetector::set_assistant_speaking(AssistantSpeaking speaking) {
    assistant_ = speaking;
    if (speaking == AssistantSpeaking::kYes) {
        interruption_pending_ = false;
        resume_at_.reset();
    }
}

void TurnDetector::report_words(std::uint64_t turn, std::size_t words) {
    if (!interruption_pending_ || turn < barge_in_turn_ || turn > turn_) {
        return;  // settled already, or a turn from before the interruption
    }
    const std::size_t needed = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::max(0, config_.interruption_min_words)));
    if (words >= needed) {
        interruption_pending_ = false;  // a real interruption: the assistant stays stopped
        resume_at_.reset();
        return;
    }
    // Too few words. Only the latest finished turn decides, and not while the caller speaks.
    if (turn == interrupting_turn_ && resume_at_ && state_ != State::kSpeaking) {
        // From a handler inside push(), the frame being processed; otherwise the last one.
        resume(processing_ ? frame_ : std::max<std::int64_t>(0, frame_ - 1));
    }
}

void TurnDetector::process_frame(std::span<const std::int16_t, kFrameSamples> frame) {
    const VadFrame v = vad_.process(frame);
    last_vad_ = v;
    processing_ = true;
    switch (state_) {
        case State::kIdle:
            if (v.voiced) {
                start_candidate(frame);
                voiced_in_burst_ = 1;
                if (voiced_in_burst_ >= frames_to_confirm()) {
                    confirm_speech();
                }
            } else if (pre_roll_frames_ > 0) {
                std::copy(frame.begin(), frame.end(),
                          ring_.begin() + static_cast<std::ptrdiff_t>(ring_next_ * kFrameSamples));
                ring_next_ = (ring_next_ + 1) % pre_roll_frames_;
                ring_count_ = std::min(ring_count_ + 1, pre_roll_frames_);
            }
            break;
        case State::kCandidate:
            utterance_.insert(utterance_.end(), frame.begin(), frame.end());
            if (v.voiced) {
                ++voiced_in_burst_;
                last_voiced_ = frame_;
                if (voiced_in_burst_ >= frames_to_confirm()) {
                    confirm_speech();
                }
            } else if (!v.speech) {
                // Too short to be speech: back to listening, with the latest audio as pre-roll.
                state_ = State::kIdle;
                refill_pre_roll();
                utterance_.clear();
            }
            break;
        case State::kSpeaking: {
            utterance_.insert(utterance_.end(), frame.begin(), frame.end());
            if (!v.speech) {
                voiced_in_burst_ = 0;
            }
            if (v.voiced) {
                ++voiced_in_burst_;
                last_voiced_ = frame_;
                if (voiced_in_burst_ >= min_speech_frames_) {
                    last_sustained_ = frame_;
                }
            }
            const bool long_silence = frame_ - last_voiced_ >= min_delay_frames_;
            const bool past_bound = !v.voiced && frame_ - last_sustained_ >= max_delay_frames_;
            const bool too_long = frame_ - utterance_first_frame_ + 1 >= max_utterance_frames_;
            if (long_silence || past_bound || too_long) {
                end_turn();
            }
            break;
        }
    }
    if (interruption_pending_ && resume_at_ && state_ != State::kSpeaking &&
        frame_ >= *resume_at_) {
        resume(frame_);
    }
    processing_ = false;
    ++frame_;
}

void TurnDetector::start_candidate(std::span<const std::int16_t, kFrameSamples> frame) {
    state_ = State::kCandidate;
    utterance_.clear();
    if (utterance_.capacity() < kReservedSamples) {
        utterance_.reserve(pre_roll_frames_ * kFrameSamples + kReservedSamples);
    }
    // The ring's frames, oldest first.
    const std::size_t oldest =
        (ring_next_ + pre_roll_frames_ - ring_count_) % std::max<std::size_t>(1, pre_roll_frames_);
    for (std::size_t i = 0; i < ring_count_; ++i) {
        const std::size_t slot = (oldest + i) % pre_roll_frames_;
        const auto begin = ring_.begin() + static_cast<std::ptrdiff_t>(slot * kFrameSamples);
        utterance_.insert(utterance_.end(), begin, begin + kFrameSamples);
    }
    utterance_.insert(utterance_.end(), frame.begin(), frame.end());
    utterance_first_frame_ = frame_ - static_cast<std::int64_t>(ring_count_);
    ring_count_ = 0;
    ring_next_ = 0;
    speech_start_frame_ = frame_;
    last_voiced_ = frame_;
}

void TurnDetector::refill_pre_roll() {
    const std::size_t frames = utterance_.size() / kFrameSamples;
    ring_count_ = 0;
    ring_next_ = 0;
    for (std::size_t f = frames - std::min(frames, pre_roll_frames_); f < frames; ++f) {
        std::copy_n(utterance_.begin() + static_cast<std::ptrdiff_t>(f * kFrameSamples),
                    kFrameSamples,
                    ring_.begin() + static_cast<std::ptrdiff_t>(ring_next_ * kFrameSamples));
        ring_next_ = (ring_next_ + 1) % pre_roll_frames_;
        ++ring_count_;
    }
}

std::int64_t TurnDetector::frames_to_confirm() const {
    return assistant_ == AssistantSpeaking::kYes ? min_interruption_frames_ : min_speech_frames_;
}

void TurnDetector::confirm_speech() {
    state_ = State::kSpeaking;
    last_sustained_ = frame_;
    ++turn_;
    turn_is_interruption_ = assistant_ == AssistantSpeaking::kYes;
    if (interruption_pending_) {
        resume_at_.reset();  // the caller is talking: the check waits for this turn's end
    }
    if (turn_is_interruption_) {
        assistant_ = AssistantSpeaking::kNo;  // playback is being stopped
        if (false_interruption_frames_ > 0) {
            interruption_pending_ = true;
            barge_in_turn_ = turn_;
            interrupting_turn_ = turn_;
            resume_at_.reset();
        }
        emit(TurnEventKind::kBargeIn, frame_, turn_);
    } else {
        emit(TurnEventKind::kSpeechStarted, frame_, turn_);
    }
}

void TurnDetector::end_turn() {
    state_ = State::kIdle;
    refill_pre_roll();  // the newest frames become the pre-roll of whatever comes next
    const std::size_t frames = utterance_.size() / kFrameSamples;
    const std::int64_t keep_frames =
        std::min<std::int64_t>(static_cast<std::int64_t>(frames),
                               last_voiced_ + post_roll_frames_ + 1 - utterance_first_frame_);
    utterance_.resize(static_cast<std::size_t>(keep_frames) * kFrameSamples);

    Utterance utterance;
    utterance.audio = std::make_shared<const media::Pcm>(std::move(utterance_));
    utterance_ = media::Pcm{};
    utterance.first_frame = utterance_first_frame_;
    utterance.speech_start_frame = speech_start_frame_;
    utterance.last_voiced_frame = last_voiced_;
    utterance.interruption = turn_is_interruption_;
    if (interruption_pending_) {
        interrupting_turn_ = turn_;
        resume_at_ = frame_ + false_interruption_frames_;
    }
    emit(TurnEventKind::kEndOfTurn, frame_, turn_, std::move(utterance));
}

void TurnDetector::resume(std::int64_t frame) {
    interruption_pending_ = false;
    resume_at_.reset();
    emit(TurnEventKind::kResume, frame, interrupting_turn_);
}

void TurnDetector::emit(TurnEventKind kind,
                        std::int64_t frame,
                        std::uint64_t turn,
                        Utterance utterance) {
    if (!handler_) {
        return;
    }
    TurnEvent event;
    event.kind = kind;
    event.frame = frame;
    event.turn = turn;
    event.utterance = std::move(utterance);
    handler_(event);
}

}  // namespace tl::voice
