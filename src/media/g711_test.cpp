#include "media/g711.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <vector>

namespace tl::media {
namespace {

// Vectors of ITU-T G.711 (Tables 1a/2a, scaled to 16 bits as in G.191), each also checked by hand
// against the Sun/CCITT reference decoder (ulaw2linear / alaw2linear).
struct DecodeVector {
    std::uint8_t code;
    std::int16_t linear;
};

constexpr std::array kUlawDecodeVectors = {
    DecodeVector{0x00, -32124}, DecodeVector{0x80, 32124},  DecodeVector{0xFF, 0},
    DecodeVector{0x7F, 0},      DecodeVector{0xFE, 8},      DecodeVector{0x7E, -8},
    DecodeVector{0xF0, 120},    DecodeVector{0xEF, 132},    DecodeVector{0x8F, 16764},
    DecodeVector{0x90, 15996},  DecodeVector{0x0F, -16764},
};

constexpr std::array kAlawDecodeVectors = {
    DecodeVector{0xD5, 8},      DecodeVector{0x55, -8},     DecodeVector{0xD4, 24},
    DecodeVector{0x2A, -32256}, DecodeVector{0xAA, 32256},  DecodeVector{0xDA, 248},
    DecodeVector{0xC5, 264},    DecodeVector{0xC4, 280},    DecodeVector{0xFA, 1008},
    DecodeVector{0xA5, 16896},  DecodeVector{0x25, -16896},
};

struct EncodeVector {
    std::int16_t linear;
    std::uint8_t code;
};

constexpr std::array kUlawEncodeVectors = {
    EncodeVector{0, 0xFF},      EncodeVector{-1, 0x7F}, EncodeVector{32767, 0x80},
    EncodeVector{-32768, 0x00}, EncodeVector{8, 0xFE},  EncodeVector{-8, 0x7E},
    EncodeVector{32124, 0x80},  EncodeVector{1, 0xFF},  EncodeVector{-32124, 0x00},
};

constexpr std::array kAlawEncodeVectors = {
    EncodeVector{0, 0xD5},   EncodeVector{-1, 0x55},    EncodeVector{15, 0xD5},
    EncodeVector{16, 0xD4},  EncodeVector{32767, 0xAA}, EncodeVector{-32768, 0x2A},
    EncodeVector{-16, 0x55}, EncodeVector{-17, 0x54},
};

TEST(G711, UlawDecodeVectors) {
    for (const auto& v : kUlawDecodeVectors) {
        EXPECT_EQ(ulaw_to_linear(v.code), v.linear) << "code " << int(v.code);
    }
}

TEST(G711, AlawDecodeVectors) {
    for (const auto& v : kAlawDecodeVectors) {
        EXPECT_EQ(alaw_to_linear(v.code), v.linear) << "code " << int(v.code);
    }
}

TEST(G711, UlawEncodeVectors) {
    for (const auto& v : kUlawEncodeVectors) {
        EXPECT_EQ(linear_to_ulaw(v.linear), v.code) << "linear " << v.linear;
    }
}

TEST(G711, AlawEncodeVectors) {
    for (const auto& v : kAlawEncodeVectors) {
        EXPECT_EQ(linear_to_alaw(v.linear), v.code) << "linear " << v.linear;
    }
}

// Every code survives decode -> encode, except mu-law's negative zero (0x7F decodes to 0, which
// encodes as the positive zero 0xFF).
TEST(G711, EveryCodeRoundTrips) {
    for (int c = 0; c < 256; ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        if (code != 0x7F) {
            EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(code)), code) << c;
        }
        EXPECT_EQ(linear_to_alaw(alaw_to_linear(code)), code) << c;
    }
}

// The quantiser is monotonic and the reconstruction error stays within half a quantisation step
// of the code's segment over all 65536 inputs (G.711 §3/§4: mu-law steps of 8 << e in 16-bit
// units, A-law 16 << (e - 1) with segments 0 and 1 both 16); beyond the largest level the output
// clips to it.
template <class Encode, class Decode, class HalfStep>
void check_round_trip(Encode encode, Decode decode, HalfStep half_step, int max_level) {
    int previous = -40000;
    int worst = 0;
    for (int x = -32768; x <= 32767; ++x) {
        const auto code = encode(static_cast<std::int16_t>(x));
        const int y = decode(code);
        ASSERT_GE(y, previous) << "not monotonic at " << x;
        previous = y;
        const int err = std::abs(y - x);
        if (std::abs(x) > max_level) {
            ASSERT_EQ(std::abs(y), max_level) << x;
            continue;
        }
        ASSERT_LE(err, half_step(code)) << "input " << x << " decoded " << y;
        ASSERT_LE(err, std::max(16, std::abs(x) / 23)) << "relative error above 4.4% at " << x;
        worst = std::max(worst, err);
    }
    EXPECT_GT(worst, 0);
}

TEST(G711, UlawRoundTripErrorBound) {
    // mu-law codes are complemented; the segment is bits 4-6 of ~code. The encoder sees the top
    // 14 bits only, which adds up to 3 units.
    const auto half_step = [](std::uint8_t code) { return (4 << ((~code >> 4) & 7)) + 3; };
    check_round_trip(linear_to_ulaw, ulaw_to_linear, half_step, 32124);
}

TEST(G711, AlawRoundTripErrorBound) {
    const auto half_step = [](std::uint8_t code) {
        const int segment = ((code ^ 0x55) >> 4) & 7;
        return 8 << std::max(0, segment - 1);
    };
    check_round_trip(linear_to_alaw, alaw_to_linear, half_step, 32256);
}

TEST(G711, BlockFormsMatchScalar) {
    std::vector<std::int16_t> pcm;
    for (int x = -32768; x <= 32767; x += 37) pcm.push_back(static_cast<std::int16_t>(x));
    std::vector<std::uint8_t> u(pcm.size()), a(pcm.size());
    encode_ulaw(pcm, u);
    encode_alaw(pcm, a);
    std::vector<std::int16_t> du(pcm.size()), da(pcm.size());
    decode_ulaw(u, du);
    decode_alaw(a, da);
    for (std::size_t i = 0; i < pcm.size(); ++i) {
        ASSERT_EQ(u[i], linear_to_ulaw(pcm[i]));
        ASSERT_EQ(a[i], linear_to_alaw(pcm[i]));
        ASSERT_EQ(du[i], ulaw_to_linear(u[i]));
        ASSERT_EQ(da[i], alaw_to_linear(a[i]));
    }
}

}  // namespace
}  // namespace tl::media
