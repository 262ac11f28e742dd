#include "voice/listening/voice_activity_detector.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tl::voice {
namespace {

constexpr std::size_t kFft = 256;
constexpr double kFloorDb = -120.0;
// The analysed band: 200-3400 Hz, the telephone band without mains hum and DC.
constexpr std::size_t kLowBin = 7;     // 218.75 Hz
constexpr std::size_t kHighBin = 108;  // 3375 Hz
constexpr std::size_t kBandBins = kHighBin - kLowBin + 1;
constexpr int kPeakHalfWidth = 2;  // a peak is its bin and two on each side (a Hann main lobe)

// Constant tables shared by every detector: built once (thread-safe static initialisation).
struct FftTables {
    std::array<float, kFft> hann{};
    std::array<std::complex<float>, kFft / 2> twiddle{};
    std::array<std::uint8_t, kFft> bit_reversed{};
    double power_to_mean_square = 0;  // scales summed |X_k|^2 to mean square re full scale

    FftTables() {
        double window_energy = 0;
        for (std::size_t n = 0; n < kFft; ++n) {
            hann[n] = static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * n / kFft));
            window_energy += static_cast<double>(hann[n]) * hann[n];
        }
        for (std::size_t k = 0; k < kFft / 2; ++k) {
            const double phase = -2 * std::numbers::pi * static_cast<double>(k) / kFft;
            twiddle[k] = {static_cast<float>(std::cos(phase)), static_cast<float>(std::sin(phase))};
        }
        for (std::size_t i = 0; i < kFft; ++i) {
            std::size_t r = 0;
            for (std::size_t bit = 1, rev = kFft >> 1; bit < kFft; bit <<= 1, rev >>= 1) {
                if ((i & bit) != 0) {
                    r |= rev;
                }
            }
            bit_reversed[i] = static_cast<std::uint8_t>(r);
        }
        // Parseval with a window: E|X_k|^2 = sigma^2 * sum(w^2) for white noise, and the positive
        // bins carry half of the two-sided power.
        constexpr double kFullScale = 32768.0;
        power_to_mean_square = 2.0 / (kFft * window_energy * kFullScale * kFullScale);
    }
};

const FftTables& tables() {
    static const FftTables instance;
    return instance;
}

// In-place iterative radix-2 FFT (decimation in time) on data already in bit-reversed order.
void fft(std::array<std::complex<float>, kFft>& data, const FftTables& t) {
    for (std::size_t size = 2; size <= kFft; size <<= 1) {
        const std::size_t half = size / 2;
        const std::size_t stride = kFft / size;
        for (std::size_t start = 0; start < kFft; start += size) {
            for (std::size_t j = 0; j < half; ++j) {
                const std::complex<float> odd = t.twiddle[j * stride] * data[start + j + half];
                data[start + j + half] = data[start + j] - odd;
                data[start + j] += odd;
            }
        }
    }
}

double to_db(double mean_square) {
    return mean_square > 1e-12 ? 10.0 * std::log10(mean_square) : kFloorDb;
}

}  // namespace

VoiceActivityDetector::VoiceActivityDetector(VadConfig config) : config_(config) {
    tables();  // build the shared tables here rather than on the first frame
    reset();
}

void VoiceActivityDetector::reset() {
    block_frames_ = std::max(1, config_.noise_window_frames / kNoiseBlocks);
    window_samples_.fill(0);
    // The initial floor counts until the first block is complete (0.5 s by default): from then
    // on the floor is what was heard, so noise present from the first frame becomes the floor
    // quickly.
    block_min_.fill(0.0);
    block_index_ = 0;
    warming_up_ = true;
    current_block_min_ = 0.0;
    frames_in_block_ = 0;
    hangover_left_ = 0;
    flat_frames_ = 0;
    in_speech_ = false;
    previous_peak_bin_ = -1;
    previous_level_db_ = kFloorDb;
    previous_tone_ = false;
    steady_frames_ = 0;
}

VadFrame VoiceActivityDetector::process(std::span<const std::int16_t, kFrameSamples> frame) {
    // Slide the 256-sample analysis window by one frame.
    std::copy(window_samples_.begin() + kFrameSamples, window_samples_.end(),
              window_samples_.begin());
    std::copy(frame.begin(), frame.end(), window_samples_.end() - kFrameSamples);

    VadFrame out;
    analyse(out);
    const double floor = noise_floor();
    out.noise_floor_dbfs = static_cast<float>(floor);
    const double snr = out.level_dbfs - floor;
    const bool flat = out.flatness >= config_.max_onset_flatness;
    if (out.tone) {
        hangover_left_ = 0;  // the frames before the tone was recognised were not speech either
    }
    if (out.level_dbfs < config_.min_level_dbfs || out.tone) {
        out.voiced = false;
    } else if (in_speech_) {
        // Flat frames continue speech (fricatives) only for so long, or noise that follows an
        // utterance before the floor has caught up with it would extend it indefinitely.
        out.voiced = snr >= config_.continue_snr_db &&
                     (!flat || flat_frames_ < config_.max_flat_frames_in_speech);
    } else {
        out.voiced = snr >= config_.onset_snr_db && out.flatness < config_.max_onset_flatness;
    }
    flat_frames_ = flat ? flat_frames_ + 1 : 0;
    if (out.voiced) {
        hangover_left_ = config_.hangover_frames;
        out.speech = true;
    } else if (hangover_left_ > 0) {
        --hangover_left_;
        out.speech = true;
    }
    in_speech_ = out.speech;
    // A tone is not noise: ringback or a test tone must not lift the floor above the speech that
    // follows it.
    if (!out.tone) {
        update_noise_floor(out.level_dbfs);
    }
    return out;
}

void VoiceActivityDetector::analyse(VadFrame& out) {
    const FftTables& t = tables();
    for (std::size_t n = 0; n < kFft; ++n) {
        spectrum_[t.bit_reversed[n]] = {static_cast<float>(window_samples_[n]) * t.hann[n], 0.0F};
    }
    fft(spectrum_, t);

    double total = 0;
    double log_sum = 0;
    std::size_t peak = kLowBin;
    for (std::size_t k = kLowBin; k <= kHighBin; ++k) {
        power_[k] = std::norm(spectrum_[k]);
        total += power_[k];
        // The +1 keeps log() finite on digital silence; it is far below any audible bin power
        // (one LSB of white noise gives about 5000 per bin).
        log_sum += std::log(static_cast<double>(power_[k]) + 1.0);
        if (power_[k] > power_[peak]) {
            peak = k;
        }
    }
    out.level_dbfs = static_cast<float>(to_db(total * t.power_to_mean_square));
    if (total <= 0) {
        previous_peak_bin_ = -1;
        previous_tone_ = false;
        steady_frames_ = 0;
        return;
    }
    const double mean = total / kBandBins + 1.0;
    out.flatness = static_cast<float>(std::exp(log_sum / kBandBins) / mean);

    // The two strongest peaks: the strongest bin with its neighbours, then the strongest bin
    // outside that cluster with its own (not counting bins twice), so a dual tone (dial tone's
    // 350 + 440 Hz, 3 bins apart) is caught as well as a single one.
    auto cluster = [&](std::size_t centre, std::size_t skip_lo, std::size_t skip_hi) {
        double sum = 0;
        const std::size_t lo = std::max<std::size_t>(kLowBin, centre - kPeakHalfWidth);
        const std::size_t hi = std::min<std::size_t>(kHighBin, centre + kPeakHalfWidth);
        for (std::size_t k = lo; k <= hi; ++k) {
            if (k < skip_lo || k > skip_hi) {
                sum += power_[k];
            }
        }
        return sum;
    };
    const std::size_t first_lo = std::max<std::size_t>(kLowBin, peak - kPeakHalfWidth);
    const std::size_t first_hi = std::min<std::size_t>(kHighBin, peak + kPeakHalfWidth);
    out.peak_hz = static_cast<float>(peak * kListenSampleRate) / kFft;
    const double first = cluster(peak, 1, 0);
    std::size_t second_peak = 0;
    float second_power = -1.0F;
    for (std::size_t k = kLowBin; k <= kHighBin; ++k) {
        if ((k < first_lo || k > first_hi) && power_[k] > second_power) {
            second_power = power_[k];
            second_peak = k;
        }
    }
    const double second = second_peak != 0 ? cluster(second_peak, first_lo, first_hi) : 0.0;
    out.concentration = static_cast<float>(std::min(1.0, (first + second) / total));

    // A tone holds still: its peak stays in place and its level does not move by more than a
    // fraction of a dB from one frame to the next, which a voice, whose pitch glides and whose
    // loudness follows its syllables, does only for a frame or two (measured on espeak-ng and
    // five flite voices: never four frames in a row). So a run of such frames is a tone.
    const int peak_bin = static_cast<int>(peak);
    const bool steady =
        out.concentration >= config_.tone_concentration && previous_peak_bin_ >= 0 &&
        std::abs(peak_bin - previous_peak_bin_) <= 1 &&
        std::abs(out.level_dbfs - previous_level_db_) <= config_.tone_level_tolerance_db;
    steady_frames_ = steady ? steady_frames_ + 1 : 0;
    // The frame after a tone stops still holds its last 12 ms (the window overlaps the previous
    // frame by 96 samples): with the same peak, it is the tone's tail, not the start of speech.
    const bool tail = previous_tone_ && std::abs(peak_bin - previous_peak_bin_) <= 1;
    out.tone = steady_frames_ >= config_.tone_min_steady_frames || tail;
    previous_tone_ = steady_frames_ >= config_.tone_min_steady_frames;
    previous_peak_bin_ = peak_bin;
    previous_level_db_ = out.level_dbfs;
}

void VoiceActivityDetector::update_noise_floor(double level_db) {
    // Minimum statistics: the floor is the lowest level over the last kNoiseBlocks blocks, so it
    // follows steady noise up within one window and down at once, while speech (which has
    // pauses between words) does not lift it.
    current_block_min_ = std::min(current_block_min_, level_db);
    if (++frames_in_block_ >= block_frames_) {
        block_min_[static_cast<std::size_t>(block_index_)] = current_block_min_;
        block_index_ = (block_index_ + 1) % kNoiseBlocks;
        warming_up_ = false;
        frames_in_block_ = 0;
        current_block_min_ = 0.0;  // above any level: the next frame replaces it
    }
}

double VoiceActivityDetector::noise_floor() const {
    double floor = current_block_min_;  // 0 dB (above any level) when the block is empty
    if (warming_up_) {
        return std::min(floor, config_.initial_noise_floor_dbfs);
    }
    for (double block : block_min_) {
        floor = std::min(floor, block);
    }
    return floor;
}

}  // namespace tl::voice
