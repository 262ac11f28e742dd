#pragma once
// Who is calling and whom they want (OpenCX seed page 004, api-contract.md Part 1):
//  1. trunk identification: a source address in an inbound trunk's allowed_addresses, else digest
//     credentials (inbound_username/inbound_password) — unknown sources are challenged before any
//     routing, so a stranger never learns whether a number exists;
//  2. routing: the X-Assistant-Id header (name configurable), else the dialled number from the
//     Request-URI user (then To), normalised to E.164.
// Failed digest attempts are rate-limited per source address (then 403 without hashing).
//
// Thread-safety: route() may be called concurrently (it reads the store, touches a locked map).

#include "common/metrics.hpp"
#include "sip/digest.hpp"
#include "sip/sip_types.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

namespace tl::sip {

struct InboundRouterConfig {
    std::string realm = "trunkline";
    std::string assistant_header = "X-Assistant-Id";
    std::chrono::seconds nonce_lifetime{300};
    int max_auth_failures = 10;  // per source address and window, then 403 at once
    std::chrono::seconds auth_failure_window{60};
    // Also offer SHA-256 (RFC 8760). Off by default: several UAs fail on a challenge list that
    // holds an algorithm they do not know (docs/adr/0005-digest-challenge-order.md).
    bool offer_sha256 = false;
};

struct AcceptedCall {
    store::SipTrunk trunk;
    // Empty (no id) when the number has no usable assistant but the organization has a webhook:
    // the call must get one from the assistant-request webhook (api-contract.md §5.4).
    store::Assistant assistant;
    bool needs_assistant = false;
    std::optional<store::PhoneNumber> number;  // absent when routed by header
    std::string dialled;                        // E.164 when known
    std::string caller;                         // From user as received
};

struct RejectedCall {
    Reply reply;
    std::string reason;  // for logs and metrics: "unknown_number", "auth_failed", ...
};

using RouteDecision = std::variant<AcceptedCall, RejectedCall>;

class InboundRouter {
public:
    InboundRouter(store::Store& store,
                  const store::SecretBox& secrets,
                  metrics::Registry& metrics,
                  InboundRouterConfig config,
                  std::array<unsigned char, 32> nonce_secret);

    RouteDecision route(const InviteRequest& invite);

private:
    std::variant<store::SipTrunk, RejectedCall> identify(
        const InviteRequest& invite,
        const std::vector<store::SipTrunk>& trunks);
    RouteDecision route_for_trunk(const InviteRequest& invite, store::SipTrunk trunk);
    RejectedCall challenge(const InviteRequest& invite, bool stale);
    bool too_many_failures(const std::string& source);
    void count_failure(const std::string& source);

    store::Store& store_;
    const store::SecretBox& secrets_;
    InboundRouterConfig config_;
    NonceIssuer nonces_;
    metrics::Counter& auth_failures_;
    metrics::Counter& auth_blocked_;
    std::mutex failures_mutex_;
    struct Failures {
        std::chrono::steady_clock::time_point window_start;
        int count = 0;
    };
    std::unordered_map<std::string, Failures> failures_;
};

}  // namespace tl::sip
