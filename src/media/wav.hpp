#pragma once
// WAV files (RIFF, PCM 16-bit mono) for the test phone's --play/--record and for tests.

#include <cstdint>
#include <filesystem>
#include <span>
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
Status write_wav(const std::filesystem::path& path,
                 int sample_rate,
                 std::span<const std::int16_t> samples);

}  // namespace tl::media
