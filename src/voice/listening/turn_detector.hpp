#pragma once
// Turn-taking on the caller's audio (docs/listening.md "Turn-taking"): when the caller starts
// speaking (or interrupts the assistant), when their turn ends, and when an interruption was a
// false alarm, driven by the VoiceActivityDetector and speech_config.turn_taking
// (api-contract.md §3.5). It also collects the utterance's audio for the recogniser.
//
// Time is counted in 20 ms frames of pushed audio, never read from a clock, so the same audio
// gives the same events at the same frames. Durations are rounded up to whole frames.
//
// Policy:
// - While the assistant speaks, the caller interrupts it (kBargeIn) after
//   `interruption_min_duration` of voiced frames; while it is silent, speech starts
//   (kSpeechStarted) after `min_speech_duration` (100 ms), because one-word answers are short:
//   measured, "no" and "hi" from several flite voices have 200-220 ms of voiced audio, which the
//   API's 300 ms default would miss. Gaps shorter than the VAD hangover do not reset the count; a
//   longer gap discards the attempt (a cough, a click). After a barge-in the detector takes the
//   assistant as silent (the caller of push() stops playback).
// - The turn ends `endpointing_min_delay` after the last voiced frame. There is no semantic
//   end-of-utterance model here to tell a finished sentence from a pause mid-sentence, so the
//   minimum delay is the rule and `endpointing_max_delay` is the bound: sounds too short to be
//   speech (shorter than `min_speech_duration`: clicks, line noise) restart the minimum delay
//   while the turn is ending, but never push its end further than `endpointing_max_delay` after
//   the last real speech. A turn also ends at `max_utterance`.
// - A barge-in is a false interruption when it brings no words: after the interrupting turn
//   ends, kResume follows if report_words() says it had fewer than max(1,
//   `interruption_min_words`) words, or if no report with enough words arrives within
//   `false_interruption_timeout`. Speech in the meantime suspends the timeout (the next turn
//   restarts it); set_assistant_speaking(kYes) or enough words settle it (no kResume). A null
//   timeout disables false-interruption handling.
//
// Hot path: push() allocates nothing per frame. The utterance buffer is reserved when a candidate
// utterance starts (once per turn; it grows geometrically only past 10 s), handed out as a
// shared_ptr at the end of the turn. No lock, no log.
// Thread-safety: none. One detector per call, used on the call's strand; the handler runs inside
// push() or report_words(), must not call push(), and may call the other methods.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp_session.hpp"
#include "voice/listening/voice_activity_detector.hpp"

namespace tl::voice {

struct TurnTakingConfig {
    // api-contract.md §3.5 speech_config.turn_taking, with its defaults.
    std::chrono::milliseconds endpointing_min_delay{400};
    std::chrono::milliseconds endpointing_max_delay{2000};  // below the minimum: the minimum
    std::chrono::milliseconds interruption_min_duration{300};
    int interruption_min_words = 0;
    std::optional<std::chrono::milliseconds> false_interruption_timeout{
        std::chrono::milliseconds{1500}};
    // Not in the API.
    // Voiced audio that starts a turn while the assistant is silent.
    std::chrono::milliseconds min_speech_duration{100};
    std::chrono::milliseconds pre_roll{200};   // audio kept from before speech started
    std::chrono::milliseconds post_roll{200};  // audio kept after the last voiced frame
    std::chrono::milliseconds max_utterance{30'000};
};

enum class TurnEventKind {
    kSpeechStarted,  // the caller started speaking (the assistant was silent)
    kBargeIn,        // the caller started speaking over the assistant: stop playback now
    kEndOfTurn,      // the caller finished; `utterance` holds what they said
    kResume,         // the last barge-in was a false interruption: the assistant may resume
};

struct Utterance {
    std::shared_ptr<const media::Pcm> audio;  // 8 kHz mono: pre-roll, speech, post-roll
    std::int64_t first_frame = 0;             // frame index of audio[0]
    std::int64_t speech_start_frame = 0;      // first voiced frame
    std::int64_t last_voiced_frame = 0;
    bool interruption = false;  // the turn began with a barge-in
};

struct TurnEvent {
    TurnEventKind kind = TurnEventKind::kSpeechStarted;
    std::int64_t frame = 0;  // index of the frame that completed the event (report_words(): the
                             // last frame pushed)
    std::uint64_t turn = 0;  // 1, 2, ...: the turn this event belongs to (kResume: the
                             // interrupting turn)
    Utterance utterance;     // kEndOfTurn only
};

enum class AssistantSpeaking { kNo, kYes };

class TurnDetector {
public:
    using Handler = std::function<void(const TurnEvent&)>;

    TurnDetector(TurnTakingConfig config, VadConfig vad, Handler handler);

    // Caller audio, 8 kHz mono, any length (RTP packets of 10, 20 or 30 ms); frames are cut every
    // 160 samples and a remainder waits for the next call.
    void push(std::span<const std::int16_t> audio);

    // Whether the assistant's audio is playing: decides between kBargeIn and kSpeechStarted.
    // kYes also settles a pending false-interruption check (the assistant moved on).
    void set_assistant_speaking(AssistantSpeaking speaking);

    // The recogniser's word count for turn `turn` (from its kEndOfTurn). May emit kResume
    // through the handler before returning. Reports for turns that were not interruptions, or
    // that arrive after the check was settled, are ignored.
    void report_words(std::uint64_t turn, std::size_t words);

    std::int64_t frames() const { return frame_; }  // whole frames processed so far
    bool caller_speaking() const { return state_ == State::kSpeaking; }
    const VadFrame& last_vad() const { return last_vad_; }

private:
    enum class State { kIdle, kCandidate, kSpeaking };

    void process_frame(std::span<const std::int16_t, kFrameSamples> frame);
    void start_candidate(std::span<const std::int16_t, kFrameSamples> frame);
    void refill_pre_roll();  // from the tail of the utterance buffer
    std::int64_t frames_to_confirm() const;
    void confirm_speech();
    void end_turn();
    void resume(std::int64_t frame);
    void emit(TurnEventKind kind, std::int64_t frame, std::uint64_t turn, Utterance utterance = {});

    TurnTakingConfig config_;
    VoiceActivityDetector vad_;
    Handler handler_;
    // Durations in frames.
    std::int64_t min_delay_frames_;
    std::int64_t max_delay_frames_;
    std::int64_t min_interruption_frames_;
    std::int64_t min_speech_frames_;
    std::int64_t false_interruption_frames_;  // 0: disabled
    std::int64_t post_roll_frames_;
    std::int64_t max_utterance_frames_;
    std::size_t pre_roll_frames_;

    std::array<std::int16_t, kFrameSamples> carry_{};
    std::size_t carry_size_ = 0;
    std::int64_t frame_ = 0;  // index of the next frame (of this one, while processing it)
    bool processing_ = false;
    VadFrame last_vad_;

    // Pre-roll: a ring of the last frames while no utterance is being collected.
    std::vector<std::int16_t> ring_;
    std::size_t ring_next_ = 0;   // frame slot to write next
    std::size_t ring_count_ = 0;  // frames held

    State state_ = State::kIdle;
    AssistantSpeaking assistant_ = AssistantSpeaking::kNo;
    media::Pcm utterance_;
    std::int64_t utterance_first_frame_ = 0;
    std::int64_t speech_start_frame_ = 0;
    std::int64_t voiced_in_burst_ = 0;  // voiced frames since the current burst began
    std::int64_t last_voiced_ = 0;
    std::int64_t last_sustained_ = 0;  // last voiced frame of a burst long enough to be speech
    bool turn_is_interruption_ = false;
    std::uint64_t turn_ = 0;

    // False-interruption check.
    bool interruption_pending_ = false;
    std::uint64_t barge_in_turn_ = 0;        // the turn that interrupted the assistant
    std::uint64_t interrupting_turn_ = 0;    // the latest turn since then (it decides)
    std::optional<std::int64_t> resume_at_;  // frame at which kResume fires
};

}  // namespace tl::voice
