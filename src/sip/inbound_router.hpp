#pragma once
// Who is calling and whom they want (OpenCX seed page 004, api-contract.md Part 1):
//  1. trunk identification: a source address in an inbound trunk's allowed_addresses, else digest
//     credentials (inbound_username/inbound_password) — unknown sources are challenged before any
//     routing, so a stranger never learns whether a number exists. When several trunks list the
//     source (one organization may split a carrier's DIDs over trunks; the store refuses overlaps
//     across organizations), the dialled number picks among them. A verified digest header that
//     is replayed (same nonce and cnonce, nc not higher) is challenged again with stale=true;
//  2. routing: the X-Assistant-Id header (name configurable), else the dialled number from the
//     Request-URI user (then To), normalised to E.164.
// Failed digest attempts are rate-limited per source address (then 403 without hashing); replays
// are not failures (an honest client that reuses a count just answers the fresh challenge).
//
// Thread-safety: route() may be called concurrently (it reads the store, touches a locked map).

#include "common/metrics.hpp"
#include "sip/digest.hpp"
#include "sip/digest_replay_cache.hpp"
#include "sip/sip_types.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <chrono>
#include <functional>
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
    // (nonce, cnonce) pairs remembered against replays (digest_replay_cache.hpp).
    std::size_t max_replay_entries = DigestReplayCache::kDefaultMaxEntries;
    // Wall clock for nonces and the replay cache; injectable for tests.
    std::function<NonceIssuer::Clock::time_point()> clock = [] {
        return NonceIssuer::Clock::now();
    };
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
    // The trunk the INVITE came from when it was identified (by address, or by its digest
    // username even with a wrong password): such a refusal is recorded as a failed call of its
    // organization. Absent for strangers, which are never stored.
    std::optional<store::SipTrunk> trunk;
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
    // The inbound IP trunk whose allowed_addresses hold `source_ip` (no digest, no hashing):
    // enough to attribute a call refused for overload. Reads the store.
    std::optional<store::SipTrunk> trunk_by_address(const std::string& source_ip);

private:
    std::variant<store::SipTrunk, RejectedCall> identify(
        const InviteRequest& invite,
        const std::vector<store::SipTrunk>& trunks);
    store::SipTrunk pick_by_dialled_number(const InviteRequest& invite,
                                           const std::vector<const store::SipTrunk*>& candidates);
    RouteDecision route_for_trunk(const InviteRequest& invite, store::SipTrunk trunk);
    RejectedCall challenge(const InviteRequest& invite,
                           bool stale,
                           NonceIssuer::Clock::time_point now);
    bool too_many_failures(const std::string& source);
    void count_failure(const std::string& source);

    store::Store& store_;
    const store::SecretBox& secrets_;
    InboundRouterConfig config_;
    NonceIssuer nonces_;
    metrics::Counter& auth_failures_;
    metrics::Counter& auth_blocked_;
    metrics::Counter& digest_replays_;
    metrics::Counter& replay_evictions_;
    DigestReplayCache replays_;
    std::mutex failures_mutex_;
    struct Failures {
        std::chrono::steady_clock::time_point window_start;
        int count = 0;
    };
    std::unordered_map<std::string, Failures> failures_;
};

}  // namespace tl::sip
