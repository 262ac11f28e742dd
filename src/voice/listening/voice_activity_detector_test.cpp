// The VAD on real synthetic speech (espeak-ng, flite) and on what a phone line carries besides
// speech: digital silence, white noise, tones. Speech boundaries are checked against where the
// synthetic audio is actually loud, to within a few 20 ms frames.

#include "voice/listening/voice_activity_detector.hpp"

#include <gtest/gtest.h>

#include <string>

#include "voice/listening/listening_test_audio.hpp"

namespace tl::voice {
namespace {

using test::concat;
using test::espeak;
using test::mix;
using test::silence;
using test::tone;
using test::white_noise;

constexpr long kPadMs = 600;
constexpr long kPadFrames = kPadMs / kFrameMs;

int count_voiced(const std::vector<VadFrame>& frames, long from = 0, long to = -1) {
    if (to < 0) {
        to = static_cast<long>(frames.size());
    }
    int count = 0;
    for (long f = from; f < to; ++f) {
        count += frames[static_cast<std::size_t>(f)].voiced ? 1 : 0;
    }
    return count;
}

long first_voiced(const std::vector<VadFrame>& frames) {
    for (std::size_t f = 0; f < frames.size(); ++f) {
        if (frames[f].voiced) {
            return static_cast<long>(f);
        }
    }
    return -1;
}

long last_voiced(const std::vector<VadFrame>& frames) {
    for (std::size_t f = frames.size(); f-- > 0;) {
        if (frames[f].voiced) {
            return static_cast<long>(f);
        }
    }
    return -1;
}

// Speech surrounded by `kPadMs` of `background` (silence when null): voiced frames begin where
// the speech does and end where it ends (to within 3 frames, 60 ms, of the first and last frame
// louder than -45 dBFS), cover most of it, and nothing outside is voiced.
void expect_speech_found(const media::Pcm& speech,
                         const media::Pcm* background,
                         const std::string& label) {
    const media::Pcm pad = silence(kPadMs);
    media::Pcm audio = concat({&pad, &speech, &pad});
    if (background != nullptr) {
        audio = mix(audio, *background);
    }
    const auto [loud_first, loud_last] = test::loud_frames(concat({&pad, &speech, &pad}), -45.0);
    ASSERT_GE(loud_first, kPadFrames) << label;

    VoiceActivityDetector vad;
    const auto frames = test::run_vad(vad, audio);
    const long first = first_voiced(frames);
    const long last = last_voiced(frames);
    EXPECT_NEAR(first, loud_first, 3) << label;
    EXPECT_NEAR(last, loud_last, 3) << label;
    const int inside = count_voiced(frames, loud_first, loud_last + 1);
    EXPECT_GE(inside, 0.6 * static_cast<double>(loud_last - loud_first + 1)) << label;
    EXPECT_EQ(count_voiced(frames, 0, loud_first - 3), 0) << label;
    EXPECT_EQ(count_voiced(frames, loud_last + 4), 0) << label;
    // The hangover carries `speech` a little past the last voiced frame, then it stops.
    ASSERT_LT(static_cast<std::size_t>(last + vad.config().hangover_frames + 1), frames.size());
    EXPECT_TRUE(frames[static_cast<std::size_t>(last + vad.config().hangover_frames)].speech);
    EXPECT_FALSE(frames[static_cast<std::size_t>(last + vad.config().hangover_frames + 1)].speech);
}

TEST(VoiceActivityDetector, DigitalSilenceIsNeverSpeech) {
    VoiceActivityDetector vad;
    const auto frames = test::run_vad(vad, silence(3000));
    EXPECT_EQ(count_voiced(frames), 0);
    for (const auto& f : frames) {
        EXPECT_FALSE(f.speech);
        EXPECT_LE(f.level_dbfs, -100.0F);
    }
}

TEST(VoiceActivityDetector, WhiteNoiseIsNotSpeech) {
    for (double level : {-60.0, -40.0, -30.0, -20.0}) {
        VoiceActivityDetector vad;
        const auto frames = test::run_vad(vad, white_noise(5000, level, 7));
        EXPECT_EQ(count_voiced(frames), 0) << level << " dBFS";
        // The level is measured in the 200-3400 Hz band (80% of white noise's power: -1 dB).
        EXPECT_NEAR(frames.back().level_dbfs, level - 1.0, 1.0);
        EXPECT_GT(frames.back().flatness, 0.4F);
    }
}

TEST(VoiceActivityDetector, NoiseStartingMidCallIsNotSpeech) {
    const media::Pcm quiet = white_noise(2000, -65, 3);
    const media::Pcm loud = white_noise(5000, -35, 4);
    VoiceActivityDetector vad;
    const auto frames = test::run_vad(vad, concat({&quiet, &loud}));
    EXPECT_EQ(count_voiced(frames), 0);
    // The floor follows the louder noise up within its 3 s window.
    EXPECT_NEAR(frames.back().noise_floor_dbfs, -36.0, 2.0);
}

TEST(VoiceActivityDetector, SteadyTonesAreNotSpeech) {
    struct Case {
        const char* name;
        media::Pcm audio;
    };
    const Case cases[] = {
        {"1 kHz at -20 dBFS", tone(1000, 3000, -20)},
        {"1 kHz at -40 dBFS", tone(1000, 3000, -40)},
        {"1 kHz over noise", mix(tone(1000, 3000, -20), white_noise(3000, -50, 5))},
        {"dial tone 350+440 Hz", mix(tone(350, 3000, -23), tone(440, 3000, -23))},
        {"DTMF 1 (697+1209 Hz)", mix(tone(697, 3000, -23), tone(1209, 3000, -23))},
        {"fax CNG 1100 Hz", tone(1100, 3000, -15)},
    };
    for (const auto& c : cases) {
        VoiceActivityDetector vad;
        const auto frames = test::run_vad(vad, c.audio);
        // A tone is recognised once it has held still for 3 frames: up to the first 5 frames
        // (100 ms) may pass for speech, never more, and `speech` ends with them.
        EXPECT_LE(count_voiced(frames), 5) << c.name;
        EXPECT_EQ(count_voiced(frames, 5), 0) << c.name;
        for (std::size_t f = 6; f < frames.size(); ++f) {
            EXPECT_TRUE(frames[f].tone) << c.name << " frame " << f;
            EXPECT_FALSE(frames[f].speech) << c.name << " frame " << f;
        }
    }
}

TEST(VoiceActivityDetector, FindsEspeakSpeechInSilence) {
    expect_speech_found(espeak("I want to talk to support please"), nullptr, "support");
    expect_speech_found(espeak("goodbye"), nullptr, "goodbye");
}

TEST(VoiceActivityDetector, FindsEspeakSpeechOverLowNoise) {
    const media::Pcm speech = espeak("I want to talk to support please");
    const std::size_t total = speech.size() + 2 * test::samples_for_ms(kPadMs);
    for (double level : {-55.0, -45.0}) {
        const media::Pcm noise = white_noise(static_cast<int>(total / 8), level, 11);
        expect_speech_found(speech, &noise, "noise at " + std::to_string(level) + " dBFS");
    }
}

TEST(VoiceActivityDetector, FindsSpeechAfterG711) {
    expect_speech_found(test::through_ulaw(espeak("can I speak to a human")), nullptr, "ulaw");
}

TEST(VoiceActivityDetector, FindsFliteVoices) {
    for (const char* voice : {"kal", "awb", "slt"}) {
        auto speech = test::flite(voice, "I want to talk to support please");
        ASSERT_TRUE(speech.has_value()) << speech.error().message;
        expect_speech_found(*speech, nullptr, voice);
    }
}

TEST(VoiceActivityDetector, SpeechFromTheFirstFrameIsHeard) {
    const media::Pcm speech = espeak("hello");
    const auto [loud_first, loud_last] = test::loud_frames(speech, -45.0);
    VoiceActivityDetector vad;
    const auto frames = test::run_vad(vad, speech);
    EXPECT_NEAR(first_voiced(frames), loud_first, 2);
}

TEST(VoiceActivityDetector, SpeechAfterAToneIsHeard) {
    // Ringback-like tone, then the caller speaks: the tone must not have lifted the noise floor.
    const media::Pcm ring = tone(440, 2000, -20);
    const media::Pcm gap = silence(300);
    const media::Pcm speech = espeak("I want to talk to support please");
    const media::Pcm audio = concat({&ring, &gap, &speech, &gap});
    const auto [loud_first, loud_last] = test::loud_frames(concat({&gap, &speech}), -45.0);
    const long speech_first = loud_first + 2000 / kFrameMs;
    VoiceActivityDetector vad;
    const auto frames = test::run_vad(vad, audio);
    EXPECT_EQ(count_voiced(frames, 6, 2000 / kFrameMs), 0);
    EXPECT_NEAR(
        first_voiced(std::vector<VadFrame>(frames.begin() + 2000 / kFrameMs, frames.end())) +
            2000 / kFrameMs,
        speech_first, 3);
}

TEST(VoiceActivityDetector, IsDeterministicAndResets) {
    const media::Pcm pad = silence(300);
    const media::Pcm speech = espeak("goodbye");
    const media::Pcm audio = mix(concat({&pad, &speech, &pad}), white_noise(2000, -50, 1));
    VoiceActivityDetector vad;
    const auto first = test::run_vad(vad, audio);
    vad.reset();
    const auto again = test::run_vad(vad, audio);
    ASSERT_EQ(first.size(), again.size());
    for (std::size_t f = 0; f < first.size(); ++f) {
        EXPECT_EQ(first[f].voiced, again[f].voiced) << f;
        EXPECT_EQ(first[f].speech, again[f].speech) << f;
        EXPECT_EQ(first[f].level_dbfs, again[f].level_dbfs) << f;
    }
}

TEST(VoiceActivityDetector, ThresholdsAreConfigurable) {
    // The same quiet speech is heard or not depending on min_level_dbfs.
    media::Pcm speech = espeak("goodbye");
    for (auto& s : speech) {
        s = static_cast<std::int16_t>(s / 100);  // -40 dB
    }
    const media::Pcm pad = silence(300);
    const media::Pcm audio = concat({&pad, &speech, &pad});
    VoiceActivityDetector deaf(VadConfig{.min_level_dbfs = -40.0});
    EXPECT_EQ(count_voiced(test::run_vad(deaf, audio)), 0);
    VoiceActivityDetector sensitive(VadConfig{.min_level_dbfs = -75.0});
    EXPECT_GT(count_voiced(test::run_vad(sensitive, audio)), 10);
}

}  // namespace
}  // namespace tl::voice
