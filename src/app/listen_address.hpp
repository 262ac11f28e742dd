#pragma once
// Parsing of the listen/port-range flags: "HOST:PORT" ("[::1]:8080" for IPv6) and "LO-HI".

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace tl::app {

struct ListenAddress {
    std::string host;  // IP literal (IPv6 without brackets)
    int port = 0;      // 0 = ephemeral

    std::string to_string() const;  // brackets IPv6
};

// `flag` names the option in error messages.
Result<ListenAddress> parse_listen_address(std::string_view text, std::string_view flag);

struct PortRange {
    int low = 0;
    int high = 0;
};

// RTP needs an even port for RTP and the next odd one for RTCP, so the range must hold a pair.
Result<PortRange> parse_port_range(std::string_view text, std::string_view flag);

}  // namespace tl::app
