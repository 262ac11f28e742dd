#pragma once
// Validators for the values users type into the API and that later drive SIP: phone numbers,
// hosts, CIDRs, SIP/tel URIs, SIP header names. Pure functions, thread-safe, never throw.

#include "common/error.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

// E.164 as the API requires it: "+" then 2 to 15 digits, the first not 0 (`^\+[1-9]\d{1,14}$`).
bool is_e164(std::string_view text);

bool is_ipv4(std::string_view text);
bool is_ipv6(std::string_view text);  // bare, without brackets

// RFC 1123 host name: dot-separated labels of letters, digits and hyphens, 1-63 characters each,
// not starting or ending with a hyphen, 253 characters at most; a trailing dot is allowed.
bool is_hostname(std::string_view text);

// A SIP server host as users write it: host name, IPv4, or IPv6 (bare or in brackets).
bool is_host(std::string_view text);

// An IPv4/IPv6 address with an optional prefix length ("203.0.113.0/24", "2001:db8::/32").
bool is_cidr(std::string_view text);

// True when `ip` (IPv4 or IPv6 text) lies within `cidr` (address with optional /prefix).
bool cidr_contains(std::string_view cidr, std::string_view ip);

// An address range in IPv6 form: IPv4 is held IPv4-mapped (::ffff:a.b.c.d, RFC 4291 §2.5.5.2)
// with its prefix plus 96, so that both families compare with one rule.
struct IpNetwork {
    std::array<unsigned char, 16> address{};  // host bits as written (not masked)
    int prefix = 128;                         // 0-128
};

// Parses a CIDR as is_cidr() accepts it; a bare address is a /32 (IPv4) or /128 (IPv6).
std::optional<IpNetwork> parse_ip_network(std::string_view cidr);

// True when the two ranges share at least one address, i.e. the shorter prefix contains the
// other's network. IPv4 ranges meet IPv6 ranges only inside ::ffff:0:0/96 (e.g. ::/0).
bool networks_overlap(const IpNetwork& a, const IpNetwork& b);

// networks_overlap() of two CIDR texts; false when either is not a CIDR.
bool cidrs_overlap(std::string_view a, std::string_view b);

// RFC 3261 §25.1 token, the form of a header name.
bool is_sip_token(std::string_view text);

bool has_control_chars(std::string_view text);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD: for echoing untrusted
// input (paths, query keys) inside JSON, which must be valid UTF-8.
std::string to_valid_utf8(std::string_view text);

struct SipUri {
    std::string scheme;  // "sip" or "sips"
    std::string user;    // may be empty
    std::string host;    // without brackets for IPv6
    std::optional<int> port;
    std::string params;  // everything after the first ';' (uri-parameters and headers), raw
};

// Parses "sip:[user[:password]@]host[:port][;params][?headers]" (RFC 3261 §19.1.1).
// Returns kInvalidRequest with a message saying what is wrong.
Result<SipUri> parse_sip_uri(std::string_view text);

// "tel:+31612345678" (RFC 3966 global number, optional ;params).
bool is_tel_uri(std::string_view text);

// A transfer destination: E.164, sip:/sips: URI or tel: URI.
bool is_transfer_destination(std::string_view text);

}  // namespace tl
