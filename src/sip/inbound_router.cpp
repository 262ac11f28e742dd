#include "sip/inbound_router.hpp"

#include "common/ids.hpp"
#include "common/validation.hpp"
#include "sip/dialled_number.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace tl::sip {
namespace {

RejectedCall reject(int status, std::string reason, std::vector<HeaderField> headers = {}) {
    return RejectedCall{Reply{status, {}, std::move(headers), {}}, std::move(reason), std::nullopt};
}

bool source_allowed(const store::SipTrunk& trunk, const std::string& ip) {
    return std::any_of(trunk.allowed_addresses.begin(), trunk.allowed_addresses.end(),
                       [&](const std::string& cidr) { return cidr_contains(cidr, ip); });
}

// The dialled number as `trunk` delivers it: the Request-URI user, else the To user, in E.164
// (national numbers with the trunk's country code).
std::optional<std::string> dialled_number(const InviteRequest& invite,
                                          const store::SipTrunk& trunk) {
    const std::string country = trunk.country_code.value_or("");
    auto dialled = normalise_dialled_number(invite.request_user, country);
    if (!dialled) dialled = normalise_dialled_number(invite.to_user, country);
    return dialled;
}

bool lists_number(const store::SipTrunk& trunk, const std::string& e164) {
    return std::find(trunk.numbers.begin(), trunk.numbers.end(), e164) != trunk.numbers.end();
}

}  // namespace

InboundRouter::InboundRouter(store::Store& store,
                             const store::SecretBox& secrets,
                             metrics::Registry& metrics,
                             InboundRouterConfig config,
                             std::array<unsigned char, 32> nonce_secret)
    : store_(store),
      secrets_(secrets),
      config_(std::move(config)),
      nonces_(nonce_secret, config_.nonce_lifetime),
      auth_failures_(metrics.counter("trunkline_sip_auth_failures_total",
                                     "Inbound INVITEs with wrong digest credentials.")),
      auth_blocked_(metrics.counter("trunkline_sip_auth_blocked_total",
                                    "Inbound INVITEs refused because their source failed "
                                    "authentication too often.")),
      digest_replays_(metrics.counter("trunkline_sip_digest_replays_total",
                                      "Inbound INVITEs whose verified digest credentials were "
                                      "used before (challenged again with stale=true).")),
      replay_evictions_(metrics.counter("trunkline_sip_digest_replay_evictions_total",
                                        "Digest replay-cache entries evicted before their nonce "
                                        "expired because the cache was full.")),
      replays_(config_.nonce_lifetime, config_.max_replay_entries, replay_evictions_) {}

RejectedCall InboundRouter::challenge(const InviteRequest& invite,
                                      bool stale,
                                      NonceIssuer::Clock::time_point now) {
    const auto nonce = nonces_.issue(invite.source_ip, now);
    // MD5 always, SHA-256 only when configured: deployed UAs (sipp, sofia-sip and the PBXs built
    // on it) fail on a SHA-256 challenge rather than skip it (docs/adr/0005).
    std::vector<HeaderField> headers{
        {"WWW-Authenticate", digest_challenge(DigestAlgorithm::kMd5, config_.realm, nonce, stale)}};
    if (config_.offer_sha256) {
        headers.push_back({"WWW-Authenticate",
                           digest_challenge(DigestAlgorithm::kSha256, config_.realm, nonce, stale)});
    }
    return reject(401, "challenged", std::move(headers));
}

bool InboundRouter::too_many_failures(const std::string& source) {
    std::lock_guard lock(failures_mutex_);
    const auto it = failures_.find(source);
    if (it == failures_.end()) return false;
    if (std::chrono::steady_clock::now() - it->second.window_start > config_.auth_failure_window) {
        failures_.erase(it);
        return false;
    }
    return it->second.count >= config_.max_auth_failures;
}

void InboundRouter::count_failure(const std::string& source) {
    auth_failures_.inc();
    std::lock_guard lock(failures_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (failures_.size() > 100'000) failures_.clear();  // bounded under a spoofed-source flood
    auto& f = failures_[source];
    if (f.count == 0 || now - f.window_start > config_.auth_failure_window) {
        f.window_start = now;
        f.count = 0;
    }
    ++f.count;
}

// Several trunks may list the caller's address: one organization may split a carrier's DIDs over
// trunks (across organizations the store refuses overlapping addresses). Prefer a trunk whose
// `numbers` list the dialled number, then one without `numbers` whose organization owns it, then
// the first created (which route_for_trunk() refuses as it did before there was a choice).
store::SipTrunk InboundRouter::pick_by_dialled_number(
    const InviteRequest& invite,
    const std::vector<const store::SipTrunk*>& candidates) {
    if (candidates.size() == 1) return *candidates.front();
    const store::SipTrunk* owner = nullptr;
    for (const auto* trunk : candidates) {
        const auto dialled = dialled_number(invite, *trunk);
        if (!dialled) continue;
        if (!trunk->numbers.empty()) {
            if (lists_number(*trunk, *dialled)) return *trunk;
            continue;
        }
        if (owner == nullptr) {
            auto number = store_.find_number_by_e164(*dialled);
            if (number && number->org_id == trunk->org_id) owner = trunk;
        }
    }
    return owner != nullptr ? *owner : *candidates.front();
}

std::variant<store::SipTrunk, RejectedCall> InboundRouter::identify(
    const InviteRequest& invite,
    const std::vector<store::SipTrunk>& trunks) {
    std::vector<const store::SipTrunk*> by_address;
    for (const auto& trunk : trunks) {
        if (trunk.auth_type == "ip" && source_allowed(trunk, invite.source_ip)) {
            by_address.push_back(&trunk);
        }
    }
    if (!by_address.empty()) return pick_by_dialled_number(invite, by_address);
    if (too_many_failures(invite.source_ip)) {
        auth_blocked_.inc();
        return reject(403, "auth_blocked");
    }
    const auto now = config_.clock();
    if (invite.authorization.empty()) return challenge(invite, false, now);
    for (const auto& header : invite.authorization) {
        auto credentials = parse_digest_authorization(header);
        if (!credentials) continue;
        const auto verdict = nonces_.check(credentials->nonce, invite.source_ip, now);
        if (verdict == NonceIssuer::Verdict::kInvalid) continue;
        const auto trunk = std::find_if(trunks.begin(), trunks.end(), [&](const auto& t) {
            return t.auth_type == "digest" && t.inbound_username == credentials->username &&
                   t.inbound_password_sealed.has_value();
        });
        if (trunk == trunks.end() || credentials->realm != config_.realm) {
            count_failure(invite.source_ip);
            return reject(403, "auth_failed");
        }
        auto password = secrets_.unseal(*trunk->inbound_password_sealed);
        if (!password) {
            spdlog::error("inbound trunk {}: cannot unseal its password: {}", trunk->id,
                          password.error().message);
            return reject(500, "secret_unavailable");
        }
        const auto expected = compute_digest_response(*credentials, *password, invite.method);
        if (!digest_responses_equal(expected, credentials->response)) {
            count_failure(invite.source_ip);
            auto rejected = reject(403, "auth_failed");
            rejected.trunk = *trunk;  // the trunk's username, a wrong password: its refused call
            return rejected;
        }
        if (verdict == NonceIssuer::Verdict::kStale) return challenge(invite, true, now);
        // Right credentials seen before: a captured header replayed, or a client that reused its
        // count. Not a wrong password, so not counted as a failure: a fresh nonce with
        // stale=true lets an honest client answer at once (RFC 7616 §3.3).
        const bool qop = !credentials->qop.empty();
        if (replays_.admit(credentials->nonce, qop ? credentials->cnonce : "",
                           qop ? credentials->nonce_count : 0,
                           now) == DigestReplayCache::Verdict::kReplay) {
            digest_replays_.inc();
            auto rejected = challenge(invite, true, now);
            rejected.reason = "digest_replay";
            return rejected;
        }
        return *trunk;
    }
    // Credentials for another realm/nonce (or unparseable): challenge afresh.
    return challenge(invite, false, now);
}

RouteDecision InboundRouter::route(const InviteRequest& invite) {
    auto trunks = store_.list_inbound_trunks();
    if (!trunks) return reject(503, "store_unavailable", {{"Retry-After", "5"}});
    auto identified = identify(invite, *trunks);
    if (auto* rejected = std::get_if<RejectedCall>(&identified)) return std::move(*rejected);
    const auto& trunk = std::get<store::SipTrunk>(identified);
    auto decision = route_for_trunk(invite, trunk);
    if (auto* rejected = std::get_if<RejectedCall>(&decision)) rejected->trunk = trunk;
    return decision;
}

std::optional<store::SipTrunk> InboundRouter::trunk_by_address(const std::string& source_ip) {
    auto trunks = store_.list_inbound_trunks();
    if (!trunks) return std::nullopt;
    for (auto& trunk : *trunks) {
        if (trunk.auth_type == "ip" && source_allowed(trunk, source_ip)) return std::move(trunk);
    }
    return std::nullopt;
}

RouteDecision InboundRouter::route_for_trunk(const InviteRequest& invite, store::SipTrunk trunk) {
    AcceptedCall accepted;
    accepted.caller = invite.from_user;

    // Dynamic routing by header (OpenCX "agent header"): an assistant of the trunk's organization.
    if (const auto wanted = invite.header(config_.assistant_header)) {
        if (!is_uuid(*wanted)) return reject(404, "unknown_assistant");
        auto assistant = store_.get_assistant(trunk.org_id, *wanted);
        if (!assistant) return reject(404, "unknown_assistant");
        if (!assistant->is_active) return reject(480, "assistant_inactive");
        accepted.assistant = std::move(*assistant);
        accepted.trunk = std::move(trunk);
        if (auto e164 = normalise_dialled_number(invite.request_user)) accepted.dialled = *e164;
        return accepted;
    }

    const auto dialled = dialled_number(invite, trunk);
    if (!dialled) return reject(404, "no_dialled_number");
    if (!trunk.numbers.empty() && !lists_number(trunk, *dialled)) {
        return reject(404, "number_not_on_trunk");
    }
    auto number = store_.find_number_by_e164(*dialled);
    if (!number || number->org_id != trunk.org_id) return reject(404, "unknown_number");
    if (!number->is_active) return reject(480, "number_inactive");
    auto assistant = number->assistant_id
                         ? store_.get_assistant(trunk.org_id, *number->assistant_id)
                         : Result<store::Assistant>(make_error(Errc::kNotFound, "none"));
    if (!assistant || !assistant->is_active) {
        // No assistant to answer with: the organization's webhook may name one while it rings.
        auto org = store_.get_organization(trunk.org_id);
        if (!org || !org->webhook_url) {
            return reject(480, assistant ? "assistant_inactive" : "no_assistant");
        }
        accepted.needs_assistant = true;
    } else {
        accepted.assistant = std::move(*assistant);
    }
    accepted.number = std::move(*number);
    accepted.trunk = std::move(trunk);
    accepted.dialled = *dialled;
    return accepted;
}

}  // namespace tl::sip
