#include "media/inband_dtmf_detector.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "media/dtmf.hpp"
#include "media/inband_dtmf_test_audio.hpp"

namespace tl::media {
namespace {

using detail::DtmfBlockCheck;
using test::concat;
using test::detect;
using test::detect_digits;
using test::dual_tone;
using test::Pcm;
using test::silence;

constexpr std::string_view kAllDigits = "0123456789*#ABCD";

// The block analysis of the first whole block of `pcm`.
detail::DtmfBlock first_block(const Pcm& pcm) {
    return detail::analyse_dtmf_block(
        std::span<const std::int16_t>(pcm).first<detail::kDtmfBlockSamples>());
}

TEST(InbandDtmfDetector, EveryDigitOnceFromA100msTone) {
    for (const char digit : kAllDigits) {
        SCOPED_TRACE(std::string("digit ") + digit);
        const auto found = detect(concat({dtmf_tone(digit, 100), silence(300)}));
        ASSERT_EQ(found.size(), 1u);
        EXPECT_EQ(found[0].digit, digit);
        // Reported while the tone lasts: two blocks (25.5 ms), rounded up to whole 20 ms frames.
        EXPECT_LE(found[0].at, test::samples_for_ms(40));
    }
}

TEST(InbandDtmfDetector, ASequenceWithPausesGivesEachDigit) {
    Pcm pcm;
    for (const char digit : std::string_view("123#")) {
        pcm = concat({pcm, dtmf_tone(digit, 100), silence(100)});
    }
    EXPECT_EQ(detect_digits(pcm), "123#");
}

TEST(InbandDtmfDetector, ALongPressGivesOneDigit) {
    EXPECT_EQ(detect_digits(concat({dtmf_tone('5', 1000), silence(200)})), "5");
}

TEST(InbandDtmfDetector, TheSameKeyTwiceAfterTheShortestPause) {
    // 40 ms tones 40 ms apart (faster than the 50 ms pause AT&T asks for), wherever the blocks
    // fall.
    for (int lead = 0; lead < 102; lead += 3) {
        SCOPED_TRACE("lead-in samples " + std::to_string(lead));
        const Pcm pcm = concat({Pcm(static_cast<std::size_t>(lead), 0), dtmf_tone('7', 40),
                                silence(40), dtmf_tone('7', 40), silence(100)});
        EXPECT_EQ(detect_digits(pcm), "77");
    }
}

TEST(InbandDtmfDetector, ToneDurations) {
    struct Case {
        int ms;
        bool detected;
    };
    // Two blocks must pass, and a block passes with at least 3/4 of it filled by the tone (the
    // share check), so: never under 19 ms (2 x 3/4 block), always from 34 ms, whatever the
    // alignment; 40 ms key presses, the usual minimum, are always taken.
    const std::vector<Case> cases = {{10, false}, {18, false}, {34, true}, {40, true}, {60, true}};
    for (const auto& c : cases) {
        for (const char digit : kAllDigits) {
            for (int lead = 0; lead < 102; lead += 7) {
                SCOPED_TRACE(std::string("digit ") + digit + ", " + std::to_string(c.ms) +
                             " ms after " + std::to_string(lead) + " samples");
                const Pcm pcm = concat(
                    {Pcm(static_cast<std::size_t>(lead), 0), dtmf_tone(digit, c.ms), silence(60)});
                EXPECT_EQ(detect_digits(pcm), c.detected ? std::string(1, digit) : "");
            }
        }
    }
}

TEST(InbandDtmfDetector, DifferentDigitsWithoutAPauseAreTwoPresses) {
    EXPECT_EQ(detect_digits(concat({dtmf_tone('1', 100), dtmf_tone('2', 100), silence(60)})), "12");
}

TEST(InbandDtmfDetector, AShortInterruptionDoesNotSplitAPress) {
    // 10 ms of silence (the interruption receivers must bridge) anywhere in a 200 ms press.
    for (const char digit : kAllDigits) {
        for (int at = 40; at < 150; at += 7) {
            SCOPED_TRACE(std::string("digit ") + digit + ", gap at " + std::to_string(at) + " ms");
            const Pcm pcm = concat(
                {dtmf_tone(digit, at), silence(10), dtmf_tone(digit, 190 - at), silence(60)});
            EXPECT_EQ(detect_digits(pcm), std::string(1, digit));
        }
    }
}

TEST(InbandDtmfDetector, Levels) {
    struct Case {
        double dbm0;  // each tone
        bool detected;
    };
    // The minimum is kMinToneLevelDbm0 = -32 dBm0 per tone.
    const std::vector<Case> cases = {{0, true},   {-10, true},  {-20, true},  {-30, true},
                                     {-31, true}, {-33, false}, {-40, false}, {-50, false}};
    for (const auto& c : cases) {
        for (const char digit : kAllDigits) {
            SCOPED_TRACE(std::string("digit ") + digit + " at " + std::to_string(c.dbm0) + " dBm0");
            const Pcm pcm = concat({dual_tone(digit, 100, c.dbm0, c.dbm0), silence(60)});
            EXPECT_EQ(detect_digits(pcm), c.detected ? std::string(1, digit) : "");
        }
    }
}

TEST(InbandDtmfDetector, MeasuresLevelsInDbm0) {
    const auto block = first_block(dual_tone('5', 20, -10, -16));
    // Within 0.75 dB: the rectangular block lets each tone's side lobes into the other's filter.
    EXPECT_NEAR(detail::block_energy_dbm0(block.row_energy), -10, 0.75);
    EXPECT_NEAR(detail::block_energy_dbm0(block.column_energy), -16, 0.75);
    EXPECT_NEAR(detail::block_energy_dbm0(block.energy), -9.0, 0.3);  // -10 and -16 add up
}

TEST(InbandDtmfDetector, Twist) {
    struct Case {
        double row_dbm0;
        double column_dbm0;
        bool detected;
        bool rejected_for_twist;  // and not for a check before it
    };
    // Accepted: the low group up to 8 dB louder, the high group up to 4 dB louder.
    const std::vector<Case> cases = {
        {-10, -17, true, false},  {-10, -10, true, false},  {-13, -10, true, false},
        {-10, -20, false, true},  {-16, -10, false, true},   // 10 dB and 6 dB
        {-10, -30, false, false}, {-25, -10, false, false},  // 20 and 15 dB: may fail earlier
    };
    for (const auto& c : cases) {
        for (const char digit : kAllDigits) {
            SCOPED_TRACE(std::string("digit ") + digit + " row " + std::to_string(c.row_dbm0) +
                         " column " + std::to_string(c.column_dbm0));
            const Pcm tone = dual_tone(digit, 100, c.row_dbm0, c.column_dbm0);
            EXPECT_EQ(detect_digits(concat({tone, silence(60)})),
                      c.detected ? std::string(1, digit) : "");
            if (c.rejected_for_twist) {
                EXPECT_EQ(first_block(tone).check, DtmfBlockCheck::kTwist);
            }
        }
    }
}

TEST(InbandDtmfDetector, FrequencyTolerance) {
    struct Case {
        double deviation;
        bool detected;
    };
    // Q.24: accept +-1.5%, reject +-3.5%. Both tones off in the same direction.
    const std::vector<Case> cases = {
        {-0.035, false}, {-0.015, true}, {0.015, true}, {0.035, false}};
    for (const auto& c : cases) {
        for (const char digit : kAllDigits) {
            SCOPED_TRACE(std::string("digit ") + digit + " off by " + std::to_string(c.deviation));
            const auto [row, column] = test::key_frequencies(digit);
            const Pcm tone = test::sines(
                {{row * (1 + c.deviation), -10}, {column * (1 + c.deviation), -10}}, 100);
            EXPECT_EQ(detect_digits(concat({tone, silence(60)})),
                      c.detected ? std::string(1, digit) : "");
        }
    }
}

TEST(InbandDtmfDetector, AToneOffFrequencyIsRejectedForIt) {
    // 697 Hz 2.5% off still holds most of the energy in its filter; only the frequency check
    // (+-2%) stops it.
    for (const double deviation : {-0.025, 0.025}) {
        SCOPED_TRACE("off by " + std::to_string(deviation));
        const Pcm tone = test::sines({{697 * (1 + deviation), -10}, {1209, -10}}, 100);
        EXPECT_EQ(first_block(tone).check, DtmfBlockCheck::kOffFrequency);
        EXPECT_EQ(detect_digits(concat({tone, silence(60)})), "");
    }
}

TEST(InbandDtmfDetector, StrongSecondHarmonicsAreRejected) {
    struct Case {
        const char* name;
        Pcm pcm;
    };
    // Voiced speech has strong harmonics; a DTMF generator has none.
    const std::vector<Case> cases = {
        {"1209 Hz with 2418 Hz 8 dB down",
         test::sines({{697, -10}, {1209, -10}, {2418, -18}}, 100)},
        {"941 Hz with 1882 Hz 2 dB down", test::sines({{941, -10}, {1477, -7}, {1882, -12}}, 100)},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(first_block(c.pcm).check, DtmfBlockCheck::kHarmonic);
        EXPECT_EQ(detect_digits(concat({c.pcm, silence(60)})), "");
    }
}

TEST(InbandDtmfDetector, KeysWhoseRowHarmonicFallsByTheirColumnAreDetected) {
    // Keys 2, 6 and C: the column tone lies 58-71 Hz from the row's second harmonic, inside
    // that filter's main lobe. Column 3 dB louder and 1.5% high, towards the harmonic.
    for (const char digit : std::string_view("26C")) {
        SCOPED_TRACE(std::string("digit ") + digit);
        const auto [row, column] = test::key_frequencies(digit);
        const Pcm tone = test::sines({{row, -13}, {column * 1.015, -10}}, 100);
        EXPECT_EQ(detect_digits(concat({tone, silence(60)})), std::string(1, digit));
    }
}

TEST(InbandDtmfDetector, OtherSoundsMixedInAreRejected) {
    struct Case {
        const char* name;
        Pcm pcm;
        DtmfBlockCheck check;
    };
    const std::vector<Case> cases = {
        {"two rows (keys 1 and 4 at once)", test::sines({{697, -10}, {770, -10}, {1209, -10}}, 100),
         DtmfBlockCheck::kNoClearRow},
        {"two columns (keys 1 and 2 at once)",
         test::sines({{697, -10}, {1209, -10}, {1336, -10}}, 100), DtmfBlockCheck::kNoClearColumn},
        {"a 400 Hz tone as loud as each of the key's",
         test::sines({{697, -10}, {1209, -10}, {400, -10}}, 100), DtmfBlockCheck::kNotConcentrated},
        {"a 2200 Hz tone 1 dB below each of the key's",
         test::sines({{852, -10}, {1477, -10}, {2200, -11}}, 100),
         DtmfBlockCheck::kNotConcentrated},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(first_block(c.pcm).check, c.check);
        EXPECT_EQ(detect_digits(concat({c.pcm, silence(60)})), "");
    }
}

TEST(InbandDtmfDetector, AToneAtALimitIsStillOnePress) {
    // Exactly 8 dB of twist: blocks pass and fail by turns (each measures within a fraction of a
    // dB). The failing ones still carry the key, so the press does not end in between.
    for (const char digit : kAllDigits) {
        SCOPED_TRACE(std::string("digit ") + digit);
        const std::string found =
            detect_digits(concat({dual_tone(digit, 1000, -10, -18), silence(60)}));
        EXPECT_LE(found.size(), 1u);
    }
}

TEST(InbandDtmfDetector, DetectsToneInNoise20dBDown) {
    // Tones at -13 dBm0 each (dtmf_tone), noise 20 dB below their sum, through pauses too.
    Pcm tones;
    for (const char digit : kAllDigits) {
        tones = concat({tones, dtmf_tone(digit, 100), silence(100)});
    }
    for (const std::uint32_t seed : {1U, 2U, 3U}) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const Pcm noise = test::white_noise(static_cast<int>(tones.size() / 8), -10.1 - 20, seed);
        EXPECT_EQ(detect_digits(test::mix(tones, noise)), kAllDigits);
    }
}

TEST(InbandDtmfDetector, FrameSizeDoesNotMatter) {
    Pcm pcm = silence(7);
    for (const char digit : std::string_view("159#0*D")) {
        pcm = concat({pcm, dtmf_tone(digit, 70), silence(50)});
    }
    pcm = test::mix(pcm, test::white_noise(static_cast<int>(pcm.size() / 8), -40, 7));
    // Samples one at a time as the reference: each digit is found at a block boundary, so a
    // frame of n samples reports it at the end of the frame holding that boundary.
    const auto reference = detect(pcm, 1);
    ASSERT_EQ(digits_of(reference), "159#0*D");
    for (const std::size_t frame : {160u, 77u, 1u, 2u, 101u, 102u, 103u, 240u, 480u}) {
        SCOPED_TRACE("frames of " + std::to_string(frame));
        auto expected = reference;
        for (auto& d : expected) {
            d.at = std::min((d.at + frame - 1) / frame * frame, pcm.size());
        }
        EXPECT_EQ(detect(pcm, frame), expected);
    }
}

TEST(InbandDtmfDetector, TwoDigitsCompletedInOneFrameComeOutInTurn) {
    // Two 26 ms tones glued together fill blocks 1-2 and 3-4: both complete inside one
    // 480-sample frame, and the second waits for the next push.
    const Pcm pcm = concat({dtmf_tone('1', 26), dtmf_tone('5', 26), silence(40)});
    InbandDtmfDetector detector;
    const auto span = std::span<const std::int16_t>(pcm);
    EXPECT_EQ(detector.push(span.first(480)), '1');
    EXPECT_EQ(detector.push(span.subspan(480)), '5');
    EXPECT_EQ(detector.push(silence(20)), std::nullopt);
}

TEST(InbandDtmfDetector, ResetForgetsAudioAndThePressInProgress) {
    InbandDtmfDetector detector;
    const Pcm tone = dtmf_tone('8', 100);
    // 101 samples of tone before the reset, 103 after: kept, they would make two whole blocks.
    EXPECT_EQ(detector.push(std::span(tone).first(101)), std::nullopt);
    detector.reset();
    EXPECT_EQ(detector.push(std::span(tone).first(103)), std::nullopt);
    detector.reset();

    std::string digits;
    for (int round = 0; round < 2; ++round) {
        for (std::size_t start = 0; start < tone.size(); start += 160) {
            if (auto d = detector.push(std::span(tone).subspan(start, 160))) {
                digits += *d;
            }
        }
        detector.reset();  // mid-press: the same press is a new one to the fresh state
    }
    EXPECT_EQ(digits, "88");
}

}  // namespace
}  // namespace tl::media
