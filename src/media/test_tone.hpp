#pragma once
// Test helpers (tests only): sine generation and Goertzel tone power, so media tests check what
// audio sounds like rather than only that bytes moved.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace tl::media::test {

inline std::vector<std::int16_t> make_tone(double frequency,
                                           int sample_rate,
                                           std::size_t samples,
                                           double amplitude = 8000.0) {
    std::vector<std::int16_t> out(samples);
    for (std::size_t i = 0; i < samples; ++i) {
        out[i] = static_cast<std::int16_t>(
            std::lround(amplitude * std::sin(2.0 * std::numbers::pi * frequency *
                                             static_cast<double>(i) / sample_rate)));
    }
    return out;
}

// Power of `frequency` in `samples` (Goertzel), normalised by length so blocks compare.
inline double goertzel_power(std::span<const std::int16_t> samples,
                             double frequency,
                             int sample_rate) {
    const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * frequency / sample_rate);
    double s1 = 0.0;
    double s2 = 0.0;
    for (auto x : samples) {
        const double s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    const double n = static_cast<double>(samples.size());
    return n > 0 ? power / (n * n) : 0.0;
}

inline double to_db(double ratio) { return 10.0 * std::log10(ratio); }

}  // namespace tl::media::test
