#include "sip/capture/pcap.hpp"

#include <array>
#include <cstddef>
#include <map>
#include <span>
#include <string_view>
#include <tuple>

#include "sip/capture/byte_writer.hpp"
#include "sip/capture/packet_fields.hpp"

namespace tl::sip {
namespace {

using detail::ByteWriter;
using detail::IpFamily;
using detail::PacketEndpoints;

constexpr std::array<std::uint8_t, 6> kOurMac{0x02, 0, 0, 0, 0, 0x01};
constexpr std::array<std::uint8_t, 6> kPeerMac{0x02, 0, 0, 0, 0, 0x02};
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr std::uint8_t kProtocolTcp = 6;
constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::size_t kEthernetHeaderSize = 14;
constexpr std::size_t kIpv4HeaderSize = 20;
constexpr std::size_t kIpv6HeaderSize = 40;
constexpr std::size_t kUdpHeaderSize = 8;
constexpr std::size_t kTcpHeaderSize = 20;
// IPv4 Total Length and IPv6 Payload Length are 16-bit (RFC 791 §3.1, RFC 8200 §3).
constexpr std::size_t kMaxIpLength = 65535;

// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
// words, starting from `sum` (a pseudo-header's).
std::uint32_t add_to_sum(std::uint32_t sum, std::span<const std::uint8_t> bytes) {
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint32_t hi = bytes[i];
        const std::uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += (hi << 8) | lo;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

std::uint16_t finish_sum(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

// The pseudo-header every UDP and TCP checksum covers (RFC 768, RFC 9293 §3.1; RFC 8200 §8.1).
std::uint32_t pseudo_header_sum(const PacketEndpoints& e,
                                std::uint8_t protocol,
                                std::size_t length) {
    std::uint32_t sum = add_to_sum(0, e.source.view());
    sum = add_to_sum(sum, e.destination.view());
    ByteWriter rest;
    if (e.family == IpFamily::kV4) {
        rest.u8(0);
        rest.u8(protocol);
        rest.be16(static_cast<std::uint16_t>(length));
    } else {
        rest.be32(static_cast<std::uint32_t>(length));
        rest.be16(0);
        rest.u8(0);
        rest.u8(protocol);
    }
    return add_to_sum(sum, rest.bytes());
}

struct TcpFields {
    std::uint32_t sequence = 0;
    std::uint32_t acknowledgement = 0;
};

// The transport header and payload, checksum included.
std::vector<std::uint8_t> transport_segment(const PacketEndpoints& e,
                                            std::uint8_t protocol,
                                            TcpFields fields,
                                            std::string_view payload) {
    const bool tcp = protocol == kProtocolTcp;
    ByteWriter segment;
    segment.be16(e.source_port);
    segment.be16(e.destination_port);
    std::size_t checksum_at = 0;
    if (tcp) {
        // RFC 9293 §3.1: data offset 5 words, no options; ACK|PSH; a full window.
        segment.be32(fields.sequence);
        segment.be32(fields.acknowledgement);
        segment.u8(static_cast<std::uint8_t>((kTcpHeaderSize / 4) << 4));
        segment.u8(0x18);
        segment.be16(65535);
        checksum_at = segment.size();
        segment.be16(0);
        segment.be16(0);  // urgent pointer
    } else {
        // RFC 768.
        segment.be16(static_cast<std::uint16_t>(kUdpHeaderSize + payload.size()));
        checksum_at = segment.size();
        segment.be16(0);
    }
    segment.text(payload);
    std::uint16_t checksum =
        finish_sum(add_to_sum(pseudo_header_sum(e, protocol, segment.size()), segment.bytes()));
    // A computed UDP checksum of zero is sent as all ones: zero means "none" (RFC 768), which
    // IPv6 does not allow (RFC 8200 §8.1).
    if (!tcp && checksum == 0) checksum = 0xffff;
    segment.patch_be16(checksum_at, checksum);
    return std::move(segment).take();
}

void write_ip_header(ByteWriter& frame,
                     const PacketEndpoints& e,
                     std::uint8_t protocol,
                     std::size_t payload_length,
                     std::uint16_t identification) {
    if (e.family == IpFamily::kV4) {
        // RFC 791 §3.1: version 4, IHL 5, no options, Don't Fragment, TTL 64.
        const std::size_t start = frame.size();
        frame.u8(0x45);
        frame.u8(0);
        frame.be16(static_cast<std::uint16_t>(kIpv4HeaderSize + payload_length));
        frame.be16(identification);
        frame.be16(0x4000);
        frame.u8(64);
        frame.u8(protocol);
        const std::size_t checksum_at = frame.size();
        frame.be16(0);
        frame.bytes(e.source.view());
        frame.bytes(e.destination.view());
        const std::span<const std::uint8_t> header(frame.bytes().data() + start, kIpv4HeaderSize);
        frame.patch_be16(checksum_at, finish_sum(add_to_sum(0, header)));
    } else {
        // RFC 8200 §3: version 6, no traffic class or flow label, hop limit 64.
        frame.be32(0x60000000);
        frame.be16(static_cast<std::uint16_t>(payload_length));
        frame.u8(protocol);
        frame.u8(64);
        frame.bytes(e.source.view());
        frame.bytes(e.destination.view());
    }
}

// Each direction of a TCP connection numbers its bytes from its own initial sequence number.
// Made up but stable: derived from the flow, so two directions and two flows differ.
using FlowKey =
    std::tuple<std::vector<std::uint8_t>, std::uint16_t, std::vector<std::uint8_t>, std::uint16_t>;

std::uint32_t initial_sequence(const FlowKey& key) {
    std::uint32_t hash = 2166136261u;  // FNV-1a
    const auto mix = [&hash](std::uint8_t b) { hash = (hash ^ b) * 16777619u; };
    for (const auto b : std::get<0>(key)) mix(b);
    mix(static_cast<std::uint8_t>(std::get<1>(key) >> 8));
    mix(static_cast<std::uint8_t>(std::get<1>(key)));
    for (const auto b : std::get<2>(key)) mix(b);
    mix(static_cast<std::uint8_t>(std::get<3>(key) >> 8));
    mix(static_cast<std::uint8_t>(std::get<3>(key)));
    return hash;
}

class PcapWriter {
public:
    PcapWriter() {
        // The global header (pcap-savefile(5)).
        file_.le32(0xa1b2c3d4);  // microsecond timestamps
        file_.le16(2);
        file_.le16(4);
        file_.le32(0);  // thiszone: timestamps are UTC
        file_.le32(0);  // sigfigs
        file_.le32(kPcapSnapLength);
        file_.le32(kLinkTypeEthernet);
    }

    void add(const CapturedMessage& message) {
        const PacketEndpoints e = detail::packet_endpoints(message);
        const detail::UnixTime time = detail::unix_time(message.timestamp);
        const std::size_t ip_header = e.family == IpFamily::kV4 ? kIpv4HeaderSize : 0;
        std::string_view payload = message.raw;
        if (!detail::is_stream_transport(message.transport)) {
            payload = payload.substr(0, kMaxIpLength - ip_header - kUdpHeaderSize);
            add_frame(time, message.direction, e, kProtocolUdp,
                      transport_segment(e, kProtocolUdp, {}, payload));
            return;
        }
        const FlowKey flow{to_vector(e.source), e.source_port, to_vector(e.destination),
                           e.destination_port};
        const FlowKey reverse{std::get<2>(flow), std::get<3>(flow), std::get<0>(flow),
                              std::get<1>(flow)};
        std::uint32_t& sequence = next_sequence(flow);
        const std::uint32_t acknowledgement = next_sequence(reverse);
        const std::size_t max_segment = kMaxIpLength - ip_header - kTcpHeaderSize;
        do {
            const std::string_view chunk = payload.substr(0, max_segment);
            payload.remove_prefix(chunk.size());
            add_frame(time, message.direction, e, kProtocolTcp,
                      transport_segment(e, kProtocolTcp, {sequence, acknowledgement}, chunk));
            sequence += static_cast<std::uint32_t>(chunk.size());  // wraps, as TCP's does
        } while (!payload.empty());
    }

    std::string finish() && {
        const auto& bytes = file_.bytes();
        return std::string(bytes.begin(), bytes.end());
    }

private:
    static std::vector<std::uint8_t> to_vector(const detail::IpBytes& ip) {
        const auto view = ip.view();
        return {view.begin(), view.end()};
    }

    std::uint32_t& next_sequence(const FlowKey& flow) {
        auto it = sequences_.find(flow);
        if (it == sequences_.end()) it = sequences_.emplace(flow, initial_sequence(flow)).first;
        return it->second;
    }

    void add_frame(detail::UnixTime time,
                   Direction direction,
                   const PacketEndpoints& e,
                   std::uint8_t protocol,
                   const std::vector<std::uint8_t>& segment) {
        const bool from_us = direction == Direction::kOut;
        ByteWriter frame(kEthernetHeaderSize + kIpv6HeaderSize + segment.size());
        // Ethernet II: destination, source, EtherType.
        frame.bytes(from_us ? kPeerMac : kOurMac);
        frame.bytes(from_us ? kOurMac : kPeerMac);
        frame.be16(e.family == IpFamily::kV4 ? kEtherTypeIpv4 : kEtherTypeIpv6);
        write_ip_header(frame, e, protocol, segment.size(), ++identification_);
        frame.bytes(segment);
        file_.le32(time.seconds);
        file_.le32(time.microseconds);
        file_.le32(static_cast<std::uint32_t>(frame.size()));
        file_.le32(static_cast<std::uint32_t>(frame.size()));
        file_.bytes(frame.bytes());
    }

    ByteWriter file_;
    std::map<FlowKey, std::uint32_t> sequences_;
    std::uint16_t identification_ = 0;
};

}  // namespace

std::string write_pcap(const CaptureSnapshot& snapshot) {
    PcapWriter writer;
    for (const auto* message : oldest_first(snapshot)) writer.add(*message);
    return std::move(writer).finish();
}

}  // namespace tl::sip
