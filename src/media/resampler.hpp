#pragma once
// Sample-rate conversion of mono 16-bit audio (TTS output at 16/22.05/24 kHz to the 8 kHz of
// G.711, and 8 kHz to 16 kHz for speech recognition): windowed-sinc low-pass interpolation so
// telephone audio does not alias. Pure function, thread-safe.

#include <cstdint>
#include <span>
#include <vector>

namespace tl::media {

std::vector<std::int16_t> resample(std::span<const std::int16_t> in, int from_rate, int to_rate);

}  // namespace tl::media
