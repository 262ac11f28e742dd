#include "media/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace tl::media::rtp {
namespace {

TEST(RtpPacket, HeaderRoundTripsAndMatchesTheWireLayout) {
    std::array<std::uint8_t, 12> buffer{};
    const RtpHeader h{true, 8, 0xBEEF, 0x01020304, 0xCAFEBABE};
    ASSERT_EQ(write_header(h, buffer), 12u);
    // RFC 3550 §5.1: V=2 (0x80), M|PT, sequence, timestamp, SSRC, all big-endian.
    const std::array<std::uint8_t, 12> expected = {0x80, 0x88, 0xBE, 0xEF, 0x01, 0x02,
                                                   0x03, 0x04, 0xCA, 0xFE, 0xBA, 0xBE};
    EXPECT_EQ(buffer, expected);
    auto parsed = parse(buffer);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(parsed->header.marker);
    EXPECT_EQ(parsed->header.payload_type, 8);
    EXPECT_EQ(parsed->header.sequence, 0xBEEF);
    EXPECT_EQ(parsed->header.timestamp, 0x01020304u);
    EXPECT_EQ(parsed->header.ssrc, 0xCAFEBABEu);
    EXPECT_TRUE(parsed->payload.empty());
    std::array<std::uint8_t, 11> small{};
    EXPECT_EQ(write_header(h, small), 0u);
}

TEST(RtpPacket, CsrcExtensionAndPaddingAreSkipped) {
    std::vector<std::uint8_t> p = {0xB1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};  // V=2 P X CC=1
    p.insert(p.end(), {9, 9, 9, 9});                                           // CSRC
    p.insert(p.end(), {0xBE, 0xDE, 0x00, 0x01});  // extension header, 1 word
    p.insert(p.end(), {7, 7, 7, 7});              // extension data
    p.insert(p.end(), {0xAA, 0xBB, 0xCC});        // payload
    p.insert(p.end(), {0, 0, 3});                 // padding of 3
    auto parsed = parse(p);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->payload.size(), 3u);
    EXPECT_EQ(parsed->payload[0], 0xAA);
    EXPECT_EQ(parsed->payload[2], 0xCC);
}

TEST(RtpPacket, MalformedPacketsAreRejected) {
    const std::vector<std::vector<std::uint8_t>> cases = {
        {},
        {0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0},                 // 11 bytes
        {0x40, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},              // version 1
        {0x00, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},              // version 0 (e.g. STUN)
        {0x82, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4},  // CC=2, one CSRC present
        {0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9},  // extension longer than packet
        {0xA0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 0},     // padding count 0
        {0xA0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 9},     // padding beyond payload
    };
    for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_FALSE(parse(cases[i])) << i;
}

TEST(RtpPacket, NtpTimestampOfTheUnixEpoch) {
    const auto epoch = std::chrono::system_clock::time_point{};
    EXPECT_EQ(to_ntp(epoch), 2'208'988'800ull << 32);
    const auto half = epoch + std::chrono::milliseconds(1500);
    EXPECT_EQ(to_ntp(half), ((2'208'988'801ull) << 32) | 0x80000000ull);
}

TEST(RtcpPacket, SenderReportWithCnameIsAValidCompoundPacket) {
    std::array<std::uint8_t, 256> buffer{};
    SenderInfo info{0x11223344, 0xAABBCCDD00112233ull, 160000, 50, 8000};
    const auto n = write_report(info, Sender::kYes, "trunkline", buffer);
    // SR 28 bytes; SDES: 4 header + 4 SSRC + 2 + 9 + 1 END = 20 -> padded 20.
    ASSERT_EQ(n, 28u + 20u);
    EXPECT_EQ(n % 4, 0u);
    auto span = std::span<const std::uint8_t>(buffer.data(), n);
    auto first = parse_compound(span);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->packet_type, kRtcpSenderReport);
    EXPECT_EQ(first->ssrc, 0x11223344u);
    EXPECT_EQ(buffer[0], 0x80);
    EXPECT_EQ(buffer[3], 6);  // length in words minus one
    // NTP, RTP timestamp, counts (RFC 3550 §6.4.1)
    EXPECT_EQ(buffer[8], 0xAA);
    EXPECT_EQ(buffer[15], 0x33);
    EXPECT_EQ((buffer[16] << 24 | buffer[17] << 16 | buffer[18] << 8 | buffer[19]), 160000);
    EXPECT_EQ(buffer[23], 50);
    EXPECT_EQ((buffer[26] << 8 | buffer[27]), 8000);

    int packets = 0;
    bool saw_cname = false;
    for_each_rtcp(span, [&](const RtcpPacketView& v) {
        ++packets;
        if (v.packet_type == kRtcpSdes) {
            EXPECT_EQ(v.count, 1);
            EXPECT_EQ(v.ssrc, 0x11223344u);
            ASSERT_GE(v.body.size(), 6u + 9u);
            EXPECT_EQ(v.body[4], kSdesCname);
            EXPECT_EQ(v.body[5], 9);
            EXPECT_EQ(std::string(v.body.begin() + 6, v.body.begin() + 15), "trunkline");
            saw_cname = true;
        }
    });
    EXPECT_EQ(packets, 2);
    EXPECT_TRUE(saw_cname);
}

TEST(RtcpPacket, ReceiverReportWhileNotSending) {
    std::array<std::uint8_t, 256> buffer{};
    const auto n = write_report(SenderInfo{7}, Sender::kNo, "abc", buffer);
    ASSERT_EQ(n, 8u + 16u);  // RR header + SSRC; SDES 4 + 4 + 2 + 3 + 1 -> 16
    auto first = parse_compound(std::span<const std::uint8_t>(buffer.data(), n));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->packet_type, kRtcpReceiverReport);
    EXPECT_EQ(first->ssrc, 7u);
    std::array<std::uint8_t, 10> small{};
    EXPECT_EQ(write_report(SenderInfo{}, Sender::kYes, "abc", small), 0u);
}

TEST(RtcpPacket, InvalidCompoundPacketsAreRejected) {
    std::array<std::uint8_t, 256> buffer{};
    const auto n = write_report(SenderInfo{1}, Sender::kYes, "x", buffer);
    auto good = std::span<const std::uint8_t>(buffer.data(), n);
    EXPECT_TRUE(parse_compound(good));
    EXPECT_FALSE(parse_compound(good.first(n - 4)));  // lengths no longer add up
    auto copy = std::vector<std::uint8_t>(good.begin(), good.end());
    copy[1] = kRtcpSdes;  // must start with SR or RR
    EXPECT_FALSE(parse_compound(copy));
    copy = std::vector<std::uint8_t>(good.begin(), good.end());
    copy[0] = 0x40;  // version 1
    EXPECT_FALSE(parse_compound(copy));
    EXPECT_FALSE(parse_compound({}));
}

}  // namespace
}  // namespace tl::media::rtp
