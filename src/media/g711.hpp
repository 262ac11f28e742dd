#pragma once
// G.711 mu-law (PCMU) and A-law (PCMA), ITU-T G.711, table-driven. Thread-safe (const tables).

#include <cstdint>
#include <span>

namespace tl::media {

std::uint8_t linear_to_ulaw(std::int16_t sample);
std::int16_t ulaw_to_linear(std::uint8_t code);
std::uint8_t linear_to_alaw(std::int16_t sample);
std::int16_t alaw_to_linear(std::uint8_t code);

// Block forms; `out` must be at least `in` long.
void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);
void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);

}  // namespace tl::media
