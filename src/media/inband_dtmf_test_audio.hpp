#pragma once
// Test helpers (tests only) for the in-band DTMF detector: dual tones and noise at levels in dBm0,
// deterministic across platforms, and a run of the detector over a signal in frames of any size.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "media/inband_dtmf_detector.hpp"

namespace tl::media::test {

using Pcm = std::vector<std::int16_t>;  // 8 kHz mono

inline constexpr int kRate = 8000;

inline std::size_t samples_for_ms(int ms) { return static_cast<std::size_t>(ms) * kRate / 1000; }

inline std::int16_t saturate(double value) {
    return static_cast<std::int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
}

// The peak of a sine at `dbm0` (the detector's own 0 dBm0 reference).
inline double sine_peak(double dbm0) {
    return std::sqrt(2.0 * detail::kZeroDbm0MeanSquare) * std::pow(10.0, dbm0 / 20.0);
}

struct Sine {
    double hz = 0;
    double dbm0 = 0;
};

inline Pcm sines(std::initializer_list<Sine> parts, int ms) {
    Pcm out(samples_for_ms(ms));
    for (std::size_t i = 0; i < out.size(); ++i) {
        double x = 0;
        for (const Sine& s : parts) {
            x += sine_peak(s.dbm0) *
                 std::sin(2 * std::numbers::pi * s.hz * static_cast<double>(i) / kRate);
        }
        out[i] = saturate(x);
    }
    return out;
}

// The Q.23 frequencies of a key, {row, column}.
inline std::pair<double, double> key_frequencies(char digit) {
    constexpr std::string_view kKeys = "123A456B789C*0#D";
    constexpr std::array<double, 4> kRows = {697, 770, 852, 941};
    constexpr std::array<double, 4> kColumns = {1209, 1336, 1477, 1633};
    const std::size_t k = kKeys.find(digit);
    return {kRows[k / 4], kColumns[k % 4]};
}

inline Pcm dual_tone(char digit, int ms, double row_dbm0, double column_dbm0) {
    const auto [row, column] = key_frequencies(digit);
    return sines({{row, row_dbm0}, {column, column_dbm0}}, ms);
}

// Parentheses, not braces: Pcm{n, 0} would be the two samples n and 0.
inline Pcm silence(int ms) {
    return Pcm(samples_for_ms(ms), 0);  // NOLINT(modernize-return-braced-init-list)
}

// White noise with a mean square of `dbm0`: uniform from a 32-bit LCG (Numerical Recipes), so
// the same samples on every platform, unlike std:: distributions.
inline Pcm white_noise(int ms, double dbm0, std::uint32_t seed) {
    const double rms = std::sqrt(detail::kZeroDbm0MeanSquare) * std::pow(10.0, dbm0 / 20.0);
    const double a = rms * std::sqrt(3.0);  // uniform in [-a, a] has RMS a / sqrt(3)
    Pcm out(samples_for_ms(ms));
    std::uint32_t state = seed;
    for (auto& sample : out) {
        state = state * 1664525U + 1013904223U;
        sample = saturate(a * (static_cast<double>(state) / 4294967296.0 * 2.0 - 1.0));
    }
    return out;
}

inline Pcm mix(const Pcm& a, const Pcm& b) {
    Pcm out(std::max(a.size(), b.size()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = saturate((i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0));
    }
    return out;
}

inline Pcm concat(std::initializer_list<Pcm> parts) {
    Pcm out;
    for (const Pcm& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

inline Pcm gained(const Pcm& pcm, double db) {
    const double g = std::pow(10.0, db / 20.0);
    Pcm out(pcm.size());
    std::transform(pcm.begin(), pcm.end(), out.begin(),
                   [g](std::int16_t x) { return saturate(g * x); });
    return out;
}

struct Detection {
    char digit = 0;
    std::size_t at = 0;  // samples pushed when push() returned it
    bool operator==(const Detection&) const = default;
};

// Feeds `pcm` in frames of `frame` samples (the last one shorter) to a fresh detector.
inline std::vector<Detection> detect(const Pcm& pcm, std::size_t frame = 160) {
    InbandDtmfDetector detector;
    std::vector<Detection> found;
    for (std::size_t start = 0; start < pcm.size(); start += frame) {
        const std::size_t n = std::min(frame, pcm.size() - start);
        if (auto digit = detector.push(std::span(pcm).subspan(start, n))) {
            found.push_back({*digit, start + n});
        }
    }
    return found;
}

inline std::string digits_of(const std::vector<Detection>& found) {
    std::string out;
    for (const Detection& d : found) {
        out += d.digit;
    }
    return out;
}

inline std::string detect_digits(const Pcm& pcm, std::size_t frame = 160) {
    return digits_of(detect(pcm, frame));
}

}  // namespace tl::media::test
