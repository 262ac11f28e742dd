#pragma once
// The SIP stack's own version (sofia-sip's NUA). src/sip/stack/ is the only folder that includes
// the C SIP headers (STYLE.md); the rest of the SIP module arrives with the inbound-calls issue.

#include <string_view>

namespace tl::sip {

std::string_view stack_version();

}  // namespace tl::sip
