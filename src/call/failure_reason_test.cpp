// What each way an INVITE can fail is called, and that a status sofia-sip made up is never
// presented as the far end's.

#include "call/failure_reason.hpp"

#include <gtest/gtest.h>

namespace tl::call {
namespace {

using sip::ResponseOrigin;

AttemptOutcome attempt(int status, std::string phrase, ResponseOrigin origin) {
    AttemptOutcome o;
    o.status = status;
    o.phrase = std::move(phrase);
    o.origin = origin;
    o.responded = origin == ResponseOrigin::kNetwork;
    o.target = "pbx.example.com:5060";
    o.host = "pbx.example.com";
    o.username = "trunkline";
    o.credentials_configured = true;
    o.ring_timeout_seconds = 30;
    return o;
}

struct Case {
    const char* name;
    AttemptOutcome outcome;
    const char* reason;
    std::optional<int> sip_code;
    const char* hint_contains;
};

TEST(FailureReason, ClassifiesEveryWayAnInviteFails) {
    auto challenged_then_403 = attempt(403, "Forbidden", ResponseOrigin::kNetwork);
    challenged_then_403.credentials_sent = true;
    auto challenged_twice = attempt(401, "Unauthorized", ResponseOrigin::kNetwork);
    challenged_twice.credentials_sent = true;
    auto no_credentials = attempt(407, "Proxy Authentication Required", ResponseOrigin::kNetwork);
    no_credentials.credentials_configured = false;
    auto rang = attempt(487, "Request Terminated", ResponseOrigin::kNetwork);
    rang.rang = true;
    rang.ring_timeout = true;
    auto silent = attempt(487, "Request Terminated", ResponseOrigin::kLocal);
    silent.ring_timeout = true;
    auto trying_only = attempt(408, "Request Timeout", ResponseOrigin::kLocal);
    trying_only.responded = true;
    auto refused_transport = attempt(503, "Service Unavailable", ResponseOrigin::kLocal);

    const Case cases[] = {
        {"sofia's DNS failure", attempt(503, "DNS Error", ResponseOrigin::kLocal), "dns_failure",
         std::nullopt, "pbx.example.com does not resolve"},
        {"sofia's transport failure", refused_transport, "connection_refused", std::nullopt,
         "nothing accepted SIP at pbx.example.com:5060"},
        {"sofia's timer B", attempt(408, "Request Timeout", ResponseOrigin::kLocal), "timeout",
         std::nullopt, "no response from pbx.example.com:5060"},
        {"only 100 Trying", trying_only, "timeout", std::nullopt, "100 Trying"},
        {"our CANCEL before any answer", silent, "timeout", std::nullopt, "no response"},
        {"rang, then our CANCEL", rang, "no_answer", 487, "rang but nobody answered within 30 s"},
        {"403 after our credentials", challenged_then_403, "auth_rejected", 403,
         "refused our credentials for user trunkline"},
        {"a second challenge", challenged_twice, "auth_rejected", 401, "user trunkline"},
        {"a challenge, no credentials", no_credentials, "auth_required", 407,
         "set the trunk's username and password"},
        {"403 without credentials", attempt(403, "Forbidden", ResponseOrigin::kNetwork),
         "rejected", 403, "refused the call (403 Forbidden)"},
        {"busy", attempt(486, "Busy Here", ResponseOrigin::kNetwork), "busy", 486, "busy"},
        {"busy everywhere", attempt(600, "Busy Everywhere", ResponseOrigin::kNetwork), "busy",
         600, "busy"},
        {"declined", attempt(603, "Decline", ResponseOrigin::kNetwork), "rejected", 603,
         "603 Decline"},
        {"not found", attempt(404, "Not Found", ResponseOrigin::kNetwork), "not_found", 404,
         "does not know the number"},
        {"address incomplete", attempt(484, "Address Incomplete", ResponseOrigin::kNetwork),
         "not_found", 484, "484"},
        {"temporarily unavailable", attempt(480, "Temporarily Unavailable", ResponseOrigin::kNetwork),
         "no_answer", 480, "nobody answered"},
        {"no codec", attempt(488, "Not Acceptable Here", ResponseOrigin::kNetwork),
         "no_common_codec", 488, "PCMU, PCMA"},
        {"the far end's own 503", attempt(503, "Service Unavailable", ResponseOrigin::kNetwork),
         "remote_error", 503, "answered 503 Service Unavailable"},
        {"the far end's 500", attempt(500, "Server Internal Error", ResponseOrigin::kNetwork),
         "remote_error", 500, "500"},
        {"a local oddity", attempt(416, "Unsupported URI Scheme", ResponseOrigin::kLocal),
         "local_error", std::nullopt, "could not place the call"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto failure = classify_failure(c.outcome);
        EXPECT_EQ(failure.reason, c.reason);
        EXPECT_EQ(failure.sip_code, c.sip_code);
        EXPECT_NE(failure.hint.find(c.hint_contains), std::string::npos) << failure.hint;
    }
}

TEST(FailureReason, ReferOutcomes) {
    const auto refused = classify_refer_failure(405, false, "sip:+31612345678@pbx");
    EXPECT_EQ(refused.reason, "rejected");
    EXPECT_EQ(refused.sip_code, 405);
    EXPECT_NE(refused.hint.find("transfer_method"), std::string::npos);
    const auto busy = classify_refer_failure(486, true, "sip:+31612345678@pbx");
    EXPECT_EQ(busy.reason, "busy");
    const auto silent = classify_refer_failure(0, false, "sip:+31612345678@pbx");
    EXPECT_EQ(silent.reason, "timeout");
    EXPECT_EQ(silent.sip_code, std::nullopt);
}

}  // namespace
}  // namespace tl::call
