#pragma once
// WAV files (RIFF, PCM 16-bit mono) for the test phone's --play/--record and for tests.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace tl::media {

struct WavAudio {
    int sample_rate = 8000;
    std::vector<std::int16_t> samples;  // mono (multi-channel input is mixed down)
};

Result<WavAudio> read_wav(const std::filesystem::path& path);
// The same from bytes in memory (files fetched or embedded); never throws on malformed input.
Result<WavAudio> parse_wav(std::span<const std::uint8_t> bytes);
// The 44-byte header of a PCM 16-bit WAV file with `channels` interleaved channels and
// `data_bytes` of samples (sizes beyond 4 GiB are capped: the header cannot say more).
std::string wav_header(int channels, int sample_rate, std::uint64_t data_bytes);
Status write_wav(const std::filesystem::path& path,
                 int sample_rate,
                 std::span<const std::int16_t> samples);

}  // namespace tl::media
