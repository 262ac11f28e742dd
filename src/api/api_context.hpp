#pragma once
// What the handlers share: the store, the secret box, the call-control limiter and the values
// that appear in responses. Built once in main; outlives the server.

#include "api/rate_limiter.hpp"
#include "api/revision_cache.hpp"
#include "call/call_control.hpp"
#include "api/router.hpp"
#include "common/metrics.hpp"
#include "recording/recording_files.hpp"
#include "sip/sip_capture_registry.hpp"
#include "sip/stack/sip_stack.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <string>

namespace tl::api {

struct ApiContext {
    store::Store& store;
    const store::SecretBox& secrets;
    RateLimiter& control_limiter;  // 10 commands/min per call (api-contract.md §1.4)
    metrics::Registry& metrics;
    std::string sip_endpoint;  // "sip:host:port" given to inbound trunks' carriers
    std::string version;
    std::string openapi_json;  // the served OpenAPI document
    RevisionCache list_cache{};
    call::CallControl* live_calls = nullptr;  // null when the SIP edge is off (API-only tests)
    // The trunk doctor's SIP stack and capture (POST /sip-trunks/{id}/test); null: SIP is off.
    sip::SipStack* sip_stack = nullptr;
    sip::SipCaptureRegistry* sip_capture = nullptr;
    std::string sip_local_host{};
    // Calls' recordings (GET/DELETE /calls/{id}/recording); null: this server records nothing.
    const recording::RecordingFiles* recordings = nullptr;
};

// Route registration, one function per resource.
void add_system_routes(Router& router, ApiContext& ctx);
void add_trunk_routes(Router& router, ApiContext& ctx);
void add_number_routes(Router& router, ApiContext& ctx);
void add_assistant_routes(Router& router, ApiContext& ctx);
// GET /assistants/{id}/check: a real request to each provider (assistant_check_handlers.cpp).
void add_assistant_check_routes(Router& router, ApiContext& ctx);
void add_call_routes(Router& router, ApiContext& ctx);
// GET /calls/{id}/sip: the call's SIP capture (call_sip_handlers.cpp).
void add_call_sip_routes(Router& router, ApiContext& ctx);
// GET and DELETE /calls/{id}/recording (call_recording_handlers.cpp).
void add_call_recording_routes(Router& router, ApiContext& ctx);
// POST /calls/outbound (outbound_call_handlers.cpp).
void add_outbound_call_routes(Router& router, ApiContext& ctx);
void add_webhook_routes(Router& router, ApiContext& ctx);
void add_byok_routes(Router& router, ApiContext& ctx);
// Only with `serve --enable-test-hooks` (never in production): entry points that the conversation
// runtime will call, reachable by the test suite until that runtime exists. Not in the OpenAPI.
void add_test_hook_routes(Router& router, ApiContext& ctx);

inline void add_all_routes(Router& router, ApiContext& ctx) {
    add_system_routes(router, ctx);
    add_trunk_routes(router, ctx);
    add_number_routes(router, ctx);
    add_assistant_routes(router, ctx);
    add_assistant_check_routes(router, ctx);
    add_call_routes(router, ctx);
    add_call_sip_routes(router, ctx);
    add_call_recording_routes(router, ctx);
    add_outbound_call_routes(router, ctx);
    add_webhook_routes(router, ctx);
    add_byok_routes(router, ctx);
}

// A bounded integer query parameter (`limit`, `offset`): `fallback` when absent, kInvalidRequest
// naming the parameter when malformed or out of range.
Result<int> query_int(const Request& req, const std::string& name, int fallback, int min, int max);

// Shared by handlers: a store failure or a path id that is not a UUID, as a response.
Response store_error(const Error& error);
// kNotFound when `id` is not a UUID, so malformed ids look exactly like unknown ones.
Status check_path_id(const std::string& id, std::string_view what);

}  // namespace tl::api
