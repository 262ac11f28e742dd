#include "app/listen_address.hpp"

#include "common/validation.hpp"

#include <fmt/format.h>

#include <charconv>

namespace tl::app {
namespace {

bool parse_int(std::string_view text, int min, int max, int& out) {
    if (text.empty() || text.size() > 5) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && out >= min && out <= max;
}

}  // namespace

std::string ListenAddress::to_string() const {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

Result<ListenAddress> parse_listen_address(std::string_view text, std::string_view flag) {
    auto fail = [&] {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("{} must be HOST:PORT with an IP address and a port "
                                      "0-65535, e.g. 127.0.0.1:8080 or [::1]:8080 (got '{}')",
                                      flag, text));
    };
    ListenAddress out;
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) return fail();
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (!is_ipv6(host)) return fail();
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return fail();
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host == "localhost") host = "127.0.0.1";
        if (!is_ipv4(host)) return fail();
    }
    if (!parse_int(port, 0, 65535, out.port)) return fail();
    out.host = std::string(host);
    return out;
}

Result<PortRange> parse_port_range(std::string_view text, std::string_view flag) {
    auto fail = [&] {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("{} must be LO-HI with 1024 <= LO < HI <= 65535, e.g. "
                                      "10000-20000 (got '{}')",
                                      flag, text));
    };
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) return fail();
    PortRange range;
    if (!parse_int(text.substr(0, dash), 1024, 65535, range.low) ||
        !parse_int(text.substr(dash + 1), 1024, 65535, range.high) || range.high <= range.low) {
        return fail();
    }
    return range;
}

}  // namespace tl::app
