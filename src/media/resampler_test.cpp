#include "media/resampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "media/test_tone.hpp"

namespace tl::media {
namespace {

using test::goertzel_power;
using test::make_tone;
using test::to_db;

// The middle of a signal, away from the filter's start-up at the edges.
std::span<const std::int16_t> middle(const std::vector<std::int16_t>& v) {
    return std::span(v).subspan(v.size() / 4, v.size() / 2);
}

TEST(Resampler, LengthsScaleWithTheRate) {
    const struct {
        std::size_t in;
        int from;
        int to;
        std::size_t out;
    } cases[] = {
        {22050, 22050, 8000, 8000}, {16000, 16000, 8000, 8000}, {24000, 24000, 8000, 8000},
        {8000, 8000, 16000, 16000}, {441, 22050, 8000, 160},    {160, 8000, 8000, 160},
        {1, 48000, 8000, 0},        {3, 48000, 8000, 1},
    };
    for (const auto& c : cases) {
        const std::vector<std::int16_t> in(c.in, 100);
        EXPECT_EQ(resample(in, c.from, c.to).size(), c.out)
            << c.in << " " << c.from << "->" << c.to;
    }
    EXPECT_TRUE(resample({}, 16000, 8000).empty());
    const std::vector<std::int16_t> some(100, 1);
    EXPECT_TRUE(resample(some, 0, 8000).empty());
    EXPECT_TRUE(resample(some, 8000, -1).empty());
}

TEST(Resampler, OneKilohertzAt22050StaysOneKilohertzAt8000) {
    const auto in = make_tone(1000.0, 22050, 22050);
    const auto out = resample(in, 22050, 8000);
    ASSERT_EQ(out.size(), 8000u);
    const auto mid = middle(out);
    const double p1k = goertzel_power(mid, 1000.0, 8000);
    for (double other : {500.0, 1500.0, 2000.0, 3000.0, 3500.0}) {
        EXPECT_GT(to_db(p1k / goertzel_power(mid, other, 8000)), 40.0) << other << " Hz";
    }
    // Pass band gain ~1: the amplitude survives (peak within 2%).
    const auto peak = *std::max_element(mid.begin(), mid.end());
    EXPECT_NEAR(peak, 8000, 160);
}

TEST(Resampler, UpsamplingKeepsTheToneAndAddsNoImages) {
    const auto in = make_tone(1000.0, 8000, 8000);
    const auto out = resample(in, 8000, 16000);
    ASSERT_EQ(out.size(), 16000u);
    const auto mid = middle(out);
    const double p1k = goertzel_power(mid, 1000.0, 16000);
    // The image of 1 kHz around the old sampling rate sits at 7 kHz.
    EXPECT_GT(to_db(p1k / goertzel_power(mid, 7000.0, 16000)), 60.0);
    const auto peak = *std::max_element(mid.begin(), mid.end());
    EXPECT_NEAR(peak, 8000, 160);
}

// Downsampling 16 kHz to 8 kHz: tones above the new 4 kHz Nyquist would fold back (5 kHz onto
// 3 kHz, 4.5 kHz onto 3.5 kHz); the anti-alias filter must remove them.
TEST(Resampler, AntiAliasFilterRemovesTonesAboveTheNewNyquist) {
    const auto reference = resample(make_tone(1000.0, 16000, 16000), 16000, 8000);
    const double p_ref = goertzel_power(middle(reference), 1000.0, 8000);
    const struct {
        double tone;
        double alias;
    } cases[] = {{5000.0, 3000.0}, {4500.0, 3500.0}, {6000.0, 2000.0}};
    for (const auto& c : cases) {
        const auto out = resample(make_tone(c.tone, 16000, 16000), 16000, 8000);
        const double p_alias = goertzel_power(middle(out), c.alias, 8000);
        EXPECT_GT(to_db(p_ref / p_alias), 60.0) << c.tone << " Hz folded onto " << c.alias;
    }
}

// A 3.8 kHz tone is below the new Nyquist (it does not alias) but above the telephone band:
// the filter's transition band (cut-off 3.6 kHz) attenuates it strongly, while 3.4 kHz passes.
TEST(Resampler, ThreePointEightKilohertzIsAttenuatedGoingTo8000) {
    const auto high = resample(make_tone(3800.0, 16000, 16000), 16000, 8000);
    const auto band_edge = resample(make_tone(3400.0, 16000, 16000), 16000, 8000);
    const double p_high = goertzel_power(middle(high), 3800.0, 8000);
    const double p_edge = goertzel_power(middle(band_edge), 3400.0, 8000);
    EXPECT_GT(to_db(p_edge / p_high), 20.0);
    const auto peak_edge = *std::max_element(middle(band_edge).begin(), middle(band_edge).end());
    EXPECT_GT(peak_edge, 8000 * 0.7);  // within 3 dB at the top of the telephone band
}

TEST(Resampler, SameRateCopies) {
    const auto in = make_tone(440.0, 8000, 800);
    EXPECT_EQ(resample(in, 8000, 8000), in);
}

TEST(Resampler, FullScaleDoesNotWrapAround) {
    std::vector<std::int16_t> square(4000);
    for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 20) % 2 ? 32767 : -32768;
    const auto out = resample(square, 16000, 8000);  // Gibbs overshoot must clip, not wrap
    // Output k sits on input 2k: inputs [20,40) of each 40-sample period are positive.
    for (std::size_t k = 40; k + 40 < out.size(); ++k) {
        const std::size_t phase = (2 * k) % 40;
        if (phase >= 23 && phase <= 37) {
            ASSERT_GT(out[k], 0) << k;
        }
        if (phase >= 3 && phase <= 17) {
            ASSERT_LT(out[k], 0) << k;
        }
    }
}

}  // namespace
}  // namespace tl::media
