#include "sip/capture/pcap.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sip/capture/test_call.hpp"

namespace tl::sip {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Record {
    std::uint32_t seconds = 0;
    std::uint32_t microseconds = 0;
    std::uint32_t original_length = 0;
    Bytes frame;
};

std::uint32_t le32(const std::string& s, std::size_t at) {
    return std::uint32_t{static_cast<std::uint8_t>(s.at(at))} |
           std::uint32_t{static_cast<std::uint8_t>(s.at(at + 1))} << 8 |
           std::uint32_t{static_cast<std::uint8_t>(s.at(at + 2))} << 16 |
           std::uint32_t{static_cast<std::uint8_t>(s.at(at + 3))} << 24;
}

std::uint16_t be16(const Bytes& b, std::size_t at) {
    return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}

std::uint32_t be32(const Bytes& b, std::size_t at) {
    return std::uint32_t{be16(b, at)} << 16 | be16(b, at + 2);
}

// The test's own reading of pcap-savefile(5), after the 24-byte global header.
std::vector<Record> records(const std::string& file) {
    std::vector<Record> out;
    std::size_t at = 24;
    while (at < file.size()) {
        Record r;
        r.seconds = le32(file, at);
        r.microseconds = le32(file, at + 4);
        const std::uint32_t included = le32(file, at + 8);
        r.original_length = le32(file, at + 12);
        EXPECT_EQ(included, r.original_length);
        EXPECT_LE(at + 16 + included, file.size());
        r.frame.assign(file.begin() + at + 16, file.begin() + at + 16 + included);
        out.push_back(std::move(r));
        at += 16 + included;
    }
    EXPECT_EQ(at, file.size());
    return out;
}

// RFC 1071 computed independently: over a correct header (checksum included) the sum is 0xffff.
std::uint32_t ones_sum(const Bytes& b, std::size_t from, std::size_t to, std::uint32_t sum = 0) {
    for (std::size_t i = from; i < to; i += 2) {
        sum += (i + 1 < to) ? be16(b, i) : static_cast<std::uint32_t>(b[i] << 8);
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

// The UDP or TCP checksum over the pseudo-header is right when the sum comes to 0xffff.
void expect_transport_checksum(const Bytes& f, bool v6, std::uint8_t protocol) {
    const std::size_t ip = 14;
    const std::size_t l4 = ip + (v6 ? 40 : 20);
    const std::size_t length = f.size() - l4;
    std::uint32_t sum = 0;
    if (v6) {
        sum = ones_sum(f, ip + 8, ip + 40);
    } else {
        sum = ones_sum(f, ip + 12, ip + 20);
    }
    sum += protocol + static_cast<std::uint32_t>(length & 0xffff) +
           static_cast<std::uint32_t>(length >> 16);
    EXPECT_EQ(ones_sum(f, l4, f.size(), sum), 0xffffu);
}

std::string payload(const Bytes& frame, std::size_t header) {
    return {frame.begin() + static_cast<long>(header), frame.end()};
}

TEST(Pcap, GlobalHeader) {
    const std::string file = write_pcap({});
    const Bytes expected{0xd4, 0xc3, 0xb2, 0xa1,   // magic: microsecond timestamps, little-endian
                         0x02, 0x00, 0x04, 0x00,   // version 2.4
                         0x00, 0x00, 0x00, 0x00,   // thiszone
                         0x00, 0x00, 0x00, 0x00,   // sigfigs
                         0x00, 0x00, 0x04, 0x00,   // snaplen 262144
                         0x01, 0x00, 0x00, 0x00};  // LINKTYPE_ETHERNET
    EXPECT_EQ(Bytes(file.begin(), file.end()), expected);
}

TEST(Pcap, UdpOverIpv4) {
    CaptureSnapshot s;
    s.messages.push_back(test::transfer_call().messages[1]);  // out: 100 Trying
    s.messages[0].remote_port = 5070;
    const auto r = records(write_pcap(s));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].seconds, 1796670826u);
    EXPECT_EQ(r[0].microseconds, 124456u);
    const Bytes& f = r[0].frame;
    const std::string& raw = s.messages[0].raw;
    ASSERT_EQ(f.size(), 14 + 20 + 8 + raw.size());
    // Ethernet: to the peer's MAC from ours, IPv4.
    EXPECT_EQ(Bytes(f.begin(), f.begin() + 14),
              (Bytes{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}));
    // IPv4 (RFC 791 §3.1).
    EXPECT_EQ(f[14], 0x45);
    EXPECT_EQ(be16(f, 16), 20 + 8 + raw.size());
    EXPECT_EQ(be16(f, 20), 0x4000);  // DF
    EXPECT_EQ(f[22], 64);
    EXPECT_EQ(f[23], 17);
    EXPECT_EQ(ones_sum(f, 14, 34), 0xffffu);
    EXPECT_EQ(Bytes(f.begin() + 26, f.begin() + 34), (Bytes{10, 0, 0, 5, 203, 0, 113, 10}));
    // UDP (RFC 768).
    EXPECT_EQ(be16(f, 34), 5060);
    EXPECT_EQ(be16(f, 36), 5070);
    EXPECT_EQ(be16(f, 38), 8 + raw.size());
    EXPECT_NE(be16(f, 40), 0);
    expect_transport_checksum(f, false, 17);
    EXPECT_EQ(payload(f, 42), raw);
}

TEST(Pcap, UdpOverIpv6Incoming) {
    CaptureSnapshot s;
    s.messages.push_back(
        test::message(0, Direction::kIn, "2001:db8::10", "BYE sip:x SIP/2.0\r\n\r\n"));
    s.messages[0].local_ip = "2001:db8::5";
    const auto r = records(write_pcap(s));
    ASSERT_EQ(r.size(), 1u);
    const Bytes& f = r[0].frame;
    EXPECT_EQ(Bytes(f.begin(), f.begin() + 14),
              (Bytes{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd}));
    EXPECT_EQ(f[14] >> 4, 6);
    EXPECT_EQ(be16(f, 18), 8 + s.messages[0].raw.size());
    EXPECT_EQ(f[20], 17);
    EXPECT_EQ(f[22 + 15], 0x10);  // source: the peer
    EXPECT_EQ(f[38 + 15], 0x05);
    expect_transport_checksum(f, true, 17);
    EXPECT_EQ(payload(f, 62), s.messages[0].raw);
}

TEST(Pcap, TcpSequenceNumbersAdvancePerFlow) {
    CaptureSnapshot s;
    s.messages = {
        test::message(0, Direction::kOut, test::kCarrierIp, "INVITE sip:a SIP/2.0\r\n\r\n", "tcp"),
        test::message(1, Direction::kIn, test::kCarrierIp, "SIP/2.0 100 Trying\r\n\r\n", "tcp"),
        test::message(2, Direction::kOut, test::kCarrierIp, "ACK sip:a SIP/2.0\r\n\r\n", "tls"),
        test::message(3, Direction::kOut, test::kDeskIp, "OPTIONS sip:d SIP/2.0\r\n\r\n", "tcp"),
    };
    const auto r = records(write_pcap(s));
    ASSERT_EQ(r.size(), 4u);
    const std::size_t tcp = 34;
    for (const auto& rec : r) {
        EXPECT_EQ(rec.frame[23], 6);
        EXPECT_EQ(ones_sum(rec.frame, 14, 34), 0xffffu);
        EXPECT_EQ(rec.frame[tcp + 12], 0x50);  // 20-byte header
        EXPECT_EQ(rec.frame[tcp + 13], 0x18);  // ACK|PSH
        expect_transport_checksum(rec.frame, false, 6);
    }
    const auto seq = [&](std::size_t i) { return be32(r[i].frame, tcp + 4); };
    const auto ack = [&](std::size_t i) { return be32(r[i].frame, tcp + 8); };
    const auto len = [&](std::size_t i) {
        return static_cast<std::uint32_t>(s.messages[i].raw.size());
    };
    EXPECT_EQ(seq(2), seq(0) + len(0));  // our direction, next segment
    EXPECT_EQ(ack(1), seq(0) + len(0));  // they acknowledge what we sent
    EXPECT_EQ(ack(2), seq(1) + len(1));  // and we what they sent
    EXPECT_EQ(ack(0), seq(1));           // before they sent anything
    EXPECT_NE(seq(3), seq(2) + len(2));  // another flow, its own numbers
    EXPECT_EQ(payload(r[2].frame, 54), s.messages[2].raw);
}

TEST(Pcap, ALargeTcpMessageIsSplitIntoSegments) {
    CaptureSnapshot s;
    std::string big = "MESSAGE sip:a SIP/2.0\r\nContent-Length: 70000\r\n\r\n";
    big += std::string(70000, 'x');
    s.messages.push_back(test::message(0, Direction::kOut, test::kCarrierIp, big, "tcp"));
    const auto r = records(write_pcap(s));
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(be16(r[0].frame, 16), 65535);  // a full IPv4 packet
    EXPECT_EQ(r[0].frame.size() - 54, 65495u);
    EXPECT_EQ(be32(r[1].frame, 38), be32(r[0].frame, 38) + 65495);
    EXPECT_EQ(payload(r[0].frame, 54) + payload(r[1].frame, 54), big);
    for (const auto& rec : r) {
        EXPECT_EQ(ones_sum(rec.frame, 14, 34), 0xffffu);
        expect_transport_checksum(rec.frame, false, 6);
    }
}

TEST(Pcap, AnOversizedUdpMessageIsCutToOneDatagram) {
    CaptureSnapshot s;
    s.messages.push_back(
        test::message(0, Direction::kOut, test::kCarrierIp, std::string(70000, 'x')));
    const auto r = records(write_pcap(s));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(be16(r[0].frame, 16), 65535);
    EXPECT_EQ(r[0].frame.size(), 14u + 65535u);
}

TEST(Pcap, FramesAreOldestFirst) {
    auto s = test::transfer_call();
    std::swap(s.messages[0], s.messages[12]);
    const auto r = records(write_pcap(s));
    ASSERT_EQ(r.size(), 13u);
    for (std::size_t i = 1; i < r.size(); ++i) {
        EXPECT_LE(std::uint64_t{r[i - 1].seconds} * 1'000'000 + r[i - 1].microseconds,
                  std::uint64_t{r[i].seconds} * 1'000'000 + r[i].microseconds);
    }
}

}  // namespace
}  // namespace tl::sip
