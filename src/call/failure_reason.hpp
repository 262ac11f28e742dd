#pragma once
// Why an INVITE we sent (a transfer leg, an outbound call) did not connect, in words an operator
// can act on: a reason code, the SIP status when one came from the far end, and a one-sentence
// hint naming what to check. Statuses sofia-sip makes up itself (its 503 when DNS fails or the
// transport fails, its 408 when nothing answers) are causes, never reported as the far end's.

#include "sip/sip_types.hpp"

#include <optional>
#include <string>

namespace tl::call {

// What the call saw of the attempt.
struct AttemptOutcome {
    int status = 0;  // the final status (0: none, e.g. our own ring timeout)
    std::string phrase;
    sip::ResponseOrigin origin = sip::ResponseOrigin::kLocal;
    bool responded = false;  // any response (100-699) came from the network
    bool rang = false;       // a 180/183 came from the network
    bool credentials_configured = false;
    bool credentials_sent = false;  // we answered a 401/407 challenge
    bool ring_timeout = false;      // we gave up (CANCEL) after the ring timeout
    std::string target;             // "pbx.example.com:5060" or the SIP URI, for the hint
    std::string host;               // the host alone (DNS hints)
    std::string username;           // the digest username, for the hint
    int ring_timeout_seconds = 0;
};

struct FailureReason {
    // dns_failure | connection_refused | timeout | auth_rejected | auth_required | busy |
    // rejected | no_answer | not_found | no_common_codec | remote_error | local_error
    std::string reason;
    std::optional<int> sip_code;  // only a status the far end sent
    std::string hint;
};

FailureReason classify_failure(const AttemptOutcome& outcome);

// A REFER the far end refused (its response, or the final status in its NOTIFY), or that never
// completed in time (`status` 0).
FailureReason classify_refer_failure(int status, bool from_notify, std::string_view target);

}  // namespace tl::call
