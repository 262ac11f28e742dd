#pragma once
// One SIP message as it crossed the wire, kept for a call's SIP capture (the API's
// /calls/{id}/sip, its ladder and pcap renderings, HEP export). Plain values: no sofia types.

#include <chrono>
#include <string>

namespace tl::sip {

enum class Direction { kIn, kOut };

struct CapturedMessage {
    std::chrono::system_clock::time_point timestamp;
    Direction direction = Direction::kIn;
    std::string transport;  // "udp" | "tcp" | "tls"
    std::string local_ip;   // IPv4 dotted or IPv6 text, no brackets
    int local_port = 0;
    std::string remote_ip;
    int remote_port = 0;
    std::string raw;  // the message text, already redacted (redact_sip_message)
};

}  // namespace tl::sip
