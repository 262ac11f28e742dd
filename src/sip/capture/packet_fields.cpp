#include "sip/capture/packet_fields.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace tl::sip::detail {
namespace {

IpBytes v4_mapped(const IpBytes& v4) {
    IpBytes v6;
    v6.family = IpFamily::kV6;
    v6.bytes[10] = 0xff;
    v6.bytes[11] = 0xff;
    std::copy_n(v4.bytes.begin(), 4, v6.bytes.begin() + 12);
    return v6;
}

std::uint16_t port_or_zero(int port) {
    return (port >= 0 && port <= 65535) ? static_cast<std::uint16_t>(port) : 0;
}

}  // namespace

std::optional<IpBytes> parse_ip(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    const std::size_t zone = text.find('%');
    if (zone != std::string_view::npos) text = text.substr(0, zone);
    // inet_pton needs a NUL-terminated string; also refuses embedded NULs this way.
    const std::string terminated(text);
    if (terminated.size() != std::string::traits_type::length(terminated.c_str())) {
        return std::nullopt;
    }
    IpBytes ip;
    if (::inet_pton(AF_INET, terminated.c_str(), ip.bytes.data()) == 1) return ip;
    ip.family = IpFamily::kV6;
    if (::inet_pton(AF_INET6, terminated.c_str(), ip.bytes.data()) == 1) return ip;
    return std::nullopt;
}

PacketEndpoints packet_endpoints(const CapturedMessage& message) {
    const auto local = parse_ip(message.local_ip);
    const auto remote = parse_ip(message.remote_ip);
    IpFamily family = IpFamily::kV4;
    if ((local && local->family == IpFamily::kV6) || (remote && remote->family == IpFamily::kV6)) {
        family = IpFamily::kV6;
    }
    const auto normalised = [family](const std::optional<IpBytes>& ip) {
        IpBytes out;
        out.family = family;
        if (!ip) return out;  // 0.0.0.0 or ::
        return ip->family == family ? *ip : v4_mapped(*ip);
    };
    const bool out = message.direction == Direction::kOut;
    PacketEndpoints endpoints;
    endpoints.family = family;
    endpoints.source = normalised(out ? local : remote);
    endpoints.destination = normalised(out ? remote : local);
    endpoints.source_port = port_or_zero(out ? message.local_port : message.remote_port);
    endpoints.destination_port = port_or_zero(out ? message.remote_port : message.local_port);
    return endpoints;
}

bool is_stream_transport(std::string_view transport) {
    std::string lower(transport);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower == "tcp" || lower == "tls" || lower == "ws" || lower == "wss";
}

UnixTime unix_time(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
    if (us <= 0) return {};
    const long long seconds = us / 1'000'000;
    if (seconds > 0xffffffffLL) return {0xffffffffu, 999'999u};
    return {static_cast<std::uint32_t>(seconds), static_cast<std::uint32_t>(us % 1'000'000)};
}

}  // namespace tl::sip::detail
