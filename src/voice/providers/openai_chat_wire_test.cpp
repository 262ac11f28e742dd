// The chat completions wire format: request bodies, streamed replies (text and tool-call pieces
// as OpenAI, Mistral and Ollama send them) and the non-streaming reply.

#include "voice/providers/openai_chat_wire.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

namespace tl::voice {
namespace {

namespace json = boost::json;

TEST(ChatRequestBody, CarriesTheConversationAndTools) {
    ChatRequest request;
    request.messages.push_back({Role::kSystem, "You are a receptionist.", {}, {}});
    request.messages.push_back({Role::kUser, "Sales please", {}, {}});
    ToolCall call{"call_1", "transfer_call", json::object{{"destination", "+31850000001"}}};
    request.messages.push_back({Role::kAssistant, "", {call}, {}});
    request.messages.push_back({Role::kTool, "transferred", {}, "call_1"});
    request.messages.push_back({Role::kAssistant, "Done.", {}, {}});
    request.tools.push_back({"end_call", "End the call.",
                             json::object{{"type", "object"}, {"properties", json::object{}}}});
    ChatOptions options;
    options.model = "gpt-4o-mini";
    options.temperature = 0.5;
    options.max_tokens = 200;
    options.max_tokens_field = "max_completion_tokens";

    const auto body = make_chat_request_body(request, options);
    const auto expected = json::parse(R"({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a receptionist."},
            {"role": "user", "content": "Sales please"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
             "function": {"name": "transfer_call", "arguments": "{\"destination\":\"+31850000001\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "transferred"},
            {"role": "assistant", "content": "Done."}
        ],
        "tools": [{"type": "function", "function": {"name": "end_call",
                   "parameters": {"type": "object", "properties": {}}, "description": "End the call."}}],
        "temperature": 0.5,
        "max_completion_tokens": 200,
        "stream": true
    })");
    EXPECT_EQ(json::value(body), expected) << json::serialize(body);
}

TEST(ChatRequestBody, OmitsWhatIsNotSet) {
    ChatRequest request;
    request.messages.push_back({Role::kUser, "hi", {}, {}});
    ChatOptions options;
    options.model = "llama3";
    options.stream = false;
    const auto body = make_chat_request_body(request, options);
    EXPECT_FALSE(body.contains("tools"));
    EXPECT_FALSE(body.contains("temperature"));
    EXPECT_FALSE(body.contains("max_tokens"));
    EXPECT_EQ(body.at("stream"), false);
}

// Feeds the events and gathers what the reply would deliver.
struct Gathered {
    std::string text;
    std::vector<ToolCall> calls;
    std::optional<FinishReason> finish;
    std::optional<Error> error;
};

Gathered decode(const std::vector<std::string>& events, bool end = true) {
    ChatStreamDecoder decoder;
    Gathered g;
    auto take = [&](Result<ChatStreamUpdate> u) {
        if (!u) {
            g.error = u.error();
            return false;
        }
        g.text += u->text;
        for (auto& c : u->tool_calls) g.calls.push_back(std::move(c));
        if (u->finish) {
            EXPECT_FALSE(g.finish) << "finished twice";
            g.finish = u->finish;
        }
        return true;
    };
    for (const auto& e : events) {
        if (!take(decoder.on_event(e))) return g;
    }
    if (end) take(decoder.end_of_stream());
    return g;
}

std::string delta(const std::string& d, const std::string& finish = "null") {
    return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":)" +
           d + R"(,"finish_reason":)" + finish + "}]}";
}

TEST(ChatStreamDecoder, TextDeltasThenStop) {
    auto g = decode({delta(R"({"role":"assistant","content":""})"), delta(R"({"content":"Hello"})"),
                     delta(R"({"content":", how can I help?"})"), delta("{}", R"("stop")"),
                     R"({"id":"chatcmpl-1","choices":[],"usage":{"total_tokens":9}})", "[DONE]"});
    ASSERT_FALSE(g.error) << g.error->message;
    EXPECT_EQ(g.text, "Hello, how can I help?");
    EXPECT_TRUE(g.calls.empty());
    EXPECT_EQ(g.finish, FinishReason::kStop);
}

// A delta carrying one piece of the arguments of call `index` (the piece JSON-encoded as the
// server would).
std::string args_piece(int index,
                       const std::string& piece,
                       const std::string& id = "",
                       const std::string& name = "") {
    json::object fn{{"arguments", piece}};
    if (!name.empty()) fn["name"] = name;
    json::object call{{"index", index}, {"function", std::move(fn)}};
    if (!id.empty()) {
        call["id"] = id;
        call["type"] = "function";
    }
    return delta(json::serialize(json::object{{"tool_calls", json::array{std::move(call)}}}));
}

TEST(ChatStreamDecoder, ToolCallArgumentsInPiecesSplitMidStringAndMidEscape) {
    // OpenAI: id and name first, then the arguments in arbitrary pieces keyed by index; here two
    // parallel calls whose pieces interleave, one cut inside a key, one between the backslash
    // and the quote of an escape, and a multi-byte character right at a cut.
    auto g = decode({
        delta(
            R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"transfer_call","arguments":""}}]})"),
        args_piece(0, "{\"dest"),
        args_piece(1, "{\"city\":\"Z\xC3\xBC", "call_B", "lookup"),
        args_piece(0, "ination\": \"+3185"),
        args_piece(1, "rich\", \"note\": \"say \\"),
        args_piece(0, "0000001\"}"),
        args_piece(1, "\"hi\\\"\"}"),
        delta("{}", R"("tool_calls")"),
        "[DONE]",
    });
    ASSERT_FALSE(g.error) << g.error->message;
    EXPECT_EQ(g.text, "");
    ASSERT_EQ(g.calls.size(), 2u);
    EXPECT_EQ(g.calls[0].id, "call_A");
    EXPECT_EQ(g.calls[0].name, "transfer_call");
    EXPECT_EQ(g.calls[0].arguments, (json::object{{"destination", "+31850000001"}}));
    EXPECT_EQ(g.calls[1].id, "call_B");
    EXPECT_EQ(g.calls[1].name, "lookup");
    EXPECT_EQ(g.calls[1].arguments,
              (json::object{{"city", "Z\xC3\xBCrich"}, {"note", "say \"hi\""}}));
    EXPECT_EQ(g.finish, FinishReason::kToolCalls);
}

TEST(ChatStreamDecoder, TextBeforeToolCallsIsKept) {
    auto g = decode({
        delta(R"({"content":"One moment."})"),
        delta(
            R"({"tool_calls":[{"index":0,"id":"call_1","function":{"name":"end_call","arguments":""}}]})"),
        delta("{}", R"("tool_calls")"),
    });
    ASSERT_FALSE(g.error) << g.error->message;
    EXPECT_EQ(g.text, "One moment.");
    ASSERT_EQ(g.calls.size(), 1u);
    EXPECT_TRUE(g.calls[0].arguments.empty());      // "" arguments are {}
    EXPECT_EQ(g.finish, FinishReason::kToolCalls);  // and no [DONE] needed after the finish
}

TEST(ChatStreamDecoder, CompleteCallsWithoutIndexOrWithObjectArguments) {
    // Mistral (older): whole calls, no index, finish "tool_calls". Ollama: arguments as an
    // object, finish "stop" though it called a tool.
    auto mistral = decode({delta(
        R"({"content":"","tool_calls":[{"id":"a1","function":{"name":"end_call","arguments":"{}"}},{"id":"a2","function":{"name":"lookup","arguments":"{\"q\":1}"}}]})",
        R"("tool_calls")")});
    ASSERT_FALSE(mistral.error) << mistral.error->message;
    ASSERT_EQ(mistral.calls.size(), 2u);
    EXPECT_EQ(mistral.calls[0].id, "a1");
    EXPECT_EQ(mistral.calls[1].arguments, (json::object{{"q", 1}}));

    auto ollama = decode(
        {delta(
             R"({"tool_calls":[{"id":"call_x","index":0,"type":"function","function":{"name":"lookup","arguments":{"q":"x"}}}]})",
             R"("stop")"),
         "[DONE]"});
    ASSERT_FALSE(ollama.error) << ollama.error->message;
    ASSERT_EQ(ollama.calls.size(), 1u);
    EXPECT_EQ(ollama.calls[0].arguments, (json::object{{"q", "x"}}));
    EXPECT_EQ(ollama.finish, FinishReason::kToolCalls);
}

TEST(ChatStreamDecoder, DoneWithoutFinishReasonAndOtherReasons) {
    auto done_only = decode({delta(R"({"content":"hi"})"), "[DONE]"});
    ASSERT_FALSE(done_only.error);
    EXPECT_EQ(done_only.finish, FinishReason::kStop);

    auto length = decode({delta(R"({"content":"hi"})", R"("length")")});
    EXPECT_EQ(length.finish, FinishReason::kLength);
    auto filtered = decode({delta(R"({"content":"hi"})", R"("content_filter")")});
    EXPECT_EQ(filtered.finish, FinishReason::kOther);

    auto missing_id =
        decode({delta(R"({"tool_calls":[{"index":3,"function":{"name":"end_call"}}]})"), "[DONE]"});
    ASSERT_FALSE(missing_id.error);
    ASSERT_EQ(missing_id.calls.size(), 1u);
    EXPECT_EQ(missing_id.calls[0].id, "call_3");
}

TEST(ChatStreamDecoder, ClearErrors) {
    struct Case {
        std::vector<std::string> events;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{delta(R"({"content":"hi"})")}, "ended before the reply was complete"},
        {{R"({"choices":[{"delta":{"content":"hi"})"}, "not JSON"},
        {{"[1,2]"}, "not a JSON object"},
        {{R"({"error":{"message":"The server had an error","type":"server_error"}})"},
         "mid-stream: The server had an error"},
        {{delta(
             R"({"tool_calls":[{"index":0,"id":"c","function":{"name":"x","arguments":"{\"a\":"}}]})",
             R"("tool_calls")")},
         "the arguments of tool call 'x' are not a JSON object"},
        {{delta(R"({"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{}"}}]})"),
          "[DONE]"},
         "tool call 0 has no name"},
        {{delta(R"({"content":5})")}, "delta.content is not a string"},
        {{delta(R"({"tool_calls":[{"index":-1}]})")}, "index is not a non-negative integer"},
    };
    for (const auto& c : cases) {
        auto g = decode(c.events);
        ASSERT_TRUE(g.error) << c.message;
        EXPECT_EQ(g.error->code, Errc::kUnavailable);
        EXPECT_NE(g.error->message.find(c.message), std::string::npos) << g.error->message;
    }
}

TEST(ChatStreamDecoder, ToolCallLimits) {
    std::vector<std::string> events;
    for (int i = 0; i < 65; ++i) {
        events.push_back(delta(R"({"tool_calls":[{"index":)" + std::to_string(i) +
                               R"(,"id":"c","function":{"name":"x","arguments":"{}"}}]})"));
    }
    auto g = decode(events);
    ASSERT_TRUE(g.error);
    EXPECT_NE(g.error->message.find("more than 64 tool calls"), std::string::npos);

    ChatStreamDecoder decoder;
    const std::string piece(100'000, 'a');
    Result<ChatStreamUpdate> last = ChatStreamUpdate{};
    for (int i = 0; i < 12 && last; ++i) {
        last = decoder.on_event(
            delta(R"({"tool_calls":[{"index":0,"function":{"arguments":")" + piece + R"("}}]})"));
    }
    ASSERT_FALSE(last);
    EXPECT_NE(last.error().message.find("larger than 1 MiB"), std::string::npos);
}

TEST(ParseChatCompletion, TextAndToolCalls) {
    auto text = parse_chat_completion(
        R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]})");
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(text->text, "Hello!");
    EXPECT_EQ(text->finish, FinishReason::kStop);

    auto tools = parse_chat_completion(
        R"({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"end_call","arguments":"{}"}},
            {"id":"call_2","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"a\"}"}}]},
            "finish_reason":"tool_calls"}]})");
    ASSERT_TRUE(tools) << tools.error().message;
    EXPECT_EQ(tools->text, "");
    ASSERT_EQ(tools->tool_calls.size(), 2u);
    EXPECT_EQ(tools->tool_calls[0].name, "end_call");
    EXPECT_EQ(tools->tool_calls[1].id, "call_2");
    EXPECT_EQ(tools->tool_calls[1].arguments, (json::object{{"q", "a"}}));
    EXPECT_EQ(tools->finish, FinishReason::kToolCalls);

    for (const auto* bad : {"", "{", "[]", R"({"choices":[]})", R"({"choices":[{"message":5}]})",
                            R"({"choices":[{"message":{"content":[1]}}]})"}) {
        auto r = parse_chat_completion(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::kUnavailable);
        EXPECT_NE(r.error().message.find("malformed chat completion reply"), std::string::npos);
    }
}

}  // namespace
}  // namespace tl::voice
