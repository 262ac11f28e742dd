#pragma once
// What the binary renderings (pcap, HEP v3) need from a CapturedMessage: the sender and receiver
// as address bytes and ports, and the time as Unix seconds and microseconds. Internal to the
// capture library. Pure functions: thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "sip/capture/captured_message.hpp"

namespace tl::sip::detail {

enum class IpFamily { kV4, kV6 };

// An IPv4 (4 bytes) or IPv6 (16 bytes) address in network byte order. `std::nullopt` for text
// that is neither (an IPv6 zone, "%eth0", is ignored).
struct IpBytes {
    IpFamily family = IpFamily::kV4;
    std::array<std::uint8_t, 16> bytes{};
    std::span<const std::uint8_t> view() const {
        return {bytes.data(), family == IpFamily::kV4 ? 4u : 16u};
    }
};
std::optional<IpBytes> parse_ip(std::string_view text);

struct PacketEndpoints {
    IpFamily family = IpFamily::kV4;
    IpBytes source;
    IpBytes destination;
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
};

// Sender and receiver follow the direction: out is local -> remote, in is remote -> local. Both
// addresses share one family: a packet cannot mix them, so when one side is IPv4 and the other
// IPv6 the IPv4 one is written as IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2). An address
// that does not parse (empty, when the stack did not say) becomes 0.0.0.0 or ::, and a port out
// of range 0, so a capture is always renderable.
PacketEndpoints packet_endpoints(const CapturedMessage& message);

// Whether the message travels over TCP (tcp, tls) rather than UDP.
bool is_stream_transport(std::string_view transport);

struct UnixTime {
    std::uint32_t seconds = 0;
    std::uint32_t microseconds = 0;
};
// Clamped to the range of an unsigned 32-bit seconds count (1970 to 2106).
UnixTime unix_time(std::chrono::system_clock::time_point t);

}  // namespace tl::sip::detail
