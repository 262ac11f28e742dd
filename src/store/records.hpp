#pragma once
// Domain records as the store keeps them. Secrets appear here only sealed (`*_sealed`, produced by
// SecretBox); the API layer never copies a sealed value into a response.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tl::store {

struct Organization {
    std::string id;
    std::string name;
    std::string created_at;
    // Bumped by the store on every change to the organization's trunks, numbers or assistants;
    // a cheap "has anything changed?" for caches and ETags.
    long long revision = 0;
    // The organization's webhook: used when an assistant has no webhook_url of its own.
    std::optional<std::string> webhook_url;
    std::optional<std::string> webhook_secret_sealed;
    std::optional<std::string> webhook_events_json;  // JSON array of event names; none = all

    // A new organization with no webhook (positional aggregate initialisation would leave the
    // optional members to -Wmissing-field-initializers).
    static Organization named(std::string id, std::string name, std::string created_at) {
        Organization org;
        org.id = std::move(id);
        org.name = std::move(name);
        org.created_at = std::move(created_at);
        return org;
    }
};

struct ApiKey {
    std::string id;
    std::string org_id;
    std::string prefix;  // first characters of the key, shown in listings ("tl_live_Ab3x")
    std::string hash;    // hex SHA-256 of the whole key; the key itself is never stored
    std::string created_at;
    std::optional<std::string> revoked_at;
};

// An API key resolved for authentication: the key row plus its organization.
struct ApiKeyIdentity {
    ApiKey key;
    Organization organization;
};

struct SipHeader {
    std::string name;
    std::string value;
};

struct SipTrunk {
    std::string id;
    std::string org_id;
    std::string name;
    std::string host;
    int port = 5060;
    std::optional<std::string> username;
    std::optional<std::string> password_sealed;
    std::string direction = "outbound";  // outbound | inbound | both
    std::string transport = "udp";       // udp | tcp | tls
    std::string auth_type = "digest";    // digest | ip
    std::optional<std::string> caller_id;
    std::vector<std::string> allowed_addresses;  // CIDRs (inbound IP authentication)
    std::vector<std::string> numbers;            // E.164 DIDs that may arrive on this trunk
    std::string transfer_method = "bridge";      // bridge | refer | auto
    // How a number is named in a REFER through this trunk: "sip" (sip:+E164@host[:port], what
    // softphones and most PBXs accept) or "tel" (tel:+E164, RFC 3966).
    std::string refer_uri = "sip";
    std::vector<SipHeader> headers;              // extra headers on outbound INVITEs
    // Outbound calls (issue 7). Carriers differ in what they check: the From user part (none:
    // the caller ID), the digest username when it is not `username` (none: `username`), and
    // whether they want P-Asserted-Identity with the caller ID.
    std::optional<std::string> from_user;
    std::optional<std::string> auth_username;
    bool send_pai = false;
    // Pacing of outbound calls; none = unlimited.
    std::optional<int> max_concurrent_calls;     // 1-10000
    std::optional<double> max_calls_per_second;  // 0.1-1000
    // Keep-alive: an OPTIONS every this many seconds (5-3600) sets `status`; none = off.
    std::optional<int> options_ping_seconds;
    std::string status = "unknown";  // reachable | unreachable | unknown (no check yet)
    std::optional<std::string> status_checked_at;
    std::optional<std::string> inbound_username;
    std::optional<std::string> inbound_password_sealed;
    // Country calling code ("31") for national numbers this trunk delivers ("0850835037").
    std::optional<std::string> country_code;
    bool is_active = true;
    std::string created_at;
    std::string updated_at;
};

struct PhoneNumber {
    std::string id;
    std::string org_id;
    std::string phone_number;  // E.164, unique across the deployment (routing needs it)
    std::optional<std::string> name;
    std::optional<std::string> assistant_id;
    std::optional<std::string> transfer_trunk_id;
    bool is_active = true;
    std::string created_at;
    std::string updated_at;
};

// The assistant's configuration is a validated JSON document (api-contract.md §3) kept whole in
// `config_json`; only the columns the store must query or constrain are split out.
struct Assistant {
    std::string id;
    std::string org_id;
    std::string name;
    bool is_active = true;
    std::string config_json = "{}";
    std::string created_at;
    std::string updated_at;
};

struct Call {
    std::string id;
    std::string org_id;
    std::string direction = "inbound";   // inbound | outbound | web
    std::string status = "connecting";   // connecting | ringing | in-progress | ended | failed
    std::optional<std::string> caller_phone;
    std::optional<std::string> assistant_phone;
    std::optional<std::string> assistant_id;
    std::optional<std::string> number_id;
    std::optional<std::string> trunk_id;
    std::optional<std::string> end_reason;
    std::optional<std::string> error;
    std::optional<std::string> started_at;
    std::optional<std::string> ended_at;
    std::optional<long long> duration_seconds;
    std::string messages_json = "[]";  // transcript: [{role, content}]
    std::optional<std::string> sip_call_id;
    std::string created_at;
    std::string updated_at;
    // The last transfer: {destination, method, status, sip_code, reason, requested_at,
    // connected_at} as JSON, absent when none was requested.
    std::optional<std::string> transfer_json;
    // The SIP status we answered a refused INVITE with (404, 480, 488, 403, 503), or the final
    // status that ended an outbound call; absent when none applies.
    std::optional<int> sip_status;
    // Why a failed outbound call failed, in one sentence for the operator ("nothing answered
    // at 192.0.2.10:5060 ..."); absent otherwise.
    std::optional<std::string> hint;
};

// A call's SIP capture as stored when the call ends: the JSON document GET /calls/{id}/sip
// answers with ({"messages": [...], "truncated": bool}).
struct CallSipCapture {
    std::string call_id;
    std::string org_id;
    std::string stored_at;
    std::string capture_json;
};

struct CallEvent {
    long long id = 0;
    std::string call_id;
    std::string type;
    std::string data_json = "{}";
    std::string created_at;
};

struct CallFilter {
    std::optional<std::string> status;
    std::optional<std::string> start_date;  // ISO-8601 UTC, inclusive, compared to created_at
    std::optional<std::string> end_date;    // ISO-8601 UTC, inclusive
    int limit = 100;
    int offset = 0;
    std::optional<std::string> trunk_id{};  // only calls through this trunk
};

struct CallPage {
    std::vector<Call> calls;
    long long total = 0;
};

// One webhook event in the durable outbox (docs/webhooks.md). Written in the same transaction as
// the change that caused it; the dispatcher claims, sends and completes or fails it.
// Timestamps are ISO-8601 UTC text like every other store timestamp (they sort as text).
struct WebhookDelivery {
    std::string id;
    std::string org_id;
    std::optional<std::string> call_id;  // deliveries of one call are sent in order, one at a time
    std::string event;                   // status-update | end-of-call-report | ...
    std::string url;
    std::string payload_json;
    std::optional<std::string> secret_sealed;  // SecretBox-sealed HMAC secret; none: unsigned
    std::string status = "pending";            // pending | delivering | delivered | dead
    int attempts = 0;
    std::string next_attempt_at;
    std::optional<int> last_status_code;
    std::optional<std::string> last_error;
    std::string created_at;
    std::string updated_at;
    std::optional<std::string> delivered_at;
    // Set by retry_delivery: the delivery's age (for the give-up limit) counts from here.
    std::optional<std::string> retried_at;
};

// The outcome of a failed attempt: retry at `retry_at`, or dead when it is absent.
struct DeliveryFailure {
    std::optional<int> status_code;  // absent when no HTTP response came (refused, timeout)
    std::string error;
    std::optional<std::string> retry_at;
    std::string at;  // now
};

struct DeliveryFilter {
    std::optional<std::string> status;
    std::optional<std::string> event;
    std::optional<std::string> call_id;
    int limit = 100;
    int offset = 0;
};

// An organization's own key for a voice/LLM/email provider (BYOK, api-contract.md §4.12). One
// row per (org_id, provider). The key itself exists here only sealed; `secret_id` is an opaque,
// non-secret UUID that names the current key in API responses and changes whenever the key is
// replaced. `config_json` holds the provider's non-secret settings (a JSON object).
struct ByokKey {
    std::string org_id;
    std::string provider;
    std::string secret_id;
    std::string key_sealed;  // empty in listings: list_byok_keys never reads it
    std::string config_json = "{}";
    std::string created_at;
    std::string updated_at;
};

struct DeliveryPage {
    std::vector<WebhookDelivery> deliveries;  // newest first
    long long total = 0;
};

}  // namespace tl::store
