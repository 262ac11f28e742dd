#pragma once
// One captured SIP message as a HEP v3 packet (Homer Encapsulation Protocol, "HEP3 Network
// Protocol Specification", sipcapture.org), for sending to a Homer or other HEP collector:
//
//   "HEP3" | total length (u16) | chunks
//   chunk = vendor id (u16, 0 = generic) | type id (u16) | length (u16, with this 6-byte
//           header) | payload; every integer in network byte order.
//
// Chunks written: 0x0001 IP family (2 AF_INET, 10 AF_INET6), 0x0002 IP protocol (17 UDP, 6 TCP
// for tcp and tls), 0x0003/0x0004 IPv4 or 0x0005/0x0006 IPv6 source/destination, 0x0007/0x0008
// source/destination port, 0x0009/0x000a timestamp seconds/microseconds, 0x000b protocol type
// (1 = SIP), 0x000c capture agent id, 0x000f the message text, 0x0011 correlation id (the
// Call-ID; left out when empty). Source and destination follow the direction (out: local ->
// remote; in: remote -> local); see detail::packet_endpoints for addresses that do not parse.
//
// The whole packet must fit its 16-bit length: a correlation id is cut to kMaxHepCorrelationId
// bytes and a message to what is left (about 65 KB, more than one UDP datagram to the
// collector can carry anyway). Pure function: thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sip/capture/captured_message.hpp"

namespace tl::sip {

inline constexpr std::size_t kMaxHepCorrelationId = 1024;

// HEP v3 chunk types (vendor 0) this encoder writes.
enum class HepChunk : std::uint16_t {
    kIpFamily = 0x0001,
    kIpProtocol = 0x0002,
    kIpv4Source = 0x0003,
    kIpv4Destination = 0x0004,
    kIpv6Source = 0x0005,
    kIpv6Destination = 0x0006,
    kSourcePort = 0x0007,
    kDestinationPort = 0x0008,
    kTimestampSeconds = 0x0009,
    kTimestampMicroseconds = 0x000a,
    kProtocolType = 0x000b,
    kCaptureAgentId = 0x000c,
    kPayload = 0x000f,
    kCorrelationId = 0x0011,
};

std::vector<std::uint8_t> encode_hep3(const CapturedMessage& message,
                                      std::uint32_t capture_id,
                                      std::string_view correlation_id);

}  // namespace tl::sip
