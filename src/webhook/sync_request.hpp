#pragma once
// Webhooks whose answer a call waits for (api-contract.md §5.4 assistant-request, §5.5
// tool-calls): sent at once over HTTP(S), not through the outbox (an answer that comes after
// the call needed it is worthless, so they are never retried later), signed and labelled
// exactly like outbox deliveries.
//
// Thread-safety: send_sync() runs on the client's executor (see HttpClient); the parsers are
// pure functions.

#include "common/error.hpp"
#include "net/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "webhook/payloads.hpp"

namespace tl::webhook {

struct SyncWebhook {
    std::string url;
    std::string secret;  // "" = unsigned
    std::string event;   // X-Webhook-Event
    std::string body;    // the JSON payload
    std::chrono::milliseconds timeout{5'000};
};

// The receiver's JSON answer to a 2xx. Errors (kUnavailable) say what went wrong: unreachable,
// timeout, a non-2xx status, a body that is not JSON. Never contain the secret.
boost::asio::awaitable<Result<boost::json::value>> send_sync(net::HttpClient& client, SyncWebhook hook);

// What an assistant-request answer asks for (§5.4). Anything else in the answer is ignored.
struct AssistantRequestAnswer {
    std::optional<boost::json::object> assistant;  // full or partial assistant for this call
    std::optional<int> max_duration_seconds;
    std::optional<std::string> error;  // spoken, then the call is rejected
};

// kInvalidRequest when the answer is not an object or a field has the wrong type (the call then
// falls back as on a timeout).
Result<AssistantRequestAnswer> parse_assistant_request_answer(const boost::json::value& answer);

// The assistant-request payload (§5.3, §5.4): the envelope with call.status "ringing".
std::string assistant_request_payload(const store::Call& call,
                                      const store::PhoneNumber* number,
                                      const std::string& timestamp);

// A function tool the model called (§5.5): `arguments` is a JSON object, not a string.
struct ToolCall {
    std::string id;
    std::string name;
    boost::json::object arguments;
};

// The tool-calls payload: the envelope (call.status "in-progress") plus `tool_call_list`.
std::string tool_calls_payload(const EventSource& source, const std::vector<ToolCall>& calls);

// The result of tool call `id` from the receiver's answer, as text for the model: a string as
// is, any other JSON value serialised. Accepted answers (§5.5): {"results": [{tool_call_id,
// result}]}, {"result": ...}, a bare object (the result itself), {"error": "..."} (returned as
// kUnavailable with that message, for the model to hear as a failed tool).
Result<std::string> parse_tool_call_answer(const boost::json::value& answer, const std::string& id);

}  // namespace tl::webhook
