#pragma once
// The wire format of OpenAI-compatible chat completions (`POST {base_url}/chat/completions`), as
// spoken by OpenAI, Mistral, xAI, Groq, vLLM, Ollama and the llama.cpp server: the request body,
// the decoder of the streamed reply (`chat.completion.chunk` objects carried by server-sent
// events, ending with `data: [DONE]`), and the non-streaming reply (`chat.completion`).
// Pure: no I/O. Replies are untrusted input: nothing here throws.
//
// Thread-safety: the functions are; a decoder or accumulator belongs to one reply.

#include <boost/json/object.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "voice/providers/language_model.hpp"

namespace tl::voice {

struct ChatOptions {
    std::string model;
    std::optional<double> temperature;
    std::optional<int> max_tokens;
    // OpenAI renamed `max_tokens` to `max_completion_tokens` (and rejects `max_tokens` for its
    // reasoning models); Mistral, Groq, vLLM, Ollama and llama.cpp read `max_tokens`.
    std::string max_tokens_field = "max_tokens";
    bool stream = true;
};

// {model, messages, tools?, temperature?, <max_tokens_field>?, stream}. Assistant turns carry
// `tool_calls` with `arguments` as a JSON string, tool results `tool_call_id`.
boost::json::object make_chat_request_body(const ChatRequest& request, const ChatOptions& options);

// Merges the pieces of streamed tool calls: `delta.tool_calls[]` entries keyed by `index`, whose
// `id` and `function.name` come first and whose `function.arguments` arrive as partial strings
// (split anywhere, even inside a JSON string or a UTF-8 sequence). Servers that send a complete
// call in one piece, or `arguments` as an object, or no `index` (then matched by `id`), work too.
class ToolCallAccumulator {
public:
    // One `delta.tool_calls` array. kUnavailable on a malformed entry or past the limits
    // (64 calls, 1 MiB of arguments).
    Status add(const boost::json::value& tool_calls);
    // The complete calls in index order; kUnavailable when one has no name or arguments that
    // are not a JSON object ("" counts as {}). Calls without an id get "call_<index>".
    Result<std::vector<ToolCall>> finish();
    bool empty() const { return calls_.empty(); }

private:
    struct Partial {
        std::string id;
        std::string name;
        std::string arguments;
    };
    std::map<long long, Partial> calls_;
    long long last_index_ = -1;
    std::size_t argument_bytes_ = 0;
};

// What one event of the stream adds to the reply.
struct ChatStreamUpdate {
    std::string text;                    // content delta, possibly empty
    std::vector<ToolCall> tool_calls;    // complete calls (once the reply finished)
    std::optional<FinishReason> finish;  // set once: the reply is complete
};

// Decodes the `data` of each server-sent event of a streamed reply, in order. The reply is
// finished by the chunk that carries a `finish_reason` (its tool calls are then complete; a usage
// chunk and `data: [DONE]` may follow and are ignored), or by `data: [DONE]` alone. Call
// end_of_stream() when the connection ends: a stream cut short is an error.
class ChatStreamDecoder {
public:
    // kUnavailable for malformed JSON, an `error` object sent mid-stream, or bad tool calls.
    Result<ChatStreamUpdate> on_event(std::string_view data);
    // The stream ended: the pending finish, or kUnavailable when the reply was cut short.
    Result<ChatStreamUpdate> end_of_stream();
    bool finished() const { return finished_; }

private:
    Result<ChatStreamUpdate> complete(std::optional<std::string> reason);

    ToolCallAccumulator tools_;
    std::optional<std::string> finish_reason_;
    bool finished_ = false;
};

// The non-streaming reply (a server that answered `application/json` to a streaming request, or
// a request with stream: false): choices[0].message.{content, tool_calls}, finish_reason.
struct ChatCompletion {
    std::string text;
    std::vector<ToolCall> tool_calls;
    FinishReason finish = FinishReason::kStop;
};
Result<ChatCompletion> parse_chat_completion(std::string_view body);

// "stop" -> kStop, "tool_calls"/"function_call" -> kToolCalls, "length" -> kLength, else kOther.
// kToolCalls whenever `had_tool_calls` (Ollama reports "stop" after tool calls).
FinishReason parse_finish_reason(std::string_view reason, bool had_tool_calls);

}  // namespace tl::voice
