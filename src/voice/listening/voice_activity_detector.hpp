#pragma once
// Voice activity detection for telephone audio (docs/listening.md "Voice activity detection"):
// one decision per 20 ms frame of 8 kHz mono audio.
//
// A frame is speech-like ("voiced") when its 200-3400 Hz energy stands far enough above an
// adaptive noise floor (the minimum frame energy over the last few seconds, so steady noise of
// any level becomes the floor), is not a tone (most of its energy in one or two narrow peaks
// that hold still from frame to frame: dial tone, ringback, a test tone, fax or modem tones), and,
// to start speech, is not flat like hiss or white noise (spectral flatness). Once speech has
// started the flatness check is dropped and a lower threshold applies (hysteresis), so fricatives
// such as "s" and "f" stay speech; a hangover keeps `speech` set for a few frames after the last
// voiced frame so short gaps between words do not split an utterance.
//
// Deterministic (the same samples give the same decisions), no allocation, lock or log per frame:
// a 256-point FFT on a fixed buffer. Thread-safety: none; one detector per call, used on that
// call's strand.

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tl::voice {

inline constexpr int kListenSampleRate = 8000;
inline constexpr std::size_t kFrameSamples = 160;  // 20 ms at 8 kHz
inline constexpr int kFrameMs = 20;

struct VadConfig {
    // A frame starts speech when its level is at least this far above the noise floor...
    double onset_snr_db = 10.0;
    // ...and keeps speech going while at least this far above it.
    double continue_snr_db = 5.0;
    // Frames quieter than this are never speech (line noise, dither, digital silence). Levels are
    // the RMS of the 200-3400 Hz band relative to full scale.
    double min_level_dbfs = -50.0;
    // Spectral flatness (geometric over arithmetic mean of the band's power spectrum: about 0.5
    // for white noise, well under 0.2 for voiced speech) at or above which a frame cannot start
    // speech.
    double max_onset_flatness = 0.35;
    // Once speech has started, flat frames (fricatives: "s", "f", "sh") continue it, but at most
    // this many in a row (200 ms).
    int max_flat_frames_in_speech = 10;
    // A tone: frames whose two strongest peaks (each 5 bins, 156 Hz wide) hold at least this
    // share of the band's energy, whose strongest peak stays within one bin (31 Hz) of the
    // previous frame's and whose level moves by at most `tone_level_tolerance_db`, for
    // `tone_min_steady_frames` frames in a row. Tone frames are never speech.
    double tone_concentration = 0.80;
    double tone_level_tolerance_db = 0.3;
    int tone_min_steady_frames = 3;
    // Frames `speech` stays set after the last voiced frame.
    int hangover_frames = 8;
    // The noise floor is the lowest frame level over this many frames (3 s)...
    int noise_window_frames = 150;
    // ...and during the first sixth of that window (0.5 s) no higher than this, so speech from
    // the very first frame is heard.
    double initial_noise_floor_dbfs = -60.0;
};

struct VadFrame {
    bool voiced = false;  // this frame looks like speech
    bool speech = false;  // voiced, or within the hangover after a voiced frame
    bool tone = false;    // part of a steady tone (never speech)
    float level_dbfs = -120.0F;
    float noise_floor_dbfs = -120.0F;
    float flatness = 0.0F;       // 0..1
    float concentration = 0.0F;  // 0..1, share of the two strongest peaks
    float peak_hz = 0.0F;        // centre of the strongest bin
};

class VoiceActivityDetector {
public:
    explicit VoiceActivityDetector(VadConfig config = {});

    // One 20 ms frame of 8 kHz audio, in order.
    VadFrame process(std::span<const std::int16_t, kFrameSamples> frame);

    // Forgets all history (noise floor, hangover, analysis window), as if newly constructed.
    void reset();

    const VadConfig& config() const { return config_; }

private:
    static constexpr std::size_t kFftSize = 256;  // 32 ms window: 31.25 Hz bins
    static constexpr int kNoiseBlocks = 6;

    void analyse(VadFrame& out);
    void update_noise_floor(double level_db);
    double noise_floor() const;

    VadConfig config_;
    int block_frames_ = 1;
    std::array<std::int16_t, kFftSize> window_samples_{};  // the last 256 samples
    std::array<std::complex<float>, kFftSize> spectrum_{};
    std::array<float, kFftSize / 2> power_{};
    std::array<double, kNoiseBlocks> block_min_{};  // finished blocks, ring
    int block_index_ = 0;
    double current_block_min_ = 0;
    int frames_in_block_ = 0;
    bool warming_up_ = true;  // the first block is not complete yet
    int hangover_left_ = 0;
    int flat_frames_ = 0;         // consecutive flat frames
    bool in_speech_ = false;      // the previous frame's `speech`
    int previous_peak_bin_ = -1;  // strongest bin of the previous frame, -1 after silence
    double previous_level_db_ = -120.0;
    int steady_frames_ = 0;  // consecutive frames that look like a steady tone
    bool previous_tone_ = false;
};

}  // namespace tl::voice
