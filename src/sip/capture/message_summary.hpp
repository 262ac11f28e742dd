#pragma once
// The little the ladder shows of a SIP message: its method, or its status, reason phrase and the
// method in its CSeq (RFC 3261 §7.1, §7.2, §20.16). Internal to the capture library. Reads
// untrusted bytes: never throws, and anything it cannot make sense of gives an empty summary.
// Pure function: thread-safe.

#include <string>
#include <string_view>

namespace tl::sip::detail {

struct MessageSummary {
    std::string method;       // of a request; empty for a response
    int status = 0;           // of a response (100-699); 0 for a request
    std::string reason;       // a response's reason phrase
    std::string cseq_method;  // from the CSeq header, either kind
    bool keep_alive = false;  // nothing but CRLFs (RFC 5626 §3.5.1)
};

MessageSummary summarize_message(std::string_view raw);

}  // namespace tl::sip::detail
