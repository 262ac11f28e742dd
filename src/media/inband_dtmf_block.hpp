#pragma once
// One analysis block of the in-band DTMF detector (inband_dtmf_detector.hpp): the Goertzel
// energies of the eight ITU-T Q.23 frequencies and the checks that tell a key press from speech,
// music and noise. Internal to the detector; declared here so tests can see which check rejected a
// block. Thread-safe (no state); no allocation.

#include <cstddef>
#include <cstdint>
#include <span>

namespace tl::media::detail {

inline constexpr int kDtmfSampleRate = 8000;

// 102 samples (12.75 ms), the block of the classic 8 kHz detectors: the Goertzel main lobe
// (+-78 Hz) is narrow enough to part 697 from 770 Hz, the closest pair, and blocks are short
// enough that any tone of 38.1 ms covers two whole ones wherever it starts.
inline constexpr std::size_t kDtmfBlockSamples = 102;

// 0 dBm0 as the mean square of 16-bit samples: G.711 puts the mu-law full-scale sine (peak
// 8159 of 14 bits, 32636 of 16) at +3.17 dBm0, so a 0 dBm0 sine has peak 22663 and mean square
// 22663^2 / 2. A-law's reference lies within 0.1 dB of it.
inline constexpr double kZeroDbm0MeanSquare = 22663.0 * 22663.0 / 2.0;

// The checks, in the order applied; measurements behind the values: docs/inband-dtmf.md.
//
// Each tone at -32 dBm0 or more: a key sent at about -6 dBm0 per tone still detects after the
// 26 dB of loss classic detectors accept. Lower, a Goertzel filter hears mostly background.
inline constexpr double kMinToneLevelDbm0 = -32.0;
// The strongest tone of each group 8 dB over the other three (two keys at once, chords, noise).
inline constexpr double kMinPeakAboveGroupDb = 8.0;
// Twist, as classic detectors take it: the low group up to 8 dB louder than the high group (lines
// lose more at high frequencies), the high group up to 4 dB louder (phones pre-emphasise it).
inline constexpr double kMaxRowAboveColumnDb = 8.0;
inline constexpr double kMaxColumnAboveRowDb = 4.0;
// The two tones hold 75% of the block's energy. A key press on frequency measures 0.88 or more
// (noise 15 dB down included); 1.5% off with 4 dB of twist, about 0.7 in its worst blocks. Voiced
// speech stays under 0.56 in 99% of its blocks: its energy spreads over many harmonics.
inline constexpr double kMinToneShareOfEnergy = 0.75;
// Each tone within +-2% of its frequency, between Q.24's accept (1.5%) and reject (3.5%) limits,
// and as tight as that allows: the 4th and 5th harmonics of a 238 Hz voice lie 1.2-1.6% from
// 941 and 1209 Hz (key *), where all talk-off in the synthetic speech we tried came from.
inline constexpr double kMaxFrequencyDeviation = 0.02;
// Second harmonics: voiced speech has strong ones, a DTMF generator keeps its distortion 20 dB or
// more down. A column tone must be 12 dB over its own; a row only 3 dB, because the key's column
// tone, up to 4 dB louder and 83-93 Hz away for keys 3 and B, leaks into the row's harmonic filter.
inline constexpr double kMinColumnOverHarmonicDb = 12.0;
inline constexpr double kMinRowOverHarmonicDb = 3.0;

enum class DtmfBlockCheck {
    kDigit,            // every check passed
    kTooQuiet,         // the row or the column tone below kMinToneLevelDbm0
    kNoClearRow,       // a second row tone within kMinPeakAboveGroupDb of the strongest
    kNoClearColumn,    // the same for the columns
    kTwist,            // the two tones' levels too far apart (kMaxRowAboveColumnDb and back)
    kNotConcentrated,  // the two tones carry less than kMinToneShareOfEnergy of the block
    kOffFrequency,     // a tone more than kMaxFrequencyDeviation from its nominal frequency
    kHarmonic,         // a tone with a strong second harmonic (voiced speech)
};

struct DtmfBlock {
    DtmfBlockCheck check = DtmfBlockCheck::kTooQuiet;
    char digit = 0;  // the key of the strongest row and column (also when rejected); 0 if quiet
    // Energies as sums of squares over the block: a sine's estimate equals its own share of the
    // block's sum of squares. Zero where the analysis stopped before computing them.
    float energy = 0;
    float row_energy = 0;
    float column_energy = 0;
    float row_harmonic_energy = 0;
    float column_harmonic_energy = 0;
};

DtmfBlock analyse_dtmf_block(std::span<const std::int16_t, kDtmfBlockSamples> samples);

// The level of a block energy (as in DtmfBlock) in dBm0, for tests and diagnostics.
double block_energy_dbm0(double energy);

}  // namespace tl::media::detail
