#include "media/rtp_packet.hpp"

#include <algorithm>

namespace tl::media::rtp {
namespace {

void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

void put32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

std::uint32_t get32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
constexpr std::uint64_t kNtpUnixOffset = 2'208'988'800ull;

}  // namespace

std::size_t write_header(const RtpHeader& header, std::span<std::uint8_t> out) {
    if (out.size() < kHeaderSize) return 0;
    // RFC 3550 §5.1: V=2 P=0 X=0 CC=0 | M | PT(7) | sequence | timestamp | SSRC
    out[0] = 0x80;
    out[1] =
        static_cast<std::uint8_t>((header.marker ? 0x80 : 0x00) | (header.payload_type & 0x7F));
    put16(&out[2], header.sequence);
    put32(&out[4], header.timestamp);
    put32(&out[8], header.ssrc);
    return kHeaderSize;
}

std::optional<RtpPacketView> parse(std::span<const std::uint8_t> packet) {
    if (packet.size() < kHeaderSize) return std::nullopt;
    const std::uint8_t b0 = packet[0];
    if ((b0 >> 6) != 2) return std::nullopt;
    const bool padding = (b0 & 0x20) != 0;
    const bool extension = (b0 & 0x10) != 0;
    const std::size_t csrc_count = b0 & 0x0F;

    RtpPacketView view;
    view.header.marker = (packet[1] & 0x80) != 0;
    view.header.payload_type = packet[1] & 0x7F;
    view.header.sequence = get16(&packet[2]);
    view.header.timestamp = get32(&packet[4]);
    view.header.ssrc = get32(&packet[8]);

    std::size_t offset = kHeaderSize + 4 * csrc_count;
    if (offset > packet.size()) return std::nullopt;
    if (extension) {  // §5.3.1: 16-bit profile, 16-bit length in 32-bit words
        if (offset + 4 > packet.size()) return std::nullopt;
        offset += 4 + 4u * get16(&packet[offset + 2]);
        if (offset > packet.size()) return std::nullopt;
    }
    std::size_t end = packet.size();
    if (padding) {  // the last octet counts the padding, itself included
        const std::size_t pad = packet.back();
        if (pad == 0 || pad > end - offset) return std::nullopt;
        end -= pad;
    }
    view.payload = packet.subspan(offset, end - offset);
    return view;
}

std::uint64_t to_ntp(std::chrono::system_clock::time_point t) {
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
    const auto seconds = static_cast<std::uint64_t>(since_epoch.count() / 1'000'000'000);
    const auto nanos = static_cast<std::uint64_t>(since_epoch.count() % 1'000'000'000);
    const std::uint64_t fraction = (nanos << 32) / 1'000'000'000ull;
    return ((seconds + kNtpUnixOffset) << 32) | fraction;
}

std::size_t write_report(const SenderInfo& info,
                         Sender sender,
                         std::string_view cname,
                         std::span<std::uint8_t> out) {
    cname = cname.substr(0, 255);
    const std::size_t report_length = sender == Sender::kYes ? 28 : 8;  // §6.4.1 / §6.4.2, RC=0
    // SDES (§6.5): header, SSRC, CNAME item (type, length, text), then a null item ending the
    // chunk, padded to a 32-bit boundary.
    const std::size_t chunk = 4 + 2 + cname.size() + 1;
    const std::size_t sdes_length = 4 + (chunk + 3) / 4 * 4;
    const std::size_t total = report_length + sdes_length;
    if (out.size() < total) return 0;
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(total), 0);

    std::uint8_t* p = out.data();
    p[0] = 0x80;  // V=2, P=0, RC=0
    p[1] = sender == Sender::kYes ? kRtcpSenderReport : kRtcpReceiverReport;
    put16(p + 2, static_cast<std::uint16_t>(report_length / 4 - 1));
    put32(p + 4, info.ssrc);
    if (sender == Sender::kYes) {
        put32(p + 8, static_cast<std::uint32_t>(info.ntp_timestamp >> 32));
        put32(p + 12, static_cast<std::uint32_t>(info.ntp_timestamp));
        put32(p + 16, info.rtp_timestamp);
        put32(p + 20, info.packet_count);
        put32(p + 24, info.octet_count);
    }
    p += report_length;
    p[0] = 0x81;  // V=2, SC=1
    p[1] = kRtcpSdes;
    put16(p + 2, static_cast<std::uint16_t>(sdes_length / 4 - 1));
    put32(p + 4, info.ssrc);
    p[8] = kSdesCname;
    p[9] = static_cast<std::uint8_t>(cname.size());
    std::copy(cname.begin(), cname.end(), p + 10);
    // The remaining bytes are already zero: the END item and the padding.
    return total;
}

std::optional<RtcpPacketView> parse_compound(std::span<const std::uint8_t> packet) {
    if (packet.size() < 8) return std::nullopt;
    // A.2: the first packet is SR or RR and unpadded; every packet is version 2; the lengths
    // add up to the datagram exactly.
    if ((packet[0] & 0xE0) != 0x80) return std::nullopt;
    if (packet[1] != kRtcpSenderReport && packet[1] != kRtcpReceiverReport) return std::nullopt;
    std::size_t offset = 0;
    while (offset < packet.size()) {
        if (packet.size() - offset < 4) return std::nullopt;
        if ((packet[offset] >> 6) != 2) return std::nullopt;
        const std::size_t length = std::size_t{4} * (get16(&packet[offset + 2]) + 1u);
        if (length > packet.size() - offset) return std::nullopt;
        offset += length;
    }
    std::optional<RtcpPacketView> first;
    for_each_rtcp(packet, [&](const RtcpPacketView& v) {
        if (!first) first = v;
    });
    return first;
}

}  // namespace tl::media::rtp
