#include "media/inband_dtmf_block.hpp"

#include <array>
#include <cmath>
#include <numbers>

namespace tl::media::detail {
namespace {

// 10^(db / 10) at compile time (std::pow is not constexpr in C++20): exp() by its Taylor series,
// summed for |x| so that no terms cancel.
consteval double power_ratio(double db) {
    const double x = (db < 0 ? -db : db) * (std::numbers::ln10 / 10.0);
    double term = 1.0;
    double sum = 1.0;
    for (int n = 1; n < 100; ++n) {
        term *= x / n;
        sum += term;
    }
    return db < 0 ? 1.0 / sum : sum;
}

constexpr std::size_t kTones = 8;  // rows 0-3, columns 4-7
constexpr std::array<double, kTones> kToneHz = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
constexpr std::array<std::array<char, 4>, 4> kKeys = {{
    {'1', '2', '3', 'A'},
    {'4', '5', '6', 'B'},
    {'7', '8', '9', 'C'},
    {'*', '0', '#', 'D'},
}};

constexpr double kBlock = static_cast<double>(kDtmfBlockSamples);
constexpr float kMinToneEnergy =
    static_cast<float>(power_ratio(kMinToneLevelDbm0) * kZeroDbm0MeanSquare * kBlock);
constexpr float kRowAboveColumn = static_cast<float>(power_ratio(kMaxRowAboveColumnDb));
constexpr float kColumnAboveRow = static_cast<float>(power_ratio(kMaxColumnAboveRowDb));
constexpr float kPeakAboveGroup = static_cast<float>(power_ratio(kMinPeakAboveGroupDb));
constexpr float kToneShare = static_cast<float>(kMinToneShareOfEnergy);
constexpr float kRowOverHarmonic = static_cast<float>(power_ratio(kMinRowOverHarmonicDb));
constexpr float kColumnOverHarmonic = static_cast<float>(power_ratio(kMinColumnOverHarmonicDb));

// Goertzel coefficients 2 cos(w) for the eight frequencies times `scale`. The filters run at the
// exact frequencies, not at the nearest DFT bin, so a tone is measured at the top of its lobe.
std::array<float, kTones> goertzel_coefficients(double scale) {
    std::array<float, kTones> c{};
    for (std::size_t k = 0; k < kTones; ++k) {
        c[k] = static_cast<float>(
            2.0 * std::cos(2.0 * std::numbers::pi * kToneHz[k] * scale / kDtmfSampleRate));
    }
    return c;
}

const std::array<float, kTones> kCoefficients = goertzel_coefficients(1.0);
// Side filters at twice the tolerated deviation below and above each tone: a tone reads louder in
// a side filter than in its own exactly when it lies closer to the side filter's frequency, i.e.
// more than kMaxFrequencyDeviation off (the main lobe is symmetric and falls monotonically).
const std::array<float, kTones> kBelowCoefficients =
    goertzel_coefficients(1.0 - 2.0 * kMaxFrequencyDeviation);
const std::array<float, kTones> kAboveCoefficients =
    goertzel_coefficients(1.0 + 2.0 * kMaxFrequencyDeviation);

// |X(w)|^2 from the last two Goertzel states, scaled by 2 / N so that a sine's estimate is its
// own sum of squares over the block (|X|^2 = (A N / 2)^2 against A^2 N / 2).
float tone_energy(float coefficient, float s1, float s2) {
    return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) * static_cast<float>(2.0 / kBlock);
}

// All eight filters in one pass (the inner loop vectorises).
std::array<float, kTones> tone_energies(std::span<const std::int16_t, kDtmfBlockSamples> samples) {
    std::array<float, kTones> s1{};
    std::array<float, kTones> s2{};
    for (const std::int16_t sample : samples) {
        const auto x = static_cast<float>(sample);
        for (std::size_t k = 0; k < kTones; ++k) {
            const float s0 = x + kCoefficients[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s0;
        }
    }
    std::array<float, kTones> energies{};
    for (std::size_t k = 0; k < kTones; ++k) {
        energies[k] = tone_energy(kCoefficients[k], s1[k], s2[k]);
    }
    return energies;
}

// One more filter, for the few blocks that pass the cheap checks.
float filter_energy(std::span<const std::int16_t, kDtmfBlockSamples> samples, float coefficient) {
    float s1 = 0;
    float s2 = 0;
    for (const std::int16_t sample : samples) {
        const float s0 = static_cast<float>(sample) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return tone_energy(coefficient, s1, s2);
}

// The second harmonic of tone k: cos(2w) = 2 cos^2(w) - 1, so its coefficient is c^2 - 2.
float harmonic_energy(std::span<const std::int16_t, kDtmfBlockSamples> samples, std::size_t k) {
    return filter_energy(samples, kCoefficients[k] * kCoefficients[k] - 2.0f);
}

// A row's second harmonic falls among the columns (1394-1882 Hz). Within one bin (78 Hz) of the
// key's own column tone, which may be 4 dB louder than the row, that tone's main lobe swamps the
// harmonic filter: keys 2 (1394 Hz by 1336), 6 (1540 by 1477) and C (1704 by 1633) skip the row
// check; their column's harmonic and every other check still apply.
bool row_harmonic_measurable(std::size_t row, std::size_t column) {
    constexpr double kBinHz = kDtmfSampleRate / kBlock;
    return std::abs(2.0 * kToneHz[row] - kToneHz[column]) >= kBinHz;
}

bool on_frequency(std::span<const std::int16_t, kDtmfBlockSamples> samples,
                  std::size_t k,
                  float energy) {
    return filter_energy(samples, kBelowCoefficients[k]) <= energy &&
           filter_energy(samples, kAboveCoefficients[k]) <= energy;
}

// The index of the strongest of energies[first, first + 4), and whether it stands
// kPeakAboveGroup above the other three.
struct GroupPeak {
    std::size_t index = 0;
    bool clear = false;
};

GroupPeak group_peak(const std::array<float, kTones>& energies, std::size_t first) {
    GroupPeak peak{first, true};
    for (std::size_t k = first + 1; k < first + 4; ++k) {
        if (energies[k] > energies[peak.index]) {
            peak.index = k;
        }
    }
    for (std::size_t k = first; k < first + 4; ++k) {
        if (k != peak.index && energies[peak.index] < kPeakAboveGroup * energies[k]) {
            peak.clear = false;
        }
    }
    return peak;
}

}  // namespace

double block_energy_dbm0(double energy) {
    return 10.0 * std::log10(energy / (kZeroDbm0MeanSquare * kBlock));
}

DtmfBlock analyse_dtmf_block(std::span<const std::int16_t, kDtmfBlockSamples> samples) {
    DtmfBlock block;
    std::int64_t sum = 0;  // exact: 102 squares of 16-bit samples stay below 2^37
    for (const std::int16_t sample : samples) {
        sum += std::int64_t{sample} * sample;
    }
    block.energy = static_cast<float>(sum);
    // Neither tone can reach the minimum in a block quieter than it: silence costs no filters.
    if (block.energy < kMinToneEnergy) {
        return block;
    }

    const std::array<float, kTones> energies = tone_energies(samples);
    const GroupPeak row = group_peak(energies, 0);
    const GroupPeak column = group_peak(energies, 4);
    block.digit = kKeys[row.index][column.index - 4];
    block.row_energy = energies[row.index];
    block.column_energy = energies[column.index];

    if (block.row_energy < kMinToneEnergy || block.column_energy < kMinToneEnergy) {
        block.check = DtmfBlockCheck::kTooQuiet;
        return block;
    }
    if (!row.clear) {
        block.check = DtmfBlockCheck::kNoClearRow;
        return block;
    }
    if (!column.clear) {
        block.check = DtmfBlockCheck::kNoClearColumn;
        return block;
    }
    if (block.row_energy > kRowAboveColumn * block.column_energy ||
        block.column_energy > kColumnAboveRow * block.row_energy) {
        block.check = DtmfBlockCheck::kTwist;
        return block;
    }
    if (block.row_energy + block.column_energy < kToneShare * block.energy) {
        block.check = DtmfBlockCheck::kNotConcentrated;
        return block;
    }
    if (!on_frequency(samples, row.index, block.row_energy) ||
        !on_frequency(samples, column.index, block.column_energy)) {
        block.check = DtmfBlockCheck::kOffFrequency;
        return block;
    }
    block.column_harmonic_energy = harmonic_energy(samples, column.index);
    if (block.column_energy < kColumnOverHarmonic * block.column_harmonic_energy) {
        block.check = DtmfBlockCheck::kHarmonic;
        return block;
    }
    if (row_harmonic_measurable(row.index, column.index)) {
        block.row_harmonic_energy = harmonic_energy(samples, row.index);
    }
    if (block.row_energy < kRowOverHarmonic * block.row_harmonic_energy) {
        block.check = DtmfBlockCheck::kHarmonic;
        return block;
    }
    block.check = DtmfBlockCheck::kDigit;
    return block;
}

}  // namespace tl::media::detail
