#include "sip/sip_types.hpp"

#include "common/ids.hpp"

#include <algorithm>
#include <cctype>

namespace tl::sip {

std::optional<std::string> InviteRequest::header(std::string_view name) const {
    for (const auto& h : extra_headers) {
        if (h.name.size() == name.size() &&
            std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
            return h.value;
        }
    }
    return std::nullopt;
}

}  // namespace tl::sip

namespace tl::sip {

std::string new_call_id(std::string_view host) {
    return random_token(16) + "@" + std::string(host);
}

}  // namespace tl::sip
