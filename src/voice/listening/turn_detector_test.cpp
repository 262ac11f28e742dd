// Turn-taking on real synthetic speech: events land on the frame the policy says, to within a
// few 20 ms frames of where the speech really starts and ends (the first and last frame louder
// than -45 dBFS), and the utterance handed out is the caller's audio with its pre-roll.

#include "voice/listening/turn_detector.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "voice/listening/listening_test_audio.hpp"

namespace tl::voice {
namespace {

using namespace std::chrono_literals;
using test::concat;
using test::espeak;
using test::silence;

constexpr long kPadMs = 1000;
constexpr long kPadFrames = kPadMs / kFrameMs;

struct Recorder {
    std::vector<TurnEvent> events;
    TurnDetector::Handler handler() {
        return [this](const TurnEvent& e) { events.push_back(e); };
    }
    std::vector<TurnEventKind> kinds() const {
        std::vector<TurnEventKind> out;
        for (const auto& e : events) {
            out.push_back(e.kind);
        }
        return out;
    }
    const TurnEvent* find(TurnEventKind kind, std::size_t nth = 0) const {
        for (const auto& e : events) {
            if (e.kind == kind && nth-- == 0) {
                return &e;
            }
        }
        return nullptr;
    }
};

void push_in_chunks(TurnDetector& detector, const media::Pcm& audio, std::size_t chunk) {
    for (std::size_t i = 0; i < audio.size(); i += chunk) {
        detector.push(
            std::span<const std::int16_t>(audio).subspan(i, std::min(chunk, audio.size() - i)));
    }
}

// Where speech is in `audio` (frames louder than -45 dBFS).
struct Loud {
    long first;
    long last;
};
Loud loud(const media::Pcm& audio) {
    const auto [first, last] = test::loud_frames(audio, -45.0);
    return {first, last};
}

const media::Pcm& support_phrase() {
    static const media::Pcm pcm = espeak("I want to talk to support please");
    return pcm;
}

media::Pcm padded(const media::Pcm& speech, int after_ms = kPadMs) {
    const media::Pcm before = silence(kPadMs);
    const media::Pcm after = silence(after_ms);
    return concat({&before, &speech, &after});
}

TEST(TurnDetector, OneUtteranceStartsAndEndsWhereTheSpeechDoes) {
    const media::Pcm audio = padded(support_phrase());
    const Loud speech = loud(audio);
    Recorder rec;
    TurnDetector detector({}, {}, rec.handler());
    push_in_chunks(detector, audio, kFrameSamples);

    ASSERT_EQ(rec.kinds(), (std::vector{TurnEventKind::kSpeechStarted, TurnEventKind::kEndOfTurn}));
    const TurnEvent& started = rec.events[0];
    const TurnEvent& ended = rec.events[1];
    EXPECT_EQ(started.turn, 1U);
    EXPECT_EQ(ended.turn, 1U);
    // Defaults: 100 ms (5 frames) of voiced audio start speech while the assistant is silent;
    // 400 ms (20 frames) of silence end the turn.
    EXPECT_NEAR(started.frame, speech.first + 4, 3);
    EXPECT_NEAR(ended.frame, speech.last + 20, 3);
    const Utterance& u = ended.utterance;
    EXPECT_NEAR(u.speech_start_frame, speech.first, 3);
    EXPECT_NEAR(u.last_voiced_frame, speech.last, 3);
    EXPECT_EQ(ended.frame, u.last_voiced_frame + 20);
    EXPECT_FALSE(u.interruption);

    // The utterance is exactly the caller's audio from 200 ms (10 frames) before speech to
    // 200 ms after the last voiced frame.
    EXPECT_EQ(u.first_frame, u.speech_start_frame - 10);
    ASSERT_TRUE(u.audio);
    const std::size_t frames =
        static_cast<std::size_t>(u.last_voiced_frame + 10 + 1 - u.first_frame);
    ASSERT_EQ(u.audio->size(), frames * kFrameSamples);
    const auto begin = audio.begin() + static_cast<std::ptrdiff_t>(u.first_frame) * kFrameSamples;
    EXPECT_TRUE(std::equal(u.audio->begin(), u.audio->end(), begin));
    EXPECT_EQ(detector.frames(), static_cast<std::int64_t>(audio.size() / kFrameSamples));
}

TEST(TurnDetector, EventsDoNotDependOnPacketSize) {
    const media::Pcm audio = padded(support_phrase());
    Recorder by_frame;
    TurnDetector a({}, {}, by_frame.handler());
    push_in_chunks(a, audio, kFrameSamples);
    for (std::size_t chunk : {80U, 240U, 70U, 1U, 4000U}) {
        Recorder rec;
        TurnDetector b({}, {}, rec.handler());
        push_in_chunks(b, audio, chunk);
        ASSERT_EQ(rec.kinds(), by_frame.kinds()) << chunk;
        for (std::size_t i = 0; i < rec.events.size(); ++i) {
            EXPECT_EQ(rec.events[i].frame, by_frame.events[i].frame) << chunk;
        }
        EXPECT_EQ(*rec.events[1].utterance.audio, *by_frame.events[1].utterance.audio) << chunk;
    }
}

TEST(TurnDetector, BargeInWhileTheAssistantSpeaks) {
    const media::Pcm audio = padded(support_phrase());
    const Loud speech = loud(audio);
    Recorder rec;
    TurnDetector detector({}, {}, rec.handler());
    detector.set_assistant_speaking(AssistantSpeaking::kYes);
    push_in_chunks(detector, audio, kFrameSamples);
    ASSERT_GE(rec.events.size(), 2U);
    EXPECT_EQ(rec.events[0].kind, TurnEventKind::kBargeIn);
    // interruption_min_duration: 300 ms, 15 frames.
    EXPECT_NEAR(rec.events[0].frame, speech.first + 14, 3);
    EXPECT_EQ(rec.events[1].kind, TurnEventKind::kEndOfTurn);
    EXPECT_TRUE(rec.events[1].utterance.interruption);
}

TEST(TurnDetector, InterruptionMinDurationSetsWhenABargeInHappens) {
    const media::Pcm audio = padded(support_phrase());
    const Loud speech = loud(audio);
    for (auto min_duration : {100ms, 300ms, 600ms}) {
        Recorder rec;
        TurnDetector detector({.interruption_min_duration = min_duration}, {}, rec.handler());
        detector.set_assistant_speaking(AssistantSpeaking::kYes);
        push_in_chunks(detector, audio, kFrameSamples);
        const TurnEvent* started = rec.find(TurnEventKind::kBargeIn);
        ASSERT_NE(started, nullptr) << min_duration.count();
        const long frames = static_cast<long>(min_duration / 20ms);
        // Voiced frames are counted, so gaps inside words make it a little later, never earlier.
        EXPECT_GE(started->frame, speech.first + frames - 1 - 3) << min_duration.count();
        EXPECT_LE(started->frame, speech.first + frames - 1 + 6) << min_duration.count();
    }
}

media::Pcm vowel_slice(int frames) {
    const media::Pcm vowel = espeak("ah");
    const Loud v = loud(vowel);
    EXPECT_GE(v.last - v.first, 8);
    return media::Pcm(vowel.begin() + (v.first + 1) * kFrameSamples,
                      vowel.begin() + (v.first + 1 + frames) * kFrameSamples);
}

TEST(TurnDetector, ShortSoundsAreNotSpeech) {
    // 120 ms of a vowel does not interrupt the assistant (interruption_min_duration 300 ms)...
    {
        Recorder rec;
        TurnDetector detector({}, {}, rec.handler());
        detector.set_assistant_speaking(AssistantSpeaking::kYes);
        push_in_chunks(detector, padded(vowel_slice(6)), kFrameSamples);
        EXPECT_TRUE(rec.events.empty());
    }
    // ...and 60 ms (a click) does not start a turn even when it is silent (min_speech_duration
    // 100 ms).
    {
        Recorder rec;
        TurnDetector detector({}, {}, rec.handler());
        push_in_chunks(detector, padded(vowel_slice(3)), kFrameSamples);
        EXPECT_TRUE(rec.events.empty());
    }
}

TEST(TurnDetector, ShortAnswersAreTurnsButNotInterruptions) {
    // One-word answers with 200-220 ms of voiced audio (measured): a turn when the assistant
    // waits for an answer, not enough to interrupt it.
    for (const auto& [voice, word] : {std::pair{"kal", "no"}, std::pair{"slt", "hi"}}) {
        auto speech = test::flite(voice, word);
        ASSERT_TRUE(speech.has_value()) << speech.error().message;
        const media::Pcm audio = padded(*speech);
        Recorder answer;
        TurnDetector waiting({}, {}, answer.handler());
        push_in_chunks(waiting, audio, kFrameSamples);
        EXPECT_EQ(answer.kinds(),
                  (std::vector{TurnEventKind::kSpeechStarted, TurnEventKind::kEndOfTurn}))
            << voice << " " << word;
        Recorder interruption;
        TurnDetector talking({}, {}, interruption.handler());
        talking.set_assistant_speaking(AssistantSpeaking::kYes);
        push_in_chunks(talking, audio, kFrameSamples);
        EXPECT_TRUE(interruption.events.empty()) << voice << " " << word;
    }
}

TEST(TurnDetector, MinSpeechDurationSetsWhenSpeechStarts) {
    const media::Pcm audio = padded(support_phrase());
    const Loud speech = loud(audio);
    for (auto min_duration : {20ms, 100ms, 400ms}) {
        Recorder rec;
        TurnDetector detector({.min_speech_duration = min_duration}, {}, rec.handler());
        push_in_chunks(detector, audio, kFrameSamples);
        const TurnEvent* started = rec.find(TurnEventKind::kSpeechStarted);
        ASSERT_NE(started, nullptr) << min_duration.count();
        const long frames = static_cast<long>(min_duration / 20ms);
        EXPECT_GE(started->frame, speech.first + frames - 1 - 3) << min_duration.count();
        EXPECT_LE(started->frame, speech.first + frames - 1 + 6) << min_duration.count();
    }
}

TEST(TurnDetector, TonesAndNoiseAreNotSpeech) {
    Recorder rec;
    TurnDetector detector({}, {}, rec.handler());
    detector.set_assistant_speaking(AssistantSpeaking::kYes);
    push_in_chunks(detector, test::tone(1000, 3000, -20), kFrameSamples);
    push_in_chunks(detector, test::mix(test::tone(350, 3000, -23), test::tone(440, 3000, -23)),
                   kFrameSamples);
    push_in_chunks(detector, test::white_noise(3000, -40, 9), kFrameSamples);
    EXPECT_TRUE(rec.events.empty());
}

TEST(TurnDetector, AShortPauseKeepsTheTurnALongOneEndsIt) {
    const media::Pcm first = espeak("I want to talk to");
    const media::Pcm second = espeak("support please");
    for (int pause_ms : {200, 800}) {
        const media::Pcm pause = silence(pause_ms);
        const media::Pcm audio = padded(concat({&first, &pause, &second}));
        Recorder rec;
        TurnDetector detector({}, {}, rec.handler());  // endpointing_min_delay 400 ms
        push_in_chunks(detector, audio, kFrameSamples);
        std::size_t turns = 0;
        for (const auto& e : rec.events) {
            if (e.kind != TurnEventKind::kEndOfTurn) {
                continue;
            }
            ++turns;
            // Each utterance, the second's pre-roll included, is the caller's audio unchanged.
            const Utterance& u = e.utterance;
            EXPECT_EQ(u.first_frame, u.speech_start_frame - 10);
            const auto begin =
                audio.begin() + static_cast<std::ptrdiff_t>(u.first_frame) * kFrameSamples;
            EXPECT_TRUE(std::equal(u.audio->begin(), u.audio->end(), begin)) << pause_ms;
        }
        EXPECT_EQ(turns, pause_ms < 400 ? 1U : 2U) << pause_ms;
    }
}

TEST(TurnDetector, EndpointingMinDelaySetsWhenTheTurnEnds) {
    const media::Pcm audio = padded(support_phrase(), 2000);
    const Loud speech = loud(audio);
    for (auto delay : {200ms, 400ms, 1000ms}) {
        Recorder rec;
        TurnDetector detector({.endpointing_min_delay = delay}, {}, rec.handler());
        push_in_chunks(detector, audio, kFrameSamples);
        const TurnEvent* ended = rec.find(TurnEventKind::kEndOfTurn);
        ASSERT_NE(ended, nullptr) << delay.count();
        EXPECT_EQ(ended->frame, ended->utterance.last_voiced_frame + delay / 20ms);
        EXPECT_NEAR(ended->frame, speech.last + delay / 20ms, 3) << delay.count();
    }
}

TEST(TurnDetector, EndpointingMaxDelayBoundsTheWaitWhenShortSoundsFollow) {
    // After the sentence, 60 ms clicks every 300 ms: each restarts the 400 ms minimum delay, so
    // without the bound the turn would never end. It ends at the first quiet frame 1 s after the
    // last real speech.
    const media::Pcm click = vowel_slice(3);
    const media::Pcm gap = silence(240);
    media::Pcm tail;
    for (int i = 0; i < 10; ++i) {
        tail = concat({&tail, &gap, &click});
    }
    const media::Pcm audio = padded(concat({&support_phrase(), &tail}));
    const Loud speech = loud(padded(support_phrase()));

    Recorder rec;
    TurnDetector detector({.endpointing_min_delay = 400ms, .endpointing_max_delay = 1000ms}, {},
                          rec.handler());
    push_in_chunks(detector, audio, kFrameSamples);
    const TurnEvent* ended = rec.find(TurnEventKind::kEndOfTurn);
    ASSERT_NE(ended, nullptr);
    EXPECT_GE(ended->frame, speech.last + 50 - 3);
    EXPECT_LE(ended->frame, speech.last + 50 + 6);  // the first frame after a click
    EXPECT_GT(ended->utterance.last_voiced_frame, speech.last + 10);  // the clicks were heard
    // The clicks after the end are too short to start a new turn.
    EXPECT_EQ(rec.events.size(), 2U);

    // With the bound as long as the clicks last, the turn ends only after them.
    Recorder patient;
    TurnDetector slow({.endpointing_min_delay = 400ms, .endpointing_max_delay = 5000ms}, {},
                      patient.handler());
    push_in_chunks(slow, audio, kFrameSamples);
    const TurnEvent* late = patient.find(TurnEventKind::kEndOfTurn);
    ASSERT_NE(late, nullptr);
    EXPECT_GT(late->frame, speech.last + 140);
    EXPECT_EQ(late->frame, late->utterance.last_voiced_frame + 20);
}

TEST(TurnDetector, MaxUtteranceEndsAnEndlessTurn) {
    const media::Pcm audio = padded(support_phrase());
    Recorder rec;
    TurnDetector detector({.max_utterance = 1000ms}, {}, rec.handler());
    push_in_chunks(detector, audio, kFrameSamples);
    const TurnEvent* ended = rec.find(TurnEventKind::kEndOfTurn);
    ASSERT_NE(ended, nullptr);
    EXPECT_EQ(ended->frame, ended->utterance.first_frame + 49);
}

// A barge-in with `words` reported for it (none: no report).
struct FalseInterruptionRun {
    Recorder rec;
    const TurnEvent* ended = nullptr;
};

void run_barge_in(FalseInterruptionRun& run,
                  TurnTakingConfig config,
                  std::optional<std::size_t> words,
                  int silence_after_ms = 3000) {
    TurnDetector detector(config, {}, run.rec.handler());
    detector.set_assistant_speaking(AssistantSpeaking::kYes);
    push_in_chunks(detector, padded(espeak("goodbye"), 0), kFrameSamples);
    const media::Pcm rest = silence(silence_after_ms);
    for (std::size_t i = 0; i < rest.size(); i += kFrameSamples) {
        detector.push(std::span<const std::int16_t>(rest).subspan(i, kFrameSamples));
        if (run.rec.events.size() == 2 && run.rec.events[1].kind == TurnEventKind::kEndOfTurn &&
            words) {
            detector.report_words(run.rec.events[1].turn, *words);
            words.reset();
        }
    }
    run.ended = run.rec.find(TurnEventKind::kEndOfTurn);
}

TEST(TurnDetector, FalseInterruptionResumesAfterTheTimeout) {
    FalseInterruptionRun run;
    run_barge_in(run, {}, std::nullopt);
    ASSERT_EQ(run.rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn,
                                            TurnEventKind::kResume}));
    EXPECT_EQ(run.rec.events[2].frame, run.ended->frame + 75);  // 1.5 s
    EXPECT_EQ(run.rec.events[2].turn, 1U);
}

TEST(TurnDetector, FalseInterruptionResumesAtOnceWhenNoWordsWereHeard) {
    FalseInterruptionRun run;
    run_barge_in(run, {}, 0);
    ASSERT_EQ(run.rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn,
                                            TurnEventKind::kResume}));
    EXPECT_EQ(run.rec.events[2].frame, run.ended->frame);  // reported right after that frame
}

TEST(TurnDetector, WordsMakeTheInterruptionReal) {
    FalseInterruptionRun run;
    run_barge_in(run, {}, 1);
    EXPECT_EQ(run.rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn}));
}

TEST(TurnDetector, InterruptionMinWordsDecidesHowManyWordsAreEnough) {
    FalseInterruptionRun two;
    run_barge_in(two, {.interruption_min_words = 3}, 2);
    EXPECT_EQ(two.rec.kinds().back(), TurnEventKind::kResume);
    FalseInterruptionRun three;
    run_barge_in(three, {.interruption_min_words = 3}, 3);
    EXPECT_EQ(three.rec.kinds().back(), TurnEventKind::kEndOfTurn);
}

TEST(TurnDetector, NullFalseInterruptionTimeoutNeverResumes) {
    FalseInterruptionRun none;
    run_barge_in(none, {.false_interruption_timeout = std::nullopt}, 0);
    EXPECT_EQ(none.rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn}));
}

TEST(TurnDetector, SpeakingAgainSuspendsTheFalseInterruptionCheck) {
    // Barge-in with "goodbye", then 600 ms later the caller speaks again: the second turn is not
    // a barge-in (the assistant stopped) and the check restarts when it ends.
    const media::Pcm goodbye = espeak("goodbye");
    const media::Pcm gap = silence(600);
    const media::Pcm audio = padded(concat({&goodbye, &gap, &support_phrase()}), 3000);
    Recorder rec;
    TurnDetector detector({}, {}, rec.handler());
    detector.set_assistant_speaking(AssistantSpeaking::kYes);
    push_in_chunks(detector, audio, kFrameSamples);
    ASSERT_EQ(rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn,
                                        TurnEventKind::kSpeechStarted, TurnEventKind::kEndOfTurn,
                                        TurnEventKind::kResume}));
    EXPECT_EQ(rec.events[4].turn, 2U);
    EXPECT_EQ(rec.events[4].frame, rec.events[3].frame + 75);
}

TEST(TurnDetector, AssistantSpeakingAgainSettlesTheCheck) {
    Recorder rec;
    TurnDetector detector({}, {}, rec.handler());
    detector.set_assistant_speaking(AssistantSpeaking::kYes);
    push_in_chunks(detector, padded(espeak("goodbye"), 0), kFrameSamples);
    detector.push(silence(600));
    ASSERT_EQ(rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn}));
    detector.set_assistant_speaking(AssistantSpeaking::kYes);  // the assistant answers
    detector.push(silence(3000));
    detector.report_words(1, 0);  // too late: settled
    EXPECT_EQ(rec.kinds(), (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn}));
}

TEST(TurnDetector, HandlerMayCallBackIntoTheDetector) {
    // The lead's pattern: report words straight from the end-of-turn handler.
    std::vector<TurnEventKind> kinds;
    TurnDetector* self = nullptr;
    TurnDetector detector({}, {}, [&](const TurnEvent& e) {
        kinds.push_back(e.kind);
        if (e.kind == TurnEventKind::kEndOfTurn) {
            self->report_words(e.turn, 0);
        }
        if (e.kind == TurnEventKind::kResume) {
            self->set_assistant_speaking(AssistantSpeaking::kYes);
        }
    });
    self = &detector;
    detector.set_assistant_speaking(AssistantSpeaking::kYes);
    push_in_chunks(detector, padded(espeak("goodbye"), 2000), kFrameSamples);
    EXPECT_EQ(kinds, (std::vector{TurnEventKind::kBargeIn, TurnEventKind::kEndOfTurn,
                                  TurnEventKind::kResume}));
}

}  // namespace
}  // namespace tl::voice
