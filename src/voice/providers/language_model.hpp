#pragma once
// The language-model provider interface (DESIGN.md "Voice providers"): the conversation and the
// tools in, a streamed reply out (text deltas, complete tool calls, then done or an error).
//
// Threading: reply() never blocks and never calls the handler from inside itself; the handler's
// callbacks run later on a provider thread (an io_context thread), one at a time and in order,
// never concurrently for one reply. A call's strand posts them to itself. Providers are
// thread-safe: several calls may use one provider at once.

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tl::voice {

enum class Role { kSystem, kUser, kAssistant, kTool };

// "system", "user", "assistant", "tool" (the wire names of the OpenAI chat API and of the
// transcript's `messages`).
std::string_view to_string(Role role);

// A complete tool call: the model asked for `name` with these arguments (always a JSON object;
// a provider that receives arguments that are not a JSON object fails the reply instead).
struct ToolCall {
    std::string id;  // the provider's id ("call_abc123"); tool results quote it
    std::string name;
    boost::json::object arguments;
};

struct ChatMessage {
    Role role = Role::kUser;
    std::string content;               // may be empty for an assistant turn that only called tools
    std::vector<ToolCall> tool_calls;  // kAssistant only
    std::string tool_call_id;          // kTool only: the call this is the result of
};

// A function the model may call: `parameters` is a JSON Schema object
// (`{"type":"object","properties":{...},"required":[...]}`).
struct ToolDefinition {
    std::string name;
    std::string description;
    boost::json::object parameters;
};

struct ChatRequest {
    std::vector<ChatMessage> messages;  // in order; the system prompt first
    std::vector<ToolDefinition> tools;
};

// Why the model stopped.
enum class FinishReason {
    kStop,       // a complete answer
    kToolCalls,  // it wants the tool calls it emitted to run
    kLength,     // max tokens reached (the text so far is all there is)
    kOther,      // content filter or a reason this code does not know
};

std::string_view to_string(FinishReason reason);

// The callbacks of one reply. Order: any number of on_text and on_tool_call (tool calls arrive
// complete, after the text that preceded them), then exactly one on_done, unless cancelled.
struct ReplyHandler {
    std::function<void(std::string_view delta)> on_text;
    std::function<void(ToolCall call)> on_tool_call;
    // The error is specific: kUnavailable (network, timeout, provider 5xx, malformed reply),
    // kRateLimited (provider 429), kUnauthorized (key rejected), kInvalidRequest (the provider
    // refused the request: unknown model, bad parameters). Its message never holds the key.
    std::function<void(Result<FinishReason> result)> on_done;
};

// A reply in flight.
class ReplyStream {
public:
    virtual ~ReplyStream() = default;
    // Stops the reply (barge-in): no callback starts after cancel() returns, and on_done is not
    // called. A callback already running on the provider thread finishes, so a caller that
    // posts results to its strand still discards those of a reply it has cancelled. Idempotent,
    // thread-safe; closes the provider connection of a network reply.
    virtual void cancel() = 0;
};

class LanguageModel {
public:
    virtual ~LanguageModel() = default;
    // Starts a reply. The handler (and everything it captures) is kept until on_done has run or
    // the reply is cancelled. Dropping the returned stream does not cancel the reply.
    virtual std::shared_ptr<ReplyStream> reply(ChatRequest request, ReplyHandler handler) = 0;
    virtual std::string name() const = 0;
};

}  // namespace tl::voice
