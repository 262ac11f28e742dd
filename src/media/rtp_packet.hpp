#pragma once
// RTP and RTCP wire formats (RFC 3550 §5.1, §6.4.1, §6.5): building and parsing without
// allocation, for the per-packet hot path. Parsers take untrusted bytes: they return nullopt
// (the caller counts a drop) rather than an Error, whose message would allocate per packet.
// Pure functions, thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tl::media::rtp {

constexpr std::size_t kHeaderSize = 12;
constexpr std::uint8_t kRtcpSenderReport = 200;    // RFC 3550 §6.4.1
constexpr std::uint8_t kRtcpReceiverReport = 201;  // §6.4.2
constexpr std::uint8_t kRtcpSdes = 202;            // §6.5
constexpr std::uint8_t kSdesCname = 1;

struct RtpHeader {
    bool marker = false;
    std::uint8_t payload_type = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
};

// Writes a 12-byte header (V=2, no padding, extension or CSRC); returns 0 if `out` is too small.
std::size_t write_header(const RtpHeader& header, std::span<std::uint8_t> out);

struct RtpPacketView {
    RtpHeader header;
    std::span<const std::uint8_t> payload;  // CSRCs, extension and padding removed
};

// Validates version 2, the CSRC count, header extension and padding lengths.
std::optional<RtpPacketView> parse(std::span<const std::uint8_t> packet);

// 64-bit NTP timestamp (seconds since 1900 in the high word, RFC 3550 §4).
std::uint64_t to_ntp(std::chrono::system_clock::time_point t);

struct SenderInfo {
    std::uint32_t ssrc = 0;
    std::uint64_t ntp_timestamp = 0;
    std::uint32_t rtp_timestamp = 0;
    std::uint32_t packet_count = 0;
    std::uint32_t octet_count = 0;
};

// A compound packet (§6.1): SR without report blocks (or an empty RR when `sender` is false,
// e.g. while on hold), then SDES with the CNAME. Returns the length, 0 if `out` is too small.
enum class Sender { kYes, kNo };
std::size_t write_report(const SenderInfo& info,
                         Sender sender,
                         std::string_view cname,
                         std::span<std::uint8_t> out);

struct RtcpPacketView {
    std::uint8_t packet_type = 0;
    std::uint8_t count = 0;              // RC or SC field
    std::uint32_t ssrc = 0;              // the sender's SSRC (first word after the header)
    std::span<const std::uint8_t> body;  // after the 4-byte header
};

// Validates a compound RTCP packet (§6.1, A.2): version 2, first packet SR or RR, lengths that
// add up exactly. Returns the first packet.
std::optional<RtcpPacketView> parse_compound(std::span<const std::uint8_t> packet);

// Visits every packet of a validated compound packet; `fn(const RtcpPacketView&)`.
template <class Fn>
void for_each_rtcp(std::span<const std::uint8_t> packet, Fn&& fn) {
    // A packet may be only its 4-byte header (length 0, RFC 3550 §6.4.1: "length in 32-bit words
    // minus one"); the SSRC is then absent (0).
    while (packet.size() >= 4) {
        const std::size_t length =
            4u * ((static_cast<std::size_t>(packet[2]) << 8 | packet[3]) + 1);
        if (length > packet.size()) return;
        RtcpPacketView view;
        view.packet_type = packet[1];
        view.count = packet[0] & 0x1F;
        view.ssrc = length < 8 ? 0
                               : static_cast<std::uint32_t>(packet[4]) << 24 |
                                     static_cast<std::uint32_t>(packet[5]) << 16 |
                                     static_cast<std::uint32_t>(packet[6]) << 8 | packet[7];
        view.body = packet.subspan(4, length - 4);
        fn(view);
        packet = packet.subspan(length);
    }
}

}  // namespace tl::media::rtp
