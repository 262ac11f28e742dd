#include "media/resampler.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

// Band-limited interpolation (J. O. Smith, "Digital Audio Resampling"): each output sample is
// the input convolved with a Kaiser-windowed sinc centred on its exact position. The low-pass
// cut-off sits at 90% of the lower of the two Nyquist frequencies, so going down to 8 kHz the
// pass band covers the 300-3400 Hz telephone band and the stop band (~80 dB) starts near 4 kHz:
// nothing above the new Nyquist folds back. The filter is tabulated once (kPhases points per
// zero crossing) and read with linear interpolation.

namespace tl::media {
namespace {

constexpr int kZeroCrossings = 32;   // half-width of the filter, in periods of the lower rate
constexpr int kPhases = 512;         // table resolution per zero crossing
constexpr double kRolloff = 0.90;    // cut-off as a fraction of the lower Nyquist frequency
constexpr double kKaiserBeta = 8.0;  // ~80 dB stop band
constexpr std::size_t kTableSize = std::size_t{kZeroCrossings} * kPhases + 2;

double bessel_i0(double x) {
    double sum = 1.0;
    double term = 1.0;
    for (int k = 1; k < 50; ++k) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        if (term < sum * 1e-12) break;
    }
    return sum;
}

// h(t) for t in [0, kZeroCrossings] (t in periods of the lower rate), kPhases points per unit.
const std::vector<double>& filter_table() {
    static const std::vector<double> table = [] {
        std::vector<double> h(kTableSize, 0.0);
        const double i0_beta = bessel_i0(kKaiserBeta);
        for (int i = 0; i <= kZeroCrossings * kPhases; ++i) {
            const double t = static_cast<double>(i) / kPhases;
            const double x = std::numbers::pi * kRolloff * t;
            const double sinc = i == 0 ? 1.0 : std::sin(x) / x;
            const double r = t / kZeroCrossings;
            const double window =
                bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta;
            h[static_cast<std::size_t>(i)] = kRolloff * sinc * window;
        }
        return h;
    }();
    return table;
}

double lookup(const std::vector<double>& table, double t) {
    const double pos = t * kPhases;
    const auto index = static_cast<std::size_t>(pos);
    if (index >= kTableSize - 1) return 0.0;
    const double frac = pos - static_cast<double>(index);
    return table[index] + frac * (table[index + 1] - table[index]);
}

}  // namespace

std::vector<std::int16_t> resample(std::span<const std::int16_t> in, int from_rate, int to_rate) {
    if (from_rate <= 0 || to_rate <= 0 || in.empty()) return {};
    if (from_rate == to_rate) return {in.begin(), in.end()};

    const auto& table = filter_table();
    // Filter scale: 1 when upsampling (cut at the input Nyquist), to/from when downsampling.
    const double scale = std::min(1.0, static_cast<double>(to_rate) / from_rate);
    const double half_width = kZeroCrossings / scale;  // in input samples
    const auto n_in = static_cast<std::int64_t>(in.size());
    const std::int64_t n_out =
        (n_in * to_rate + from_rate / 2) / from_rate;  // rounded: lengths scale with the rate

    std::vector<std::int16_t> out(static_cast<std::size_t>(n_out));
    for (std::int64_t n = 0; n < n_out; ++n) {
        // Exact position of output sample n on the input time axis.
        const std::int64_t whole = n * from_rate / to_rate;  // integer part, exact
        const std::int64_t remainder = n * from_rate % to_rate;
        const double center = static_cast<double>(whole) +
                              static_cast<double>(remainder) / static_cast<double>(to_rate);
        const auto first =
            std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(center - half_width)));
        const auto last = std::min<std::int64_t>(
            n_in - 1, static_cast<std::int64_t>(std::floor(center + half_width)));
        double acc = 0.0;
        for (std::int64_t i = first; i <= last; ++i) {
            acc += in[static_cast<std::size_t>(i)] *
                   lookup(table, std::abs(center - static_cast<double>(i)) * scale);
        }
        acc *= scale;
        out[static_cast<std::size_t>(n)] =
            static_cast<std::int16_t>(std::clamp(std::lround(acc), -32768L, 32767L));
    }
    return out;
}

}  // namespace tl::media
