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
    std::vector<SipHeader> headers;              // extra headers on outbound INVITEs
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
};

struct CallPage {
    std::vector<Call> calls;
    long long total = 0;
};

}  // namespace tl::store
