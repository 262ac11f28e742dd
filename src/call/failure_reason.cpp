#include "call/failure_reason.hpp"

#include <fmt/format.h>

namespace tl::call {
namespace {

bool phrase_mentions_dns(std::string_view phrase) {
    return phrase.find("DNS") != std::string_view::npos;
}

FailureReason local_failure(const AttemptOutcome& o) {
    // sofia's 503 "DNS Error": no NAPTR/SRV/A/AAAA record for the host.
    if (o.status == 503 && phrase_mentions_dns(o.phrase)) {
        return {"dns_failure", std::nullopt,
                fmt::format("the host {} does not resolve (DNS); check the trunk's host name, or "
                            "the DNS servers of the machine Trunkline runs on",
                            o.host)};
    }
    // sofia's other 503s come from the transport: an ICMP port unreachable, a TCP reset, no
    // route. Nothing took the message.
    if (o.status == 503 && !o.responded) {
        return {"connection_refused", std::nullopt,
                fmt::format("nothing accepted SIP at {} (connection refused or unreachable); "
                            "check the trunk's host, port and transport, and that the PBX or "
                            "carrier is running",
                            o.target)};
    }
    return {"local_error", std::nullopt,
            fmt::format("Trunkline could not place the call: {} {}; the server log has details",
                        o.status, o.phrase)};
}

// Nothing final came in time: sofia's 408 (timer B, 32 s) or our ring timeout and CANCEL (whose
// 487 may come from the far end, but only because we asked).
FailureReason unanswered(const AttemptOutcome& o) {
    std::optional<int> code;
    if (o.origin == sip::ResponseOrigin::kNetwork && o.status >= 300) code = o.status;
    if (o.rang) {
        return {"no_answer", code,
                o.ring_timeout
                    ? fmt::format("{} rang but nobody answered within {} s", o.target,
                                  o.ring_timeout_seconds)
                    : fmt::format("{} rang but nobody answered", o.target)};
    }
    if (!o.responded) {
        return {"timeout", code,
                fmt::format("no response from {}; check the host, port and transport, and that "
                            "firewalls let SIP through both ways",
                            o.target)};
    }
    return {"timeout", code,
            fmt::format("{} acknowledged the call (100 Trying) but neither rang nor answered in "
                        "time",
                        o.target)};
}

FailureReason network_failure(const AttemptOutcome& o) {
    const int s = o.status;
    const std::string status_text = fmt::format("{} {}", s, o.phrase);
    if (s == 401 || s == 407 || (s == 403 && o.credentials_sent)) {
        if (o.credentials_sent) {
            return {"auth_rejected", s,
                    fmt::format("{} refused our credentials for user {} ({}); check the trunk's "
                                "username and password",
                                o.target, o.username, status_text)};
        }
        if (!o.credentials_configured) {
            return {"auth_required", s,
                    fmt::format("{} asks for credentials ({}) and the trunk has none; set the "
                                "trunk's username and password",
                                o.target, status_text)};
        }
        return {"auth_rejected", s,
                fmt::format("{} challenged again ({}) for user {}; check the trunk's username, "
                            "password and realm",
                            o.target, status_text, o.username)};
    }
    if (s == 486 || s == 600) {
        return {"busy", s, fmt::format("the destination is busy ({})", status_text)};
    }
    if (s == 603 || s == 403) {
        return {"rejected", s,
                fmt::format("{} refused the call ({}); if it expects calls only from known "
                            "addresses or with credentials, check the trunk on both sides",
                            o.target, status_text)};
    }
    if (s == 404 || s == 484 || s == 604) {
        return {"not_found", s,
                fmt::format("{} does not know the number or user dialled ({}); check the "
                            "destination number and the trunk's number format",
                            o.target, status_text)};
    }
    if (s == 480 || s == 408 || s == 487) {
        return {"no_answer", s, fmt::format("nobody answered ({})", status_text)};
    }
    if (s == 488 || s == 606 || s == 415) {
        return {"no_common_codec", s,
                fmt::format("{} accepts none of our codecs (PCMU, PCMA) ({}); enable G.711 on "
                            "the far end",
                            o.target, status_text)};
    }
    return {"remote_error", s, fmt::format("{} answered {}", o.target, status_text)};
}

}  // namespace

FailureReason classify_failure(const AttemptOutcome& outcome) {
    const bool local = outcome.origin == sip::ResponseOrigin::kLocal;
    if (outcome.ring_timeout || (local && (outcome.status == 408 || outcome.status == 487))) {
        return unanswered(outcome);
    }
    if (outcome.origin == sip::ResponseOrigin::kNetwork && outcome.status >= 300) {
        return network_failure(outcome);
    }
    return local_failure(outcome);
}

FailureReason classify_refer_failure(int status, bool from_notify, std::string_view target) {
    if (status == 0) {
        return {"timeout", std::nullopt,
                fmt::format("the far end accepted the REFER to {} but never reported the outcome "
                            "(no final NOTIFY)",
                            target)};
    }
    if (!from_notify) {
        return {"rejected", status,
                fmt::format("the far end refused the REFER ({}); set the trunk's transfer_method "
                            "to bridge or auto",
                            status)};
    }
    AttemptOutcome o;
    o.status = status;
    o.origin = sip::ResponseOrigin::kNetwork;
    o.responded = true;
    o.target = std::string(target);
    return network_failure(o);
}

}  // namespace tl::call
