// espeak-ng for real: the audio must be 8 kHz speech of the right length and band, in the
// requested language, and intelligible enough for PocketSphinx to find the greeting's words.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "voice/testing/sphinx_transcriber.hpp"
#include "voice/text_to_speech.hpp"

namespace tl::voice {
namespace {

constexpr int kRate = 8000;
constexpr const char* kGreeting = "Welcome to Acme support";

double rms(const media::Pcm& pcm) {
    double sum = 0;
    for (auto s : pcm) {
        sum += static_cast<double>(s) * s;
    }
    return pcm.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(pcm.size()));
}

// Power per frequency bin (kRate / kFrame Hz wide), summed over Hann-windowed frames.
constexpr std::size_t kFrame = 512;
std::vector<double> power_spectrum(const media::Pcm& pcm) {
    std::vector<double> power(kFrame / 2, 0.0);
    std::vector<double> window(kFrame);
    for (std::size_t n = 0; n < kFrame; ++n) {
        window[n] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * n / (kFrame - 1));
    }
    for (std::size_t start = 0; start + kFrame <= pcm.size(); start += kFrame) {
        for (std::size_t k = 1; k < kFrame / 2; ++k) {
            double re = 0;
            double im = 0;
            for (std::size_t n = 0; n < kFrame; ++n) {
                const double x = pcm[start + n] * window[n];
                const double phase = 2 * std::numbers::pi * k * n / kFrame;
                re += x * std::cos(phase);
                im -= x * std::sin(phase);
            }
            power[k] += re * re + im * im;
        }
    }
    return power;
}

// espeak-ng is not bit-exact from run to run (its voices add random pitch flutter, so waveforms
// drift apart), so "the same audio" compares spectrograms: the correlation of log band energies
// over 32 ms frames, which follows what was said and by which voice, not the waveform's phase.
std::vector<double> log_spectrogram(const media::Pcm& pcm) {
    constexpr std::size_t kBins = 128;  // 256-sample frames, 31.25 Hz bins
    constexpr std::size_t kBandBins = 8;
    std::vector<double> features;
    for (std::size_t start = 0; start + 2 * kBins <= pcm.size(); start += 2 * kBins) {
        for (std::size_t band = 0; band < kBins / kBandBins; ++band) {
            double energy = 1.0;
            for (std::size_t k = band * kBandBins; k < (band + 1) * kBandBins; ++k) {
                double re = 0;
                double im = 0;
                for (std::size_t n = 0; n < 2 * kBins; ++n) {
                    const double phase = std::numbers::pi * static_cast<double>(k * n) / kBins;
                    re += pcm[start + n] * std::cos(phase);
                    im -= pcm[start + n] * std::sin(phase);
                }
                energy += re * re + im * im;
            }
            features.push_back(std::log(energy));
        }
    }
    return features;
}

// Mean cosine similarity of spectrogram frames after dynamic time warping (so a slightly slower
// or faster rendering of the same words by the same voice still matches): near 1 for the same
// words in the same voice, far lower for another language's voice.
double similarity(const media::Pcm& a, const media::Pcm& b) {
    constexpr std::size_t kBands = 16;
    auto frames = [&](const media::Pcm& pcm) {
        auto flat = log_spectrogram(pcm);
        const std::size_t count = flat.size() / kBands;
        std::vector<double> mean(kBands, 0.0);
        for (std::size_t f = 0; f < count; ++f) {
            for (std::size_t b = 0; b < kBands; ++b) {
                mean[b] += flat[f * kBands + b] / static_cast<double>(count);
            }
        }
        std::vector<std::vector<double>> out(count, std::vector<double>(kBands));
        for (std::size_t f = 0; f < count; ++f) {
            for (std::size_t b = 0; b < kBands; ++b) {
                out[f][b] = flat[f * kBands + b] - mean[b];
            }
        }
        return out;
    };
    const auto fa = frames(a);
    const auto fb = frames(b);
    if (fa.empty() || fb.empty()) {
        return 0.0;
    }
    auto cosine = [](const std::vector<double>& x, const std::vector<double>& y) {
        double xy = 0;
        double xx = 0;
        double yy = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            xy += x[i] * y[i];
            xx += x[i] * x[i];
            yy += y[i] * y[i];
        }
        return (xx == 0 || yy == 0) ? 0.0 : xy / std::sqrt(xx * yy);
    };
    // cost[i][j]: least total (1 - cosine) over paths to (i, j); steps[i][j]: that path's length.
    const std::size_t n = fa.size();
    const std::size_t m = fb.size();
    constexpr double kInf = 1e300;
    std::vector<std::vector<double>> cost(n + 1, std::vector<double>(m + 1, kInf));
    std::vector<std::vector<int>> steps(n + 1, std::vector<int>(m + 1, 0));
    cost[0][0] = 0;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const double d = 1.0 - cosine(fa[i - 1], fb[j - 1]);
            std::size_t pi = i - 1;
            std::size_t pj = j - 1;
            if (cost[i - 1][j] < cost[pi][pj]) {
                pj = j;
            }
            if (cost[i][j - 1] < cost[pi][pj]) {
                pi = i;
                pj = j - 1;
            }
            cost[i][j] = cost[pi][pj] + d;
            steps[i][j] = steps[pi][pj] + 1;
        }
    }
    return 1.0 - cost[n][m] / steps[n][m];
}

double bin_hz(std::size_t k) { return static_cast<double>(k) * kRate / kFrame; }

void expect_plausible_speech(const media::Pcm& pcm, double min_s, double max_s) {
    const double seconds = static_cast<double>(pcm.size()) / kRate;
    EXPECT_GE(seconds, min_s);
    EXPECT_LE(seconds, max_s);
    // Full-scale is 32767; espeak speaks around -20 dBFS, silence (and dither) is under 30.
    EXPECT_GT(rms(pcm), 1000.0);
}

PcmPtr synthesize_ok(TextToSpeech& tts, const std::string& text, const std::string& language) {
    auto result = tts.synthesize(text, language);
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
    return result ? *result : PcmPtr{};
}

TEST(EspeakTts, GreetingIsTelephoneBandSpeechOfPlausibleLength) {
    auto tts = make_espeak_tts();
    EXPECT_EQ(tts->name(), "espeak-ng");
    const auto started = std::chrono::steady_clock::now();
    PcmPtr pcm = synthesize_ok(*tts, kGreeting, "en");
    const auto elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
    ASSERT_TRUE(pcm);
    RecordProperty("synthesis_ms", std::to_string(elapsed.count()));
    std::printf("greeting: %.2f s of audio synthesised in %.1f ms\n",
                static_cast<double>(pcm->size()) / kRate, elapsed.count());
    expect_plausible_speech(*pcm, 0.8, 4.0);

    const auto power = power_spectrum(*pcm);
    std::size_t peak = 1;
    double total = 0;
    double in_band = 0;
    for (std::size_t k = 1; k < power.size(); ++k) {
        total += power[k];
        if (bin_hz(k) >= 100 && bin_hz(k) <= 3400) {
            in_band += power[k];
        }
        if (power[k] > power[peak]) {
            peak = k;
        }
    }
    EXPECT_GE(bin_hz(peak), 100.0);
    EXPECT_LE(bin_hz(peak), 3400.0);
    EXPECT_GT(in_band / total, 0.9) << "energy outside the telephone band";
}

TEST(EspeakTts, DutchSpeaksWithTheDutchVoice) {
    auto tts = make_espeak_tts();
    PcmPtr dutch = synthesize_ok(*tts, "Welkom bij de klantenservice van Acme", "nl");
    ASSERT_TRUE(dutch);
    expect_plausible_speech(*dutch, 1.0, 5.0);
}

TEST(EspeakTts, LanguagesGiveDifferentAudio) {
    auto tts = make_espeak_tts();
    PcmPtr en = synthesize_ok(*tts, kGreeting, "en");
    PcmPtr nl = synthesize_ok(*tts, kGreeting, "nl");
    PcmPtr de = synthesize_ok(*tts, kGreeting, "de");
    ASSERT_TRUE(en && nl && de);
    EXPECT_LT(similarity(*en, *nl), 0.85);
    EXPECT_LT(similarity(*en, *de), 0.85);
    EXPECT_LT(similarity(*nl, *de), 0.85);
    // Switching back gives the English voice again (the voice is global espeak state). Not
    // sample-exact, nor always frame-exact: espeak-ng 1.51 keeps some state across voices when a
    // voice has read words of another language, so this compares with the other voices.
    PcmPtr en_again = synthesize_ok(*tts, kGreeting, "en");
    ASSERT_TRUE(en_again);
    EXPECT_GT(similarity(*en, *en_again), similarity(*de, *en_again));
    EXPECT_GT(similarity(*en, *en_again), similarity(*nl, *en_again));
}

TEST(EspeakTts, UnknownOrAutoLanguageFallsBackToAmericanEnglish) {
    auto tts = make_espeak_tts();
    PcmPtr en = synthesize_ok(*tts, kGreeting, "en");
    PcmPtr en_us = synthesize_ok(*tts, kGreeting, "en-US");
    ASSERT_TRUE(en && en_us);
    EXPECT_GT(similarity(*en, *en_us), 0.93);
    for (const char* language : {"", "multi", "xx", "zz-zz", "../../etc/passwd", "en us"}) {
        PcmPtr pcm = synthesize_ok(*tts, kGreeting, language);
        ASSERT_TRUE(pcm) << language;
        EXPECT_GT(similarity(*pcm, *en), 0.93) << "language '" << language << "'";
    }
    // British English is a different voice, reachable by its own code.
    PcmPtr en_gb = synthesize_ok(*tts, kGreeting, "en-gb");
    ASSERT_TRUE(en_gb);
    EXPECT_LT(similarity(*en_gb, *en), similarity(*en_us, *en));
}

TEST(EspeakTts, RejectsBadText) {
    auto tts = make_espeak_tts();
    struct Case {
        const char* name;
        std::string text;
    };
    const Case cases[] = {
        {"empty", ""},
        {"too long", std::string(4097, 'a')},
        {"invalid UTF-8", "caf\xC3"},
        {"overlong UTF-8", "\xC0\xAF"},
        {"surrogate", "\xED\xA0\x80"},
        {"embedded NUL", std::string("hello\0world", 11)},
    };
    for (const auto& c : cases) {
        auto result = tts->synthesize(c.text, "en");
        ASSERT_FALSE(result.has_value()) << c.name;
        EXPECT_EQ(result.error().code, Errc::kInvalidRequest) << c.name;
        EXPECT_FALSE(result.error().message.empty()) << c.name;
    }
    // Control characters are read as spaces, not as espeak's embedded commands.
    EXPECT_TRUE(tts->synthesize("Hello\x01"
                                "50S world\tagain",
                                "en")
                    .has_value());
    // Multi-byte UTF-8 is fine.
    EXPECT_TRUE(tts->synthesize("Grüß Gott, Café", "de").has_value());
}

TEST(EspeakTts, ConcurrentCallersAreSerialisedSafely) {
    auto tts = make_espeak_tts();
    // Each voice reads its own language, so no voice carries English state into another (see
    // LanguagesGiveDifferentAudio).
    constexpr const char* kDutch = "Welkom bij de klantenservice";
    PcmPtr en = synthesize_ok(*tts, kGreeting, "en");
    PcmPtr nl = synthesize_ok(*tts, kDutch, "nl");
    ASSERT_TRUE(en && nl);
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                const bool dutch = (t + i) % 2 == 0;
                auto result = tts->synthesize(dutch ? kDutch : kGreeting, dutch ? "nl" : "en");
                if (!result || similarity(**result, *(dutch ? nl : en)) < 0.93) {
                    ++mismatches[t];
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (int m : mismatches) {
        EXPECT_EQ(m, 0);
    }
}

TEST(EspeakTts, GreetingIsUnderstoodByASpeechRecogniser) {
    std::vector<std::string> vocabulary = {"welcome", "to",  "acme",   "support",
                                           "thank",   "for", "calling"};
    for (auto& word : testing::distractor_words()) {
        vocabulary.push_back(word);
    }
    auto transcriber = testing::SphinxTranscriber::create(vocabulary);
    ASSERT_TRUE(transcriber.has_value()) << transcriber.error().message;
    auto tts = make_espeak_tts();
    PcmPtr pcm = synthesize_ok(*tts, kGreeting, "en");
    ASSERT_TRUE(pcm);
    auto heard = (*transcriber)->transcribe(*pcm, kRate);
    ASSERT_TRUE(heard.has_value()) << heard.error().message;
    std::printf("PocketSphinx heard: \"%s\"\n", heard->c_str());
    EXPECT_TRUE(testing::contains_word(*heard, "support") ||
                testing::contains_word(*heard, "welcome"))
        << "heard \"" << *heard << "\"";

    // The control: another sentence over the same vocabulary is not heard as the greeting.
    PcmPtr other = synthesize_ok(*tts, "Thank you for calling, goodbye", "en");
    ASSERT_TRUE(other);
    auto heard_other = (*transcriber)->transcribe(*other, kRate);
    ASSERT_TRUE(heard_other.has_value());
    EXPECT_FALSE(testing::contains_word(*heard_other, "support") ||
                 testing::contains_word(*heard_other, "welcome"))
        << "heard \"" << *heard_other << "\"";
    EXPECT_TRUE(testing::contains_word(*heard_other, "goodbye") ||
                testing::contains_word(*heard_other, "thank"))
        << "heard \"" << *heard_other << "\"";
}

TEST(SphinxTranscriber, RejectsWordsOutsideTheDictionary) {
    auto transcriber = testing::SphinxTranscriber::create({"support", "zzxqv"});
    ASSERT_FALSE(transcriber.has_value());
    EXPECT_NE(transcriber.error().message.find("zzxqv"), std::string::npos);
}

TEST(SphinxTranscriber, SilenceIsNotHeardAsTheGreeting) {
    auto transcriber = testing::SphinxTranscriber::create({"welcome", "to", "acme", "support"});
    ASSERT_TRUE(transcriber.has_value()) << transcriber.error().message;
    const media::Pcm silence(2 * kRate, 0);
    auto heard = (*transcriber)->transcribe(silence, kRate);
    ASSERT_TRUE(heard.has_value());
    EXPECT_FALSE(testing::contains_word(*heard, "welcome")) << *heard;
    EXPECT_FALSE(testing::contains_word(*heard, "support")) << *heard;
}

TEST(SphinxTranscriber, ContainsWordMatchesWholeWords) {
    EXPECT_TRUE(testing::contains_word("welcome to acme support", "support"));
    EXPECT_TRUE(testing::contains_word("Welcome", "welcome"));
    EXPECT_FALSE(testing::contains_word("supporter", "support"));
    EXPECT_FALSE(testing::contains_word("", "support"));
}

}  // namespace
}  // namespace tl::voice
