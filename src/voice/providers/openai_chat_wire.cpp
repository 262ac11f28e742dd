#include "voice/providers/openai_chat_wire.hpp"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "voice/providers/provider_errors.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxToolCalls = 64;
constexpr std::size_t kMaxArgumentBytes = std::size_t{1} << 20;

Error malformed(std::string what) {
    return make_error(Errc::kUnavailable, "malformed chat completion reply: " + std::move(what));
}

json::object message_json(const ChatMessage& m) {
    json::object o;
    o["role"] = to_string(m.role);
    switch (m.role) {
        case Role::kAssistant: {
            if (m.tool_calls.empty()) {
                o["content"] = m.content;
                break;
            }
            // OpenAI wants null content, not "", on a turn that only called tools.
            if (m.content.empty()) {
                o["content"] = nullptr;
            } else {
                o["content"] = m.content;
            }
            json::array calls;
            for (const auto& c : m.tool_calls) {
                calls.push_back(json::object{
                    {"id", c.id},
                    {"type", "function"},
                    {"function",
                     json::object{{"name", c.name}, {"arguments", json::serialize(c.arguments)}}}});
            }
            o["tool_calls"] = std::move(calls);
            break;
        }
        case Role::kTool:
            o["tool_call_id"] = m.tool_call_id;
            o["content"] = m.content;
            break;
        default:
            o["content"] = m.content;
    }
    return o;
}

const json::string* string_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? &v->get_string() : nullptr;
}

// Arguments as sent (a JSON string, normally) parsed into an object; "" is {}.
Result<json::object> parse_arguments(std::string_view text, std::string_view tool) {
    std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return json::object{};
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec || !value.is_object()) {
        return malformed(
            fmt::format("the arguments of tool call '{}' are not a JSON object", tool));
    }
    return std::move(value.get_object());
}

}  // namespace

json::object make_chat_request_body(const ChatRequest& request, const ChatOptions& options) {
    json::object body;
    body["model"] = options.model;
    json::array messages;
    for (const auto& m : request.messages) messages.push_back(message_json(m));
    body["messages"] = std::move(messages);
    if (!request.tools.empty()) {
        json::array tools;
        for (const auto& t : request.tools) {
            json::object fn{{"name", t.name}, {"parameters", t.parameters}};
            if (!t.description.empty()) fn["description"] = t.description;
            tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
        }
        body["tools"] = std::move(tools);
    }
    if (options.temperature) body["temperature"] = *options.temperature;
    if (options.max_tokens) body[options.max_tokens_field] = *options.max_tokens;
    body["stream"] = options.stream;
    return body;
}

Status ToolCallAccumulator::add(const json::value& tool_calls) {
    if (tool_calls.is_null()) return {};
    if (!tool_calls.is_array()) return malformed("delta.tool_calls is not an array");
    for (const auto& entry : tool_calls.get_array()) {
        if (!entry.is_object()) return malformed("a tool call is not an object");
        const auto& o = entry.get_object();
        const json::string* id = string_at(o, "id");
        long long index = -1;
        if (const auto* i = o.if_contains("index"); i && !i->is_null()) {
            if (!i->is_int64() || i->get_int64() < 0) {
                return malformed("a tool call index is not a non-negative integer");
            }
            index = i->get_int64();
        } else if (id != nullptr && !id->empty()) {
            // No index (older Mistral, some proxies): the same id continues a call.
            for (const auto& [k, p] : calls_) {
                if (p.id == *id) index = k;
            }
            if (index < 0) index = calls_.empty() ? 0 : calls_.rbegin()->first + 1;
        } else {
            // Neither: a continuation of the last call, or the first call.
            index = last_index_ < 0 ? 0 : last_index_;
        }
        if (!calls_.contains(index) && calls_.size() >= kMaxToolCalls) {
            return malformed(fmt::format("more than {} tool calls", kMaxToolCalls));
        }
        auto& call = calls_[index];
        last_index_ = index;
        if (id != nullptr && call.id.empty()) call.id = *id;
        const auto* fn_value = o.if_contains("function");
        if (fn_value == nullptr || fn_value->is_null()) continue;
        if (!fn_value->is_object()) return malformed("a tool call's function is not an object");
        const auto& fn = fn_value->get_object();
        if (const auto* name = string_at(fn, "name"); name && call.name.empty()) {
            call.name = *name;
        }
        if (const auto* args = fn.if_contains("arguments"); args && !args->is_null()) {
            std::string piece;
            if (args->is_string()) {
                piece = args->get_string();
            } else if (args->is_object()) {
                piece = json::serialize(*args);  // Ollama-style: the whole object at once
            } else {
                return malformed("a tool call's arguments are neither a string nor an object");
            }
            argument_bytes_ += piece.size();
            if (argument_bytes_ > kMaxArgumentBytes) {
                return malformed("tool call arguments larger than 1 MiB");
            }
            call.arguments += piece;
        }
    }
    return {};
}

Result<std::vector<ToolCall>> ToolCallAccumulator::finish() {
    std::vector<ToolCall> out;
    for (auto& [index, p] : calls_) {
        if (p.name.empty()) return malformed(fmt::format("tool call {} has no name", index));
        auto args = parse_arguments(p.arguments, p.name);
        if (!args) return args.error();
        ToolCall call;
        call.id = p.id.empty() ? fmt::format("call_{}", index) : std::move(p.id);
        call.name = std::move(p.name);
        call.arguments = std::move(*args);
        out.push_back(std::move(call));
    }
    calls_.clear();
    last_index_ = -1;
    argument_bytes_ = 0;
    return out;
}

FinishReason parse_finish_reason(std::string_view reason, bool had_tool_calls) {
    if (had_tool_calls) return FinishReason::kToolCalls;
    if (reason == "stop" || reason.empty()) return FinishReason::kStop;
    if (reason == "tool_calls" || reason == "function_call") return FinishReason::kToolCalls;
    if (reason == "length") return FinishReason::kLength;
    return FinishReason::kOther;
}

Result<ChatStreamUpdate> ChatStreamDecoder::complete(std::optional<std::string> reason) {
    ChatStreamUpdate update;
    auto calls = tools_.finish();
    if (!calls) return calls.error();
    update.tool_calls = std::move(*calls);
    update.finish = parse_finish_reason(reason.value_or(""), !update.tool_calls.empty());
    finished_ = true;
    return update;
}

Result<ChatStreamUpdate> ChatStreamDecoder::on_event(std::string_view data) {
    if (finished_) return ChatStreamUpdate{};  // e.g. a usage chunk after the finish
    if (data == "[DONE]") return complete(finish_reason_);
    boost::system::error_code ec;
    auto value = json::parse(data, ec);
    if (ec) return malformed("an event's data is not JSON (" + ec.message() + ")");
    if (!value.is_object()) return malformed("an event's data is not a JSON object");
    const auto& chunk = value.get_object();
    if (const auto* e = chunk.if_contains("error"); e && !e->is_null()) {
        auto detail = provider_error_message(data);
        return make_error(Errc::kUnavailable, "the provider reported an error mid-stream" +
                                                  (detail.empty() ? std::string() : ": " + detail));
    }
    ChatStreamUpdate update;
    const auto* choices = chunk.if_contains("choices");
    if (choices == nullptr || choices->is_null()) return update;  // e.g. a usage-only chunk
    if (!choices->is_array()) return malformed("choices is not an array");
    for (const auto& choice_value : choices->get_array()) {
        if (!choice_value.is_object()) return malformed("a choice is not an object");
        const auto& choice = choice_value.get_object();
        // We ask for one choice (n = 1); a server that sends more: only the first counts.
        if (const auto* i = choice.if_contains("index");
            i && i->is_int64() && i->get_int64() != 0) {
            continue;
        }
        if (const auto* delta = choice.if_contains("delta"); delta && !delta->is_null()) {
            if (!delta->is_object()) return malformed("delta is not an object");
            const auto& d = delta->get_object();
            if (const auto* content = d.if_contains("content"); content && !content->is_null()) {
                if (!content->is_string()) return malformed("delta.content is not a string");
                update.text += content->get_string();
            }
            if (const auto* calls = d.if_contains("tool_calls")) {
                if (auto st = tools_.add(*calls); !st) return st.error();
            }
        }
        if (const auto* reason = choice.if_contains("finish_reason");
            reason && reason->is_string() && !reason->get_string().empty()) {
            finish_reason_ = std::string(reason->get_string());
        }
    }
    // The chunk with a finish_reason is the reply's last (a usage chunk and [DONE] may follow):
    // the tool calls are complete now, no need to wait for the rest.
    if (finish_reason_) {
        auto done = complete(finish_reason_);
        if (!done) return done.error();
        done->text = std::move(update.text);
        return done;
    }
    return update;
}

Result<ChatStreamUpdate> ChatStreamDecoder::end_of_stream() {
    if (finished_) return ChatStreamUpdate{};
    if (finish_reason_) return complete(finish_reason_);
    return make_error(Errc::kUnavailable,
                      "the chat completion stream ended before the reply was complete");
}

Result<ChatCompletion> parse_chat_completion(std::string_view body) {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec) return malformed("the body is not JSON (" + ec.message() + ")");
    if (!value.is_object()) return malformed("the body is not a JSON object");
    const auto& root = value.get_object();
    const auto* choices = root.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
        !choices->get_array()[0].is_object()) {
        return malformed("no choices");
    }
    const auto& choice = choices->get_array()[0].get_object();
    const auto* message = choice.if_contains("message");
    if (message == nullptr || !message->is_object()) return malformed("choices[0] has no message");
    const auto& m = message->get_object();
    ChatCompletion out;
    if (const auto* content = m.if_contains("content"); content && !content->is_null()) {
        if (!content->is_string()) return malformed("message.content is not a string");
        out.text = content->get_string();
    }
    if (const auto* calls = m.if_contains("tool_calls"); calls && !calls->is_null()) {
        if (!calls->is_array()) return malformed("message.tool_calls is not an array");
        // Complete calls without `index`: give each its position so none merge.
        ToolCallAccumulator acc;
        std::int64_t position = 0;
        for (const auto& c : calls->get_array()) {
            if (!c.is_object()) return malformed("a tool call is not an object");
            json::object entry = c.get_object();
            entry["index"] = position++;
            if (auto st = acc.add(json::array{entry}); !st) return st.error();
        }
        auto done = acc.finish();
        if (!done) return done.error();
        out.tool_calls = std::move(*done);
    }
    std::string reason;
    if (const auto* r = string_at(choice, "finish_reason")) reason = *r;
    out.finish = parse_finish_reason(reason, !out.tool_calls.empty());
    return out;
}

}  // namespace tl::voice
