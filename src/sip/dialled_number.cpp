#include "sip/dialled_number.hpp"

#include "common/validation.hpp"

namespace tl::sip {

std::optional<std::string> normalise_dialled_number(std::string_view text,
                                                    std::string_view country_code) {
    if (text.size() > 64) return std::nullopt;
    if (text.size() >= 4 && (text.substr(0, 4) == "tel:" || text.substr(0, 4) == "TEL:")) {
        text.remove_prefix(4);
    }
    text = text.substr(0, text.find(';'));  // user parameters (RFC 3261 §19.1.1, RFC 3966)
    std::string digits;
    bool plus = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            digits.push_back(c);
        } else if (c == '+' && i == 0) {
            plus = true;
        } else if (c == '-' || c == '.' || c == '(' || c == ')' || c == ' ') {
            continue;  // RFC 3966 visual separators
        } else {
            return std::nullopt;  // an extension name, not a number
        }
    }
    std::string e164;
    if (plus) {
        e164 = "+" + digits;
    } else if (digits.size() > 2 && digits.rfind("00", 0) == 0) {
        e164 = "+" + digits.substr(2);  // international dialling prefix
    } else if (digits.size() >= 8 && digits.front() != '0') {
        e164 = "+" + digits;
    } else if (!country_code.empty() && digits.size() > 1 && digits[0] == '0' && digits[1] != '0') {
        e164 = "+" + std::string(country_code) + digits.substr(1);  // national, trunk prefix 0
    } else {
        return std::nullopt;  // national numbers need the trunk's country_code; short ones fail
    }
    if (!is_e164(e164)) return std::nullopt;
    return e164;
}

}  // namespace tl::sip
