// Fuzzes the media datagrams of a call (media/rtp_packet.hpp, media/dtmf.hpp). The whole input,
// and each part of it split on the marker "||||", is a datagram for the RTP parser and the RTCP
// compound parser, each checked against an independent reading of RFC 3550 (§5.1, §5.3.1, A.1,
// A.2). The parts then go, in order, through the RTP parser into one DtmfReceiver, as
// RtpSession::handle_rtp does with telephone-event packets (RFC 4733).
//
// Invariants: a parser accepts exactly what the RFC checks accept; a parsed payload or RTCP body
// lies within the datagram where the header lengths put it; an RTCP SSRC is read from its own
// packet (0 for a header-only one); for_each_rtcp visits every packet of a validated compound;
// DTMF digits are only 0-9 * # A-D, from events that were sent, with durations the 16-bit field
// can hold; a digit is reported only at an end packet or when a new event shows the previous one
// lost its end, so never more digits than end packets plus event changes.

#include "fuzz_check.hpp"
#include "media/dtmf.hpp"
#include "media/rtp_packet.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace rtp = tl::media::rtp;
using Bytes = std::span<const std::uint8_t>;

constexpr std::string_view kMarker = "||||";

std::string_view as_text(Bytes bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::uint32_t get16(const std::uint8_t* p) { return static_cast<std::uint32_t>(p[0] << 8 | p[1]); }

std::uint32_t get32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

bool within(Bytes inner, Bytes outer) {
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

// RFC 3550 §5.1 / A.1: where the payload of a valid RTP packet is, nullopt when invalid.
struct Extent {
    std::size_t offset;
    std::size_t end;
};
std::optional<Extent> rtp_payload_extent(Bytes p) {
    if (p.size() < 12 || (p[0] >> 6) != 2) return std::nullopt;
    std::size_t offset = 12 + 4 * std::size_t{p[0] & 0x0Fu};
    if (offset > p.size()) return std::nullopt;
    if ((p[0] & 0x10) != 0) {
        if (p.size() - offset < 4) return std::nullopt;
        offset += 4 + 4 * std::size_t{get16(&p[offset + 2])};
        if (offset > p.size()) return std::nullopt;
    }
    std::size_t end = p.size();
    if ((p[0] & 0x20) != 0) {
        const std::size_t pad = p.back();
        if (pad == 0 || pad > end - offset) return std::nullopt;
        end -= pad;
    }
    return Extent{offset, end};
}

void check_rtp(Bytes datagram, std::string_view input) {
    const auto view = rtp::parse(datagram);
    const auto extent = rtp_payload_extent(datagram);
    TL_FUZZ_CHECK(view.has_value() == extent.has_value(), input);
    if (!view) return;
    TL_FUZZ_CHECK(within(view->payload, datagram), input);
    TL_FUZZ_CHECK(view->payload.data() == datagram.data() + extent->offset, input);
    TL_FUZZ_CHECK(view->payload.size() == extent->end - extent->offset, input);
    TL_FUZZ_CHECK(view->header.marker == ((datagram[1] & 0x80) != 0), input);
    TL_FUZZ_CHECK(view->header.payload_type == (datagram[1] & 0x7F), input);
    TL_FUZZ_CHECK(view->header.sequence == get16(&datagram[2]), input);
    TL_FUZZ_CHECK(view->header.timestamp == get32(&datagram[4]), input);
    TL_FUZZ_CHECK(view->header.ssrc == get32(&datagram[8]), input);

    // write_header of what was read gives the same fixed header (without P, X and CC).
    std::uint8_t header[rtp::kHeaderSize];
    TL_FUZZ_CHECK(rtp::write_header(view->header, header) == rtp::kHeaderSize, input);
    TL_FUZZ_CHECK(header[0] == 0x80 && header[1] == datagram[1], input);
    TL_FUZZ_CHECK(std::equal(header + 2, header + 12, datagram.data() + 2), input);
}

// RFC 3550 A.2: the packet lengths of a valid compound packet, empty when invalid.
std::vector<std::size_t> rtcp_packet_lengths(Bytes p) {
    if (p.size() < 8 || (p[0] & 0xE0) != 0x80) return {};
    if (p[1] != rtp::kRtcpSenderReport && p[1] != rtp::kRtcpReceiverReport) return {};
    std::vector<std::size_t> lengths;
    std::size_t offset = 0;
    while (offset < p.size()) {
        if (p.size() - offset < 4 || (p[offset] >> 6) != 2) return {};
        const std::size_t length = 4 * (std::size_t{get16(&p[offset + 2])} + 1);
        if (length > p.size() - offset) return {};
        lengths.push_back(length);
        offset += length;
    }
    return lengths;
}

std::uint32_t ssrc_of(Bytes body) { return body.size() >= 4 ? get32(body.data()) : 0; }

void check_rtcp(Bytes datagram, std::string_view input) {
    const auto first = rtp::parse_compound(datagram);
    const auto lengths = rtcp_packet_lengths(datagram);
    TL_FUZZ_CHECK(first.has_value() == !lengths.empty(), input);
    if (!first) return;
    TL_FUZZ_CHECK(first->packet_type == datagram[1], input);
    TL_FUZZ_CHECK(first->count == (datagram[0] & 0x1F), input);
    TL_FUZZ_CHECK(first->body.data() == datagram.data() + 4, input);
    TL_FUZZ_CHECK(first->body.size() == lengths.front() - 4, input);
    // The sender's SSRC is the first word of the SR/RR itself, never of the packet after it
    // (0 for a header-only packet).
    TL_FUZZ_CHECK(first->ssrc == ssrc_of(first->body), input);

    std::size_t visited = 0;
    std::size_t offset = 0;
    rtp::for_each_rtcp(datagram, [&](const rtp::RtcpPacketView& v) {
        TL_FUZZ_CHECK(visited < lengths.size(), input);
        TL_FUZZ_CHECK(within(v.body, datagram), input);
        TL_FUZZ_CHECK(v.body.data() == datagram.data() + offset + 4, input);
        TL_FUZZ_CHECK(v.body.size() == lengths[visited] - 4, input);
        TL_FUZZ_CHECK(v.packet_type == datagram[offset + 1], input);
        TL_FUZZ_CHECK(v.ssrc == ssrc_of(v.body), input);
        offset += lengths[visited];
        ++visited;
    });
    TL_FUZZ_CHECK(visited == lengths.size(), input);  // every packet of the compound
}

void check_datagram(Bytes datagram, std::string_view input) {
    check_rtp(datagram, input);
    check_rtcp(datagram, input);
}

constexpr std::string_view kDigits = "0123456789*#ABCD";

void check_dtmf(const std::vector<Bytes>& datagrams, std::string_view input) {
    tl::media::DtmfReceiver receiver;
    std::size_t reported = 0;
    std::size_t end_packets = 0;
    std::size_t event_changes = 0;  // packets whose timestamp differs from the previous event's
    std::optional<std::uint32_t> previous_timestamp;
    std::uint32_t events_sent = 0;  // bit per DTMF event number seen

    for (const auto datagram : datagrams) {
        const auto packet = rtp::parse(datagram);
        if (!packet) continue;
        const auto timestamp = packet->header.timestamp;
        const auto event = tl::media::parse_telephone_event(packet->payload);
        const auto digit = receiver.on_packet(timestamp, packet->payload);
        if (!event) {
            TL_FUZZ_CHECK(packet->payload.size() < 4, input);
            TL_FUZZ_CHECK(!digit.has_value(), input);
            continue;
        }
        TL_FUZZ_CHECK(packet->payload.size() >= 4, input);
        TL_FUZZ_CHECK(event->event == packet->payload[0], input);
        TL_FUZZ_CHECK(event->volume <= 63, input);
        const bool same_event = previous_timestamp == timestamp;
        if (!same_event && previous_timestamp) ++event_changes;
        previous_timestamp = timestamp;
        if (event->end) ++end_packets;
        if (event->event < 16) events_sent |= 1u << event->event;
        if (!digit) continue;

        ++reported;
        const auto index = kDigits.find(digit->digit);
        TL_FUZZ_CHECK(digit->digit != '\0' && index != std::string_view::npos, input);
        TL_FUZZ_CHECK((events_sent & (1u << index)) != 0, input);  // a digit that was sent
        TL_FUZZ_CHECK(digit->duration_ms >= 0 && digit->duration_ms <= 65535 * 1000 / 8000, input);
        // Reported at an end packet, or at a new event when the previous one lost its end.
        TL_FUZZ_CHECK(event->end || !same_event, input);
        TL_FUZZ_CHECK(reported <= end_packets + event_changes, input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Bytes input(data, size);
    const auto text = as_text(input);
    check_datagram(input, text);

    std::vector<Bytes> datagrams;
    std::size_t start = 0;
    while (datagrams.size() < 256) {
        const auto next = text.find(kMarker, start);
        const auto end = next == std::string_view::npos ? size : next;
        datagrams.push_back(input.subspan(start, end - start));
        if (next == std::string_view::npos) break;
        start = next + kMarker.size();
    }
    if (datagrams.size() > 1) {
        for (const auto datagram : datagrams) check_datagram(datagram, text);
    }
    check_dtmf(datagrams, text);
    return 0;
}
