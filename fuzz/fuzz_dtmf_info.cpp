// Fuzzes the bodies of SIP INFO requests that carry DTMF (sip/dtmf_info.hpp): the first line of
// the input is the Content-Type, the rest the body, as a peer on the SIP port controls both.
//
// Invariants: a digit is reported only for the two DTMF content types, is one of 0-9 * # A-D,
// and has a duration in 0..60000 ms; an application/dtmf body is accepted only when its first
// line holds that one digit (blanks aside); a dtmf-relay body only when it has a Signal line.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sip/dtmf_info.hpp"

namespace {

using tl::sip::is_dtmf_info_type;
using tl::sip::parse_dtmf_info;

bool is_digit_char(char c) {
    return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto newline = text.find('\n');
    const auto content_type = text.substr(0, newline);
    const auto body =
        newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    const auto parsed = parse_dtmf_info(content_type, body);
    const std::string context = tl::fuzz::escaped(text);
    if (!parsed) return 0;
    TL_FUZZ_CHECK(is_dtmf_info_type(content_type), context);
    TL_FUZZ_CHECK(is_digit_char(parsed->digit), context);
    TL_FUZZ_CHECK(parsed->duration_ms >= 0 && parsed->duration_ms <= 60000, context);
    const auto type = lower(content_type.substr(0, content_type.find(';')));
    if (type.find("relay") != std::string::npos) {
        TL_FUZZ_CHECK(lower(std::string(body)).find("signal") != std::string::npos, context);
    } else {
        const auto first = body.substr(0, body.find_first_of("\r\n"));
        std::size_t digits = 0;
        for (const char c : first) {
            if (c == ' ' || c == '\t') continue;
            TL_FUZZ_CHECK(is_digit_char(static_cast<char>(c >= 'a' && c <= 'd' ? c - 32 : c)),
                          context);
            ++digits;
        }
        TL_FUZZ_CHECK(digits == 1, context);
    }
    return 0;
}
