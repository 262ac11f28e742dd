#include "voice/listening/listening_test_audio.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/temp_dir.hpp"
#include "media/g711.hpp"
#include "media/resampler.hpp"
#include "media/wav.hpp"
#include "voice/text_to_speech.hpp"

extern char** environ;  // NOLINT: POSIX

namespace tl::voice::test {
namespace {

constexpr double kFullScale = 32767.0;

double amplitude_for(double rms_dbfs) { return kFullScale * std::pow(10.0, rms_dbfs / 20.0); }

std::int16_t saturate(double value) {
    return static_cast<std::int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
}

}  // namespace

media::Pcm espeak(const std::string& text) {
    static const std::shared_ptr<TextToSpeech> tts = make_espeak_tts();
    auto result = tts->synthesize(text, "en");
    if (!result) {
        throw ErrorException(result.error());
    }
    return **result;
}

namespace {

// Runs a synthesiser that writes `out`, then reads it back at 8 kHz.
Result<media::Pcm> synthesise_with(std::vector<std::string> args, const std::string& out) {
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
        return make_error(Errc::kUnavailable, "cannot run " + args[0] + " (install Debian package " +
                                                  args[0] + ")");
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return make_error(Errc::kUnavailable, args[0] + " failed");
    }
    auto wav = media::read_wav(out);
    if (!wav) {
        return wav.error();
    }
    if (wav->sample_rate == kListenSampleRate) {
        return std::move(wav->samples);
    }
    return media::resample(wav->samples, wav->sample_rate, kListenSampleRate);
}

}  // namespace

Result<media::Pcm> flite(const std::string& voice, const std::string& text) {
    TempDir dir("tl_flite");
    const std::string out = (dir.path() / "speech.wav").string();
    return synthesise_with({"flite", "-voice", voice, "-t", text, "-o", out}, out);
}

Result<media::Pcm> espeak_voice(const std::string& voice, const std::string& text) {
    TempDir dir("tl_espeak");
    const std::string out = (dir.path() / "speech.wav").string();
    return synthesise_with({"espeak-ng", "-v", voice, "-w", out, text}, out);
}

double speech_level_dbfs(const media::Pcm& pcm) {
    // Frames above -50 dBFS: the speech, not the pauses around and between words.
    double sum = 0;
    std::size_t count = 0;
    for (std::size_t f = 0; (f + 1) * kFrameSamples <= pcm.size(); ++f) {
        double frame = 0;
        for (std::size_t i = f * kFrameSamples; i < (f + 1) * kFrameSamples; ++i) {
            frame += static_cast<double>(pcm[i]) * pcm[i];
        }
        if (frame / kFrameSamples >= amplitude_for(-50) * amplitude_for(-50)) {
            sum += frame;
            count += kFrameSamples;
        }
    }
    return count == 0 ? -100 : 20 * std::log10(std::sqrt(sum / static_cast<double>(count)) / kFullScale);
}

media::Pcm silence(int ms) { return media::Pcm(samples_for_ms(ms), 0); }

media::Pcm white_noise(int ms, double rms_dbfs, std::uint32_t seed) {
    // Uniform in [-a, a] has RMS a / sqrt(3). A 32-bit LCG (Numerical Recipes): the same samples
    // on every platform, unlike std:: distributions.
    const double a = amplitude_for(rms_dbfs) * std::sqrt(3.0);
    media::Pcm out(samples_for_ms(ms));
    std::uint32_t state = seed;
    for (auto& sample : out) {
        state = state * 1664525U + 1013904223U;
        const double unit = static_cast<double>(state) / 4294967296.0 * 2.0 - 1.0;
        sample = saturate(a * unit);
    }
    return out;
}

media::Pcm tone(double frequency, int ms, double rms_dbfs) {
    const double a = amplitude_for(rms_dbfs) * std::numbers::sqrt2;
    media::Pcm out(samples_for_ms(ms));
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = saturate(a * std::sin(2 * std::numbers::pi * frequency * static_cast<double>(i) /
                                       kListenSampleRate));
    }
    return out;
}

media::Pcm mix(const media::Pcm& a, const media::Pcm& b) {
    media::Pcm out(std::max(a.size(), b.size()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double x = (i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0);
        out[i] = saturate(x);
    }
    return out;
}

media::Pcm concat(std::initializer_list<const media::Pcm*> parts) {
    media::Pcm out;
    for (const media::Pcm* part : parts) {
        out.insert(out.end(), part->begin(), part->end());
    }
    return out;
}

media::Pcm through_ulaw(const media::Pcm& pcm) {
    std::vector<std::uint8_t> encoded(pcm.size());
    media::encode_ulaw(pcm, encoded);
    media::Pcm out(pcm.size());
    media::decode_ulaw(encoded, out);
    return out;
}

std::vector<VadFrame> run_vad(VoiceActivityDetector& vad, const media::Pcm& pcm) {
    std::vector<VadFrame> frames;
    for (std::size_t start = 0; start + kFrameSamples <= pcm.size(); start += kFrameSamples) {
        frames.push_back(vad.process(
            std::span<const std::int16_t, kFrameSamples>(pcm.data() + start, kFrameSamples)));
    }
    return frames;
}

std::pair<long, long> loud_frames(const media::Pcm& pcm, double threshold_dbfs) {
    const double threshold = amplitude_for(threshold_dbfs);
    long first = -1;
    long last = -1;
    for (std::size_t f = 0; (f + 1) * kFrameSamples <= pcm.size(); ++f) {
        double sum = 0;
        for (std::size_t i = f * kFrameSamples; i < (f + 1) * kFrameSamples; ++i) {
            sum += static_cast<double>(pcm[i]) * pcm[i];
        }
        if (std::sqrt(sum / kFrameSamples) >= threshold) {
            if (first < 0) {
                first = static_cast<long>(f);
            }
            last = static_cast<long>(f);
        }
    }
    return {first, last};
}

}  // namespace tl::voice::test
