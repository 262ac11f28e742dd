#pragma once
// Test-only audio for the listening tests: real synthetic speech (espeak-ng through the server's
// own provider, flite through its command-line tool) and deterministic noise and tones at 8 kHz.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "media/rtp_session.hpp"
#include "voice/listening/voice_activity_detector.hpp"

namespace tl::voice::test {

// 8 kHz samples for `ms` milliseconds.
constexpr std::size_t samples_for_ms(int ms) {
    return static_cast<std::size_t>(ms) * kListenSampleRate / 1000;
}

// espeak-ng via make_espeak_tts() (en-us, klatt4 variant), 8 kHz.
media::Pcm espeak(const std::string& text);

// flite (Debian `flite`) with one of its voices (kal, kal16, awb, rms, slt), resampled to 8 kHz.
// kUnavailable when the flite program is missing or fails.
Result<media::Pcm> flite(const std::string& voice, const std::string& text);

// The espeak-ng program with one of its voices ("en-gb-scotland"), its default variant, 8 kHz.
// Deterministic, unlike the server's klatt4 variant.
Result<media::Pcm> espeak_voice(const std::string& voice, const std::string& text);

// The RMS level of the frames louder than -50 dBFS (the speech), in dBFS.
double speech_level_dbfs(const media::Pcm& pcm);

media::Pcm silence(int ms);
// Uniform white noise with the given RMS level (dBFS re full scale); the same seed gives the same
// samples.
media::Pcm white_noise(int ms, double rms_dbfs, std::uint32_t seed);
// A sine of the given RMS level.
media::Pcm tone(double frequency, int ms, double rms_dbfs);
// Sample-wise sum (saturating); the result is as long as the longer input.
media::Pcm mix(const media::Pcm& a, const media::Pcm& b);
media::Pcm concat(std::initializer_list<const media::Pcm*> parts);
// G.711 mu-law encode + decode: what a caller's audio looks like after a PCMU call leg.
media::Pcm through_ulaw(const media::Pcm& pcm);

// The VAD decision of every whole frame.
std::vector<VadFrame> run_vad(VoiceActivityDetector& vad, const media::Pcm& pcm);

// First and last frame whose absolute level reaches `threshold_dbfs` (frame RMS), i.e. where the
// synthetic speech really is: {-1, -1} when none does.
std::pair<long, long> loud_frames(const media::Pcm& pcm, double threshold_dbfs);

}  // namespace tl::voice::test
