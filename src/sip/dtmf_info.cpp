#include "sip/dtmf_info.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace tl::sip {
namespace {

constexpr int kMaxDurationMs = 60'000;  // longer is not a key press

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view media_type(std::string_view content_type) {
    return trim(content_type.substr(0, content_type.find(';')));
}

enum class EventNumbers { kAllowed, kRefused };

// One digit, or (in Signal=, where some PBXs send it) the RFC 4733 event number of one
// (10 = '*', 11 = '#', 12-15 = A-D).
Result<char> digit_of(std::string_view text, EventNumbers event_numbers) {
    text = trim(text);
    if (text.size() == 1) {
        const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
        if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D')) return c;
    } else if (event_numbers == EventNumbers::kAllowed && text.size() == 2 && text[0] == '1' &&
               text[1] >= '0' && text[1] <= '5') {
        return "*#ABCD"[text[1] - '0'];
    }
    return make_error(Errc::kInvalidRequest, "not a DTMF digit");
}

int duration_of(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 6) return 0;
    int value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return 0;
        value = value * 10 + (c - '0');
    }
    return std::min(value, kMaxDurationMs);
}

// "Signal=5\r\nDuration=160\r\n": one `name=value` per line, names case-insensitive, unknown
// lines ignored.
Result<InfoDigit> parse_relay(std::string_view body) {
    std::optional<char> digit;
    int duration = 0;
    while (!body.empty()) {
        const auto end = body.find('\n');
        const auto line = body.substr(0, end);
        body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        const auto name = trim(line.substr(0, eq));
        const auto value = line.substr(eq + 1);
        if (iequals(name, "Signal")) {
            auto d = digit_of(value, EventNumbers::kAllowed);
            if (!d) return d.error();
            digit = *d;
        } else if (iequals(name, "Duration")) {
            duration = duration_of(value);
        }
    }
    if (!digit) return make_error(Errc::kInvalidRequest, "no Signal line in the dtmf-relay body");
    return InfoDigit{*digit, duration};
}

}  // namespace

bool is_dtmf_info_type(std::string_view content_type) {
    const auto type = media_type(content_type);
    return iequals(type, "application/dtmf-relay") || iequals(type, "application/dtmf");
}

Result<InfoDigit> parse_dtmf_info(std::string_view content_type, std::string_view body) {
    const auto type = media_type(content_type);
    if (iequals(type, "application/dtmf-relay")) return parse_relay(body);
    if (iequals(type, "application/dtmf")) {
        const auto line = trim(body.substr(0, body.find_first_of("\r\n")));
        auto d = digit_of(line, EventNumbers::kRefused);
        if (!d) return d.error();
        return InfoDigit{*d, 0};
    }
    return make_error(Errc::kInvalidRequest, "not a DTMF content type");
}

}  // namespace tl::sip
