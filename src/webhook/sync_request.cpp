#include "webhook/sync_request.hpp"

#include "webhook/payloads.hpp"
#include "webhook/signing.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tl::webhook {

namespace json = boost::json;

boost::asio::awaitable<Result<json::value>> send_sync(net::HttpClient& client, SyncWebhook hook) {
    const std::string timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    net::HttpRequest request;
    request.url = hook.url;
    request.timeout = hook.timeout;
    request.headers = webhook_headers(hook.event, timestamp, hook.secret, hook.body);
    request.body = std::move(hook.body);
    auto result = co_await client.post(std::move(request));
    if (!result) {
        co_return make_error(Errc::kUnavailable,
                             fmt::format("{} webhook failed: {}", hook.event,
                                         result.error().message));
    }
    if (result->status < 200 || result->status >= 300) {
        co_return make_error(Errc::kUnavailable, fmt::format("{} webhook answered HTTP {}",
                                                             hook.event, result->status));
    }
    boost::system::error_code ec;
    auto answer = json::parse(result->body, ec);
    if (ec) {
        co_return make_error(Errc::kUnavailable,
                             fmt::format("{} webhook answered with a body that is not JSON",
                                         hook.event));
    }
    co_return answer;
}

Result<AssistantRequestAnswer> parse_assistant_request_answer(const json::value& answer) {
    if (!answer.is_object()) {
        return make_error(Errc::kInvalidRequest, "the answer is not a JSON object");
    }
    const auto& o = answer.as_object();
    AssistantRequestAnswer out;
    if (const auto* e = o.if_contains("error"); e && !e->is_null()) {
        if (!e->is_string() || e->as_string().empty()) {
            return make_error(Errc::kInvalidRequest, "'error' must be a non-empty string", "error");
        }
        out.error = std::string(e->as_string());
    }
    if (const auto* a = o.if_contains("assistant"); a && !a->is_null()) {
        if (!a->is_object()) {
            return make_error(Errc::kInvalidRequest, "'assistant' must be an object", "assistant");
        }
        out.assistant = a->as_object();
    }
    if (const auto* m = o.if_contains("max_duration_seconds"); m && !m->is_null()) {
        if (!m->is_int64() || m->as_int64() < 10 || m->as_int64() > 86'400) {
            return make_error(Errc::kInvalidRequest,
                              "'max_duration_seconds' must be an integer from 10 to 86400",
                              "max_duration_seconds");
        }
        out.max_duration_seconds = static_cast<int>(m->as_int64());
    }
    return out;
}

std::string assistant_request_payload(const store::Call& call,
                                      const store::PhoneNumber* number,
                                      const std::string& timestamp) {
    EventSource source{call, number, nullptr, timestamp};
    return json::serialize(json::object{
        {"message", message_object(kAssistantRequest, "ringing", source)}});
}

std::string tool_calls_payload(const EventSource& source, const std::vector<ToolCall>& calls) {
    auto message = message_object(kToolCalls, "in-progress", source);
    json::array list;
    for (const auto& c : calls) {
        list.push_back(json::object{
            {"id", c.id},
            {"type", "function"},
            {"function", json::object{{"name", c.name}, {"arguments", c.arguments}}}});
    }
    message["tool_call_list"] = std::move(list);
    return json::serialize(json::object{{"message", std::move(message)}});
}

namespace {
std::string as_text(const json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}
}  // namespace

Result<std::string> parse_tool_call_answer(const json::value& answer, const std::string& id) {
    if (!answer.is_object()) return as_text(answer);  // a bare value is the result
    const auto& o = answer.as_object();
    if (const auto* e = o.if_contains("error"); e && !e->is_null()) {
        return make_error(Errc::kUnavailable, as_text(*e));
    }
    if (const auto* results = o.if_contains("results"); results && results->is_array()) {
        for (const auto& r : results->as_array()) {
            if (!r.is_object()) continue;
            const auto* rid = r.as_object().if_contains("tool_call_id");
            if (rid == nullptr || !rid->is_string() || rid->as_string() != id) continue;
            if (const auto* e = r.as_object().if_contains("error"); e && !e->is_null()) {
                return make_error(Errc::kUnavailable, as_text(*e));
            }
            const auto* result = r.as_object().if_contains("result");
            return result ? as_text(*result) : std::string("null");
        }
        return make_error(Errc::kUnavailable, "the answer has no result for tool call " + id);
    }
    if (const auto* result = o.if_contains("result")) return as_text(*result);
    return as_text(answer);
}

}  // namespace tl::webhook
