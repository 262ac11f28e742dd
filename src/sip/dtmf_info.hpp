#pragma once
// DTMF carried in SIP INFO bodies (untrusted bytes): `application/dtmf-relay` ("Signal=5\r\n
// Duration=160\r\n", the de-facto format of Cisco and most PBXs) and `application/dtmf` (the
// digit alone, RFC 2976-era softphones such as linphone). Pure functions: thread-safe.

#include <string_view>

#include "common/error.hpp"

namespace tl::sip {

struct InfoDigit {
    char digit = 0;       // '0'-'9', '*', '#', 'A'-'D' (upper case)
    int duration_ms = 0;  // 0 when the body does not say
};

// True for the Content-Types parse_dtmf_info understands (parameters and case ignored).
bool is_dtmf_info_type(std::string_view content_type);

// The key press in an INFO body of `content_type`; kInvalidRequest when the body holds no
// single valid digit (then the INFO is refused with 400, not silently acknowledged).
Result<InfoDigit> parse_dtmf_info(std::string_view content_type, std::string_view body);

}  // namespace tl::sip
