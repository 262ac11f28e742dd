#include "sip/capture/utf8.hpp"

#include <cstddef>
#include <cstdint>

namespace tl::sip::detail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed sequence starting at `i`, or 0 (RFC 3629 §4, UTF8-octets).
std::size_t sequence_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
    const auto tail = [&](std::size_t k, std::uint8_t lo = 0x80, std::uint8_t hi = 0xBF) {
        return i + k < s.size() && byte(k) >= lo && byte(k) <= hi;
    };
    const std::uint8_t b = byte(0);
    if (b <= 0x7F) return 1;
    if (b >= 0xC2 && b <= 0xDF) return tail(1) ? 2 : 0;
    if (b == 0xE0) return tail(1, 0xA0) && tail(2) ? 3 : 0;
    if (b == 0xED) return tail(1, 0x80, 0x9F) && tail(2) ? 3 : 0;  // no surrogates
    if (b >= 0xE1 && b <= 0xEF) return tail(1) && tail(2) ? 3 : 0;
    if (b == 0xF0) return tail(1, 0x90) && tail(2) && tail(3) ? 4 : 0;
    if (b >= 0xF1 && b <= 0xF3) return tail(1) && tail(2) && tail(3) ? 4 : 0;
    if (b == 0xF4) return tail(1, 0x80, 0x8F) && tail(2) && tail(3) ? 4 : 0;
    return 0;
}

}  // namespace

std::string to_valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t n = sequence_length(text, i);
        if (n == 0) {
            out.append(kReplacement);
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace tl::sip::detail
