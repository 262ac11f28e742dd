#include "sip/capture/hep.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

// The test's own reading of the format, written from the specification: chunks by type.
struct Decoded {
    std::size_t declared_length = 0;
    std::map<std::uint16_t, std::vector<std::uint8_t>> chunks;
};

std::uint16_t be16(const std::vector<std::uint8_t>& b, std::size_t at) {
    return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}

std::uint32_t be32(const std::vector<std::uint8_t>& b) {
    return std::uint32_t{b.at(0)} << 24 | std::uint32_t{b.at(1)} << 16 |
           std::uint32_t{b.at(2)} << 8 | b.at(3);
}

Decoded decode(const std::vector<std::uint8_t>& packet) {
    Decoded d;
    EXPECT_EQ(std::string(packet.begin(), packet.begin() + 4), "HEP3");
    d.declared_length = be16(packet, 4);
    std::size_t at = 6;
    while (at < packet.size()) {
        EXPECT_EQ(be16(packet, at), 0) << "vendor at " << at;
        const std::uint16_t type = be16(packet, at + 2);
        const std::uint16_t length = be16(packet, at + 4);
        EXPECT_GE(length, 6);
        EXPECT_LE(at + length, packet.size());
        EXPECT_EQ(d.chunks.count(type), 0u) << "chunk " << type << " twice";
        d.chunks[type] = {packet.begin() + at + 6, packet.begin() + at + length};
        at += length;
    }
    EXPECT_EQ(at, packet.size());
    return d;
}

std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

TEST(Hep3, EncodesAnOutgoingIpv4UdpMessage) {
    const auto m = test::transfer_call().messages[1];  // out: 100 Trying to the carrier
    const auto packet = encode_hep3(m, 2001, "carrier-call-1@203.0.113.10");
    const auto d = decode(packet);
    EXPECT_EQ(d.declared_length, packet.size());
    using B = std::vector<std::uint8_t>;
    EXPECT_EQ(d.chunks.at(0x0001), B{2});
    EXPECT_EQ(d.chunks.at(0x0002), B{17});
    EXPECT_EQ(d.chunks.at(0x0003), (B{10, 0, 0, 5}));      // source: us
    EXPECT_EQ(d.chunks.at(0x0004), (B{203, 0, 113, 10}));  // destination: the carrier
    EXPECT_EQ(d.chunks.at(0x0007), (B{0x13, 0xc4}));       // 5060
    EXPECT_EQ(d.chunks.at(0x0008), (B{0x13, 0xc4}));
    // 2026-12-07T19:13:46.124456Z: the fixture's start plus 1 ms.
    EXPECT_EQ(be32(d.chunks.at(0x0009)), 1796670826u);
    EXPECT_EQ(be32(d.chunks.at(0x000a)), 124456u);
    EXPECT_EQ(d.chunks.at(0x000b), B{1});
    EXPECT_EQ(be32(d.chunks.at(0x000c)), 2001u);
    EXPECT_EQ(text(d.chunks.at(0x000f)), m.raw);
    EXPECT_EQ(text(d.chunks.at(0x0011)), "carrier-call-1@203.0.113.10");
    EXPECT_EQ(d.chunks.count(0x0005), 0u);
    EXPECT_EQ(d.chunks.size(), 12u);
}

TEST(Hep3, EncodesAnIncomingIpv6TcpMessage) {
    CapturedMessage m =
        test::message(0, Direction::kIn, "2001:db8::10", "BYE sip:x SIP/2.0\r\n\r\n", "tls");
    m.local_ip = "2001:db8::5";
    m.local_port = 5061;
    m.remote_port = 40000;
    const auto d = decode(encode_hep3(m, 7, ""));
    using B = std::vector<std::uint8_t>;
    EXPECT_EQ(d.chunks.at(0x0001), B{10});
    EXPECT_EQ(d.chunks.at(0x0002), B{6});
    const B remote{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    const B local{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};
    EXPECT_EQ(d.chunks.at(0x0005), remote);  // in: the peer sent it
    EXPECT_EQ(d.chunks.at(0x0006), local);
    EXPECT_EQ(d.chunks.at(0x0007), (B{0x9c, 0x40}));  // 40000
    EXPECT_EQ(d.chunks.at(0x0008), (B{0x13, 0xc5}));  // 5061
    EXPECT_EQ(d.chunks.count(0x0003), 0u);
    EXPECT_EQ(d.chunks.count(0x0011), 0u);  // no correlation id given
    EXPECT_EQ(text(d.chunks.at(0x000f)), m.raw);
}

TEST(Hep3, MixedFamiliesUseIpv4MappedAddresses) {
    CapturedMessage m = test::message(0, Direction::kOut, "2001:db8::10", "x");
    const auto d = decode(encode_hep3(m, 1, "c"));
    using B = std::vector<std::uint8_t>;
    EXPECT_EQ(d.chunks.at(0x0001), B{10});
    EXPECT_EQ(d.chunks.at(0x0005), (B{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5}));
}

TEST(Hep3, UnparseableAddressesAreZero) {
    CapturedMessage m = test::message(0, Direction::kOut, "not an address", "x");
    m.local_ip.clear();
    m.local_port = 70000;
    const auto d = decode(encode_hep3(m, 1, ""));
    using B = std::vector<std::uint8_t>;
    EXPECT_EQ(d.chunks.at(0x0003), (B{0, 0, 0, 0}));
    EXPECT_EQ(d.chunks.at(0x0004), (B{0, 0, 0, 0}));
    EXPECT_EQ(d.chunks.at(0x0007), (B{0, 0}));
}

TEST(Hep3, AHugeMessageIsCutToFitTheLength) {
    CapturedMessage m =
        test::message(0, Direction::kOut, test::kCarrierIp, std::string(100000, 'x'));
    const auto packet = encode_hep3(m, 1, std::string(5000, 'c'));
    EXPECT_EQ(packet.size(), 65535u);
    const auto d = decode(packet);
    EXPECT_EQ(d.declared_length, 65535u);
    EXPECT_EQ(d.chunks.at(0x0011).size(), kMaxHepCorrelationId);
    EXPECT_GT(d.chunks.at(0x000f).size(), 60000u);
}

}  // namespace
}  // namespace tl::sip
