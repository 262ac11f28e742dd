#include "media/g711.hpp"

#include <array>
#include <cstddef>

// The reference algorithms are those of ITU-T G.191 (STL, g711.c): mu-law operates on the 14 most
// significant bits of a 16-bit sample and A-law on the 13 most significant ones, so the encoders
// are exact lookups on `sample >> 2` (16K entries) and `sample >> 3` (8K entries). Every table is
// computed at compile time from those reference formulas.

namespace tl::media {
namespace {

constexpr std::uint8_t reference_ulaw_compress(int x) {
    // G.191 ulaw_compress: bias 33 (in 14-bit units), one's complement for negative input.
    int absno = (x < 0 ? ((~x) >> 2) : (x >> 2)) + 33;
    if (absno > 0x1FFF) absno = 0x1FFF;
    int i = absno >> 6;
    int segno = 1;
    while (i != 0) {
        ++segno;
        i >>= 1;
    }
    const int high_nibble = 0x08 - segno;
    const int low_nibble = 0x0F - ((absno >> segno) & 0x0F);
    int out = (high_nibble << 4) | low_nibble;
    if (x >= 0) out |= 0x80;
    return static_cast<std::uint8_t>(out);
}

constexpr std::int16_t reference_ulaw_expand(std::uint8_t code) {
    const int sign = code < 0x80 ? -1 : 1;
    const int mantissa_all = ~code;
    const int exponent = (mantissa_all >> 4) & 0x07;
    const int segment = exponent + 1;
    const int mantissa = mantissa_all & 0x0F;
    const int step = 4 << segment;
    return static_cast<std::int16_t>(sign *
                                     ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

constexpr std::uint8_t reference_alaw_compress(int x) {
    int ix = x < 0 ? ((~x) >> 4) : (x >> 4);  // 12-bit magnitude
    if (ix > 15) {
        int iexp = 1;
        while (ix > 16 + 15) {
            ix >>= 1;
            ++iexp;
        }
        ix -= 16;
        ix += iexp << 4;
    }
    if (x >= 0) ix |= 0x80;
    return static_cast<std::uint8_t>(ix ^ 0x55);  // even bits inverted (G.711 §2)
}

constexpr std::int16_t reference_alaw_expand(std::uint8_t code) {
    int ix = (code ^ 0x55) & 0x7F;
    const int iexp = ix >> 4;
    int mant = ix & 0x0F;
    if (iexp > 0) mant += 16;
    mant = (mant << 4) + 0x08;
    if (iexp > 1) mant <<= (iexp - 1);
    return static_cast<std::int16_t>(code > 127 ? mant : -mant);
}

template <class Fn>
constexpr std::array<std::int16_t, 256> make_decode_table(Fn expand) {
    std::array<std::int16_t, 256> table{};
    for (int c = 0; c < 256; ++c) table[c] = expand(static_cast<std::uint8_t>(c));
    return table;
}

// Index = sample >> shift, offset so that the most negative sample maps to 0.
template <int Shift, class Fn>
constexpr std::array<std::uint8_t, (65536 >> Shift)> make_encode_table(Fn compress) {
    std::array<std::uint8_t, (65536 >> Shift)> table{};
    constexpr int kOffset = 32768 >> Shift;
    for (int i = 0; i < (65536 >> Shift); ++i) table[i] = compress((i - kOffset) * (1 << Shift));
    return table;
}

constexpr auto kUlawDecode = make_decode_table(reference_ulaw_expand);
constexpr auto kAlawDecode = make_decode_table(reference_alaw_expand);
constexpr auto kUlawEncode = make_encode_table<2>(reference_ulaw_compress);
constexpr auto kAlawEncode = make_encode_table<3>(reference_alaw_compress);

// Spot checks of the ITU vectors, at compile time.
static_assert(kUlawDecode[0x00] == -32124 && kUlawDecode[0x80] == 32124);
static_assert(kUlawDecode[0xFF] == 0 && kUlawDecode[0x7F] == 0);
static_assert(kAlawDecode[0xD5] == 8 && kAlawDecode[0x55] == -8 && kAlawDecode[0x2A] == -32256);

}  // namespace

std::uint8_t linear_to_ulaw(std::int16_t sample) {
    return kUlawEncode[static_cast<std::size_t>(sample + 32768) >> 2];
}

std::int16_t ulaw_to_linear(std::uint8_t code) { return kUlawDecode[code]; }

std::uint8_t linear_to_alaw(std::int16_t sample) {
    return kAlawEncode[static_cast<std::size_t>(sample + 32768) >> 3];
}

std::int16_t alaw_to_linear(std::uint8_t code) { return kAlawDecode[code]; }

void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = linear_to_ulaw(in[i]);
}

void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
    for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = kUlawDecode[in[i]];
}

void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = linear_to_alaw(in[i]);
}

void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
    for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = kAlawDecode[in[i]];
}

}  // namespace tl::media
