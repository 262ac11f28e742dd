#include "common/validation.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace tl {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::optional<int> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return std::nullopt;
    int port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc{} || end != text.data() + text.size() || port < 1 || port > 65535) {
        return std::nullopt;
    }
    return port;
}

// RFC 3261 §25.1 user: unreserved / escaped / user-unreserved.
bool is_sip_user_char(char c) {
    static constexpr std::string_view kAllowed = "-_.!~*'()&=+$,;?/%";
    return is_alnum(c) || kAllowed.find(c) != std::string_view::npos;
}

}  // namespace

bool is_e164(std::string_view text) {
    if (text.size() < 3 || text.size() > 16 || text[0] != '+' || text[1] < '1' || text[1] > '9') {
        return false;
    }
    for (std::size_t i = 2; i < text.size(); ++i) {
        if (!is_digit(text[i])) return false;
    }
    return true;
}

bool is_ipv4(std::string_view text) {
    // inet_pton reads a C string: an embedded NUL would hide what follows it.
    if (text.empty() || text.size() > 15 || text.find('\0') != std::string_view::npos) {
        return false;
    }
    in_addr addr{};
    return inet_pton(AF_INET, std::string(text).c_str(), &addr) == 1;
}

bool is_ipv6(std::string_view text) {
    if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) {
        return false;
    }
    in6_addr addr{};
    return inet_pton(AF_INET6, std::string(text).c_str(), &addr) == 1;
}

bool is_hostname(std::string_view text) {
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
    if (text.empty() || text.size() > 253) return false;
    bool all_numeric = true;
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            const auto label = text.substr(label_start, i - label_start);
            if (label.empty() || label.size() > 63 || label.front() == '-' ||
                label.back() == '-') {
                return false;
            }
            label_start = i + 1;
            continue;
        }
        const char c = text[i];
        if (!is_alnum(c) && c != '-') return false;
        if (!is_digit(c)) all_numeric = false;
    }
    // "300.1.1.1" is neither a valid IPv4 address nor a sensible host name.
    return !all_numeric;
}

bool is_host(std::string_view text) {
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
        return is_ipv6(text.substr(1, text.size() - 2));
    }
    return is_ipv4(text) || is_ipv6(text) || is_hostname(text);
}

bool is_cidr(std::string_view text) {
    const auto slash = text.find('/');
    const auto address = text.substr(0, slash);
    const bool v4 = is_ipv4(address);
    if (!v4 && !is_ipv6(address)) return false;
    if (slash == std::string_view::npos) return true;
    const auto prefix = text.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 3) return false;
    int bits = -1;
    const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (ec != std::errc{} || end != prefix.data() + prefix.size()) return false;
    return bits >= 0 && bits <= (v4 ? 32 : 128);
}

bool cidr_contains(std::string_view cidr, std::string_view ip) {
    if (!is_cidr(cidr)) return false;
    const auto slash = cidr.find('/');
    const std::string network(cidr.substr(0, slash));
    const bool v4 = is_ipv4(network);
    unsigned char net[16] = {};
    unsigned char addr[16] = {};
    const int family = v4 ? AF_INET : AF_INET6;
    if (inet_pton(family, network.c_str(), net) != 1) return false;
    if (ip.find('\0') != std::string_view::npos ||
        inet_pton(family, std::string(ip).c_str(), addr) != 1) {
        return false;
    }
    int bits = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        const auto prefix = cidr.substr(slash + 1);
        std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    }
    for (int i = 0; i < bits; ++i) {
        const int byte = i / 8;
        const int mask = 0x80 >> (i % 8);
        if ((net[byte] & mask) != (addr[byte] & mask)) return false;
    }
    return true;
}

std::optional<IpNetwork> parse_ip_network(std::string_view cidr) {
    if (!is_cidr(cidr)) return std::nullopt;
    const auto slash = cidr.find('/');
    const std::string address(cidr.substr(0, slash));
    IpNetwork network;
    const bool v4 = is_ipv4(address);
    if (v4) {
        network.address[10] = network.address[11] = 0xff;
        if (inet_pton(AF_INET, address.c_str(), network.address.data() + 12) != 1) {
            return std::nullopt;
        }
    } else if (inet_pton(AF_INET6, address.c_str(), network.address.data()) != 1) {
        return std::nullopt;
    }
    int bits = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        const auto prefix = cidr.substr(slash + 1);
        std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);  // is_cidr checked it
    }
    network.prefix = v4 ? bits + 96 : bits;
    return network;
}

bool networks_overlap(const IpNetwork& a, const IpNetwork& b) {
    // Two prefixes either nest or are disjoint: they overlap exactly when they agree on the
    // bits of the shorter one.
    const int bits = std::min(a.prefix, b.prefix);
    for (int i = 0; i < bits; ++i) {
        const int byte = i / 8;
        const int mask = 0x80 >> (i % 8);
        if ((a.address[byte] & mask) != (b.address[byte] & mask)) return false;
    }
    return true;
}

bool cidrs_overlap(std::string_view a, std::string_view b) {
    const auto first = parse_ip_network(a);
    const auto second = parse_ip_network(b);
    return first && second && networks_overlap(*first, *second);
}

bool is_sip_token(std::string_view text) {
    static constexpr std::string_view kAllowed = "-.!%*_+`'~";
    if (text.empty() || text.size() > 128) return false;
    for (const char c : text) {
        if (!is_alnum(c) && kAllowed.find(c) == std::string_view::npos) return false;
    }
    return true;
}

std::string to_valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool ok = len > 0 && i + len <= text.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        }
        if (ok && len == 2) ok = c >= 0xC2;  // overlong
        if (ok && len == 3) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
        }
        if (ok && len == 4) {
            const auto c1 = static_cast<unsigned char>(text[i + 1]);
            ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (ok) {
            out.append(text.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
            ++i;
        }
    }
    return out;
}

bool has_control_chars(std::string_view text) {
    for (const char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    }
    return false;
}

Result<SipUri> parse_sip_uri(std::string_view text) {
    auto fail = [](std::string why) { return make_error(Errc::kInvalidRequest, std::move(why)); };
    if (text.size() > 1024) return fail("SIP URI is longer than 1024 characters");
    if (has_control_chars(text) || text.find(' ') != std::string_view::npos) {
        return fail("SIP URI must not contain spaces or control characters");
    }
    SipUri uri;
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return fail("SIP URI must start with sip: or sips:");
    std::string scheme(text.substr(0, colon));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "sip" && scheme != "sips") return fail("SIP URI must start with sip: or sips:");
    uri.scheme = scheme;
    auto rest = text.substr(colon + 1);

    // Parameters and headers follow the host part; split them off first.
    const auto params_at = rest.find_first_of(";?");
    auto hostpart = rest.substr(0, params_at);
    if (params_at != std::string_view::npos) uri.params = std::string(rest.substr(params_at + 1));

    // The user part may itself contain ';' or '?' (user-unreserved), so look for '@' in the whole
    // remainder when it exists.
    const auto at = rest.rfind('@');
    if (at != std::string_view::npos) {
        auto userinfo = rest.substr(0, at);
        const auto after = rest.substr(at + 1);
        const auto after_params = after.find_first_of(";?");
        hostpart = after.substr(0, after_params);
        uri.params = after_params == std::string_view::npos
                         ? std::string()
                         : std::string(after.substr(after_params + 1));
        const auto pw = userinfo.find(':');
        const auto user = userinfo.substr(0, pw);
        if (user.empty()) return fail("SIP URI has an empty user part before '@'");
        for (const char c : user) {
            if (!is_sip_user_char(c)) return fail("SIP URI user part contains an invalid character");
        }
        uri.user = std::string(user);
    }
    if (hostpart.empty()) return fail("SIP URI has no host");

    std::string_view host = hostpart;
    std::string_view port;
    if (hostpart.front() == '[') {
        const auto close = hostpart.find(']');
        if (close == std::string_view::npos) return fail("SIP URI IPv6 host is missing ']'");
        host = hostpart.substr(1, close - 1);
        if (!is_ipv6(host)) return fail("SIP URI IPv6 host is not a valid IPv6 address");
        const auto tail = hostpart.substr(close + 1);
        if (!tail.empty()) {
            if (tail.front() != ':') return fail("SIP URI has junk after the IPv6 host");
            port = tail.substr(1);
            if (port.empty()) return fail("SIP URI port must be 1-65535");
        }
    } else {
        const auto pc = hostpart.find(':');
        if (pc != std::string_view::npos) {
            host = hostpart.substr(0, pc);
            port = hostpart.substr(pc + 1);
            if (port.empty()) return fail("SIP URI port must be 1-65535");
        }
        if (!is_ipv4(host) && !is_hostname(host)) {
            return fail("SIP URI host must be a host name, IPv4 or [IPv6] address");
        }
    }
    if (!port.empty()) {
        const auto parsed = parse_port(port);
        if (!parsed) return fail("SIP URI port must be 1-65535");
        uri.port = *parsed;
    }
    uri.host = std::string(host);
    return uri;
}

bool is_tel_uri(std::string_view text) {
    if (text.size() < 4) return false;
    std::string scheme(text.substr(0, 4));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "tel:") return false;
    auto number = text.substr(4);
    const auto semi = number.find(';');
    const auto params = semi == std::string_view::npos ? std::string_view{} : number.substr(semi);
    if (has_control_chars(params) || params.find(' ') != std::string_view::npos) return false;
    return is_e164(number.substr(0, semi));
}

bool is_transfer_destination(std::string_view text) {
    return is_e164(text) || is_tel_uri(text) || parse_sip_uri(text).has_value();
}

}  // namespace tl
