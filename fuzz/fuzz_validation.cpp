// Fuzzes the validators of user-typed values (common/validation.hpp) and the ISO-8601 parser
// (common/clock.hpp) with the input as text, and checks the promises they make to each other:
// whatever they accept must be usable where it goes (a SIP URI's host is a host, an accepted host
// has no control characters for the C SIP stack to cut at, an E.164 number is a transfer
// destination, a parsed time formats and parses back to itself).

#include "common/clock.hpp"
#include "common/validation.hpp"
#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {


bool no_control_chars_or_nul(std::string_view text) {
    return !tl::has_control_chars(text) && text.find('\0') == std::string_view::npos;
}

void check_sip_uri(std::string_view text) {
    const auto uri = tl::parse_sip_uri(text);
    if (!uri) {
        TL_FUZZ_CHECK(!uri.error().message.empty(), text);
        return;
    }
    TL_FUZZ_CHECK(uri->scheme == "sip" || uri->scheme == "sips", text);
    TL_FUZZ_CHECK(text.size() <= 1024, text);
    TL_FUZZ_CHECK(no_control_chars_or_nul(text), text);
    TL_FUZZ_CHECK(text.find(' ') == std::string_view::npos, text);
    TL_FUZZ_CHECK(!uri->host.empty(), text);
    TL_FUZZ_CHECK(tl::is_host(uri->host) || tl::is_ipv6(uri->host), text);
    if (uri->port) TL_FUZZ_CHECK(*uri->port >= 1 && *uri->port <= 65535, text);
    TL_FUZZ_CHECK(uri->user.find('@') == std::string::npos, text);
    TL_FUZZ_CHECK(uri->user.find(':') == std::string::npos, text);
    TL_FUZZ_CHECK(tl::is_transfer_destination(text), text);

    // The parts put back together (without password and parameters) parse to the same parts.
    std::string canonical = uri->scheme + ":";
    if (!uri->user.empty()) canonical += uri->user + "@";
    canonical += tl::is_ipv6(uri->host) ? "[" + uri->host + "]" : uri->host;
    if (uri->port) canonical += ":" + std::to_string(*uri->port);
    const auto again = tl::parse_sip_uri(canonical);
    TL_FUZZ_CHECK(again.has_value(), std::string(text) + " -> " + std::string(canonical));
    TL_FUZZ_CHECK(again->user == uri->user && again->host == uri->host && again->port == uri->port,
                  std::string(text) + " -> " + std::string(canonical));
}

void check_numbers(std::string_view text) {
    if (tl::is_e164(text)) {
        TL_FUZZ_CHECK(text.size() >= 3 && text.size() <= 16 && text[0] == '+', text);
        TL_FUZZ_CHECK(tl::is_transfer_destination(text), text);
        TL_FUZZ_CHECK(tl::is_tel_uri("tel:" + std::string(text)), text);
    }
    if (tl::is_tel_uri(text)) {
        TL_FUZZ_CHECK(tl::is_transfer_destination(text), text);
        TL_FUZZ_CHECK(no_control_chars_or_nul(text), text);
    }
    if (tl::is_transfer_destination(text)) {
        TL_FUZZ_CHECK(tl::is_e164(text) || tl::is_tel_uri(text) || tl::parse_sip_uri(text), text);
    }
}

void check_hosts(std::string_view text) {
    const bool host = tl::is_host(text);
    if (host) {
        // A host goes into SIP messages and C strings: no NUL, CR, LF or other control character.
        TL_FUZZ_CHECK(no_control_chars_or_nul(text), text);
        TL_FUZZ_CHECK(text.size() <= 255, text);
    }
    if (tl::is_hostname(text) || tl::is_ipv4(text)) {
        TL_FUZZ_CHECK(host, text);
        // What the API accepts as a trunk host must also work as the host of a SIP URI.
        const auto uri = tl::parse_sip_uri("sip:" + std::string(text));
        TL_FUZZ_CHECK(uri.has_value() && uri->host == text, text);
    }
    if (tl::is_ipv4(text)) {
        TL_FUZZ_CHECK(tl::is_cidr(text), text);
        TL_FUZZ_CHECK(tl::is_cidr(std::string(text) + "/32"), text);
    }
    if (tl::is_ipv6(text)) {
        TL_FUZZ_CHECK(host, text);
        TL_FUZZ_CHECK(tl::is_host("[" + std::string(text) + "]"), text);
        TL_FUZZ_CHECK(tl::is_cidr(std::string(text) + "/128"), text);
        const auto uri = tl::parse_sip_uri("sip:[" + std::string(text) + "]:5060");
        TL_FUZZ_CHECK(uri.has_value() && uri->host == text && uri->port == 5060, text);
    }
    if (tl::is_cidr(text)) {
        TL_FUZZ_CHECK(no_control_chars_or_nul(text), text);
        const auto address = text.substr(0, text.find('/'));
        TL_FUZZ_CHECK(tl::is_ipv4(address) || tl::is_ipv6(address), text);
        // Every range overlaps itself and its own network address (what trunk checks rely on).
        TL_FUZZ_CHECK(tl::cidrs_overlap(text, text), text);
        TL_FUZZ_CHECK(tl::cidrs_overlap(text, address), text);
    } else {
        TL_FUZZ_CHECK(!tl::cidrs_overlap(text, "0.0.0.0/0") && !tl::cidrs_overlap("::/0", text),
                      text);
    }
}

void check_token(std::string_view text) {
    if (!tl::is_sip_token(text)) return;
    TL_FUZZ_CHECK(!text.empty() && text.size() <= 128, text);
    TL_FUZZ_CHECK(no_control_chars_or_nul(text), text);
    for (const char c : text) {
        // Separators of RFC 3261 §25.1 never appear in a token.
        TL_FUZZ_CHECK(std::string_view("()<>@,;:\\\"/[]?={} \t").find(c) == std::string_view::npos,
                      text);
    }
}

void check_iso8601(std::string_view text) {
    using namespace std::chrono;
    const auto parsed = tl::parse_iso8601(text);
    if (!parsed) return;
    TL_FUZZ_CHECK(text.size() >= 10, text);
    const auto day = floor<days>(*parsed);
    if (text.size() == 10) TL_FUZZ_CHECK(*parsed == day, text);  // a bare date is its midnight
    // Formatting and parsing again gives the same instant, for every year the format can hold.
    const int year = static_cast<int>(year_month_day{day}.year());
    if (year >= 0 && year <= 9999) {
        const auto formatted = tl::format_iso8601(*parsed);
        const auto again = tl::parse_iso8601(formatted);
        TL_FUZZ_CHECK(again.has_value(), std::string(text) + " -> " + formatted);
        TL_FUZZ_CHECK(time_point_cast<milliseconds>(*again) == time_point_cast<milliseconds>(*parsed),
                      std::string(text) + " -> " + formatted);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_sip_uri(text);
    check_numbers(text);
    check_hosts(text);
    check_token(text);
    check_iso8601(text);
    return 0;
}
