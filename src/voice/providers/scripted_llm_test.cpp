// The scripted language model: config validation, matching (order, case, whole words and
// phrases), default reply, tool calls, and delivery through the executor.

#include "voice/providers/scripted_llm.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

namespace tl::voice {
namespace {

namespace json = boost::json;

constexpr std::string_view kConfig = R"({
    "provider": "scripted",
    "messages": [{"role": "system", "content": "ignored"}],
    "tools": [
        {"type": "transfer_call", "destinations": [
            {"type": "number", "number": "+31850000001", "description": "Sales team"},
            {"type": "number", "number": "+31850000002", "description": "Technical support"}]},
        {"type": "end_call"},
        {"name": "lookup_order", "description": "Find an order", "url": "https://x.example/t"}
    ],
    "rules": [
        {"when": ["talk to sales", "sell", "Buy"], "reply": "Let me put you through to sales.",
         "tool": {"name": "transfer_call", "destination": "sales"}},
        {"when": ["support", "broken"], "tool": {"name": "transfer_call", "destination": 1}},
        {"when": ["goodbye", "bye"], "reply": "Goodbye!", "tool": {"name": "end_call"}},
        {"when": ["order"], "tool": {"name": "lookup_order", "arguments": {"order": "latest"}}},
        {"when": ["Grüße", "opening hours"], "reply": "We are open nine to five."},
        {"when": ["sales"], "reply": "never reached: the first rule matches sales first"}
    ],
    "default_reply": "Sorry, I can help with sales or support."
})";

ScriptedConfig config() {
    auto c = parse_scripted_config(json::parse(kConfig).as_object());
    EXPECT_TRUE(c) << c.error().message;
    return *c;
}

ScriptedReply answer(const ScriptedConfig& c, const std::string& said) {
    return scripted_reply(c, {{Role::kSystem, "prompt", {}, {}},
                              {Role::kAssistant, "Hello, how can I help?", {}, {}},
                              {Role::kUser, said, {}, {}}});
}

TEST(ScriptedWords, SplitsAndLowers) {
    EXPECT_EQ(scripted_words("I'd like to TALK to Sales, please!"),
              (std::vector<std::string>{"i'd", "like", "to", "talk", "to", "sales", "please"}));
    EXPECT_EQ(scripted_words("'sales' -- GRÜSSE Ærø"),
              (std::vector<std::string>{"sales", "grüsse", "ærø"}));
    EXPECT_TRUE(scripted_words(" ?! ").empty());
}

TEST(ScriptedLlm, RulesInOrderCaseInsensitiveWholeWords) {
    const auto c = config();
    auto sales = answer(c, "Hi, I want to TALK to sales please");
    EXPECT_EQ(sales.text, "Let me put you through to sales.");
    ASSERT_TRUE(sales.tool);
    EXPECT_EQ(sales.tool->name, "transfer_call");
    EXPECT_EQ(sales.tool->arguments, (json::object{{"destination", "+31850000001"}}));
    EXPECT_EQ(sales.rule, &c.rules[0]);

    // "sales" alone is not the phrase "talk to sales", and rule 0 has no single word "sales":
    // the last rule would match it, but "buy" (rule 0) comes first.
    auto buy = answer(c, "sales, I'd like to buy");
    EXPECT_EQ(buy.rule, &c.rules[0]);
    auto sales_only = answer(c, "SALES");
    EXPECT_EQ(sales_only.rule, &c.rules[5]);

    // Whole words: "seller" is not "sell", "byebye" is not "bye".
    auto seller = answer(c, "I am a seller, byebye");
    EXPECT_EQ(seller.rule, nullptr);
    EXPECT_EQ(seller.text, "Sorry, I can help with sales or support.");
    EXPECT_FALSE(seller.tool);

    // Earlier rule wins when two match.
    auto both = answer(c, "my order is broken, goodbye");
    EXPECT_EQ(both.rule, &c.rules[1]);
    EXPECT_EQ(both.text, "");
    ASSERT_TRUE(both.tool);
    EXPECT_EQ(both.tool->arguments, (json::object{{"destination", "+31850000002"}}));

    auto bye = answer(c, "OK. Bye.");
    EXPECT_EQ(bye.text, "Goodbye!");
    ASSERT_TRUE(bye.tool);
    EXPECT_EQ(bye.tool->name, "end_call");
    EXPECT_TRUE(bye.tool->arguments.empty());

    auto order = answer(c, "where is my Order");
    ASSERT_TRUE(order.tool);
    EXPECT_EQ(order.tool->name, "lookup_order");
    EXPECT_EQ(order.tool->arguments, (json::object{{"order", "latest"}}));

    EXPECT_EQ(answer(c, "Viele GRÜSSE").rule, nullptr);  // ß is not ss
    EXPECT_EQ(answer(c, "viele GRÜßE").text, "We are open nine to five.");
    EXPECT_EQ(answer(c, "what are your opening   hours?").text, "We are open nine to five.");
}

TEST(ScriptedLlm, OnlyTheLastUserMessageIsAnswered) {
    const auto c = config();
    // The earlier "sales" does not count; trailing system messages are skipped.
    auto r = scripted_reply(c, {{Role::kUser, "sales", {}, {}},
                                {Role::kAssistant, "Which team?", {}, {}},
                                {Role::kUser, "hmm", {}, {}},
                                {Role::kSystem, "context injected", {}, {}}});
    EXPECT_EQ(r.text, "Sorry, I can help with sales or support.");
    // After a tool result or its own turn, or with no messages: nothing to say.
    auto after_tool =
        scripted_reply(c, {{Role::kUser, "sales", {}, {}}, {Role::kTool, "ok", {}, "scripted_1"}});
    EXPECT_EQ(after_tool.text, "");
    EXPECT_FALSE(after_tool.tool);
    EXPECT_EQ(scripted_reply(c, {}).text, "");

    // No default reply: nothing.
    auto no_default = json::parse(kConfig).as_object();
    no_default.erase("default_reply");
    auto quiet = parse_scripted_config(no_default);
    ASSERT_TRUE(quiet);
    EXPECT_EQ(answer(*quiet, "hmm").text, "");
}

TEST(ScriptedLlm, VocabularyForTheRecogniser) {
    EXPECT_EQ(
        config().vocabulary(),
        (std::vector<std::string>{"talk to sales", "sell", "buy", "support", "broken", "goodbye",
                                  "bye", "order", "grüße", "opening hours", "sales",
                                  // A destination's own words, without a rule
                                  // (destination_keywords.hpp).
                                  "technical support", "technical"}));
}

TEST(ScriptedLlm, ADestinationNamedWithoutARuleIsTransferredTo) {
    const auto c = config();
    const auto named = answer(c, "something technical is wrong");
    ASSERT_TRUE(named.tool);
    EXPECT_EQ(named.tool->name, "transfer_call");
    EXPECT_EQ(named.tool->arguments.at("destination").as_string(), "+31850000002");
    EXPECT_EQ(named.text, "") << "no rule: the transfer's own message is what the caller hears";
    EXPECT_FALSE(answer(c, "nothing named here").tool);
}

TEST(ScriptedLlm, DeliversThroughTheExecutorWithUniqueIds) {
    boost::asio::io_context io;
    auto model = make_scripted_language_model(io.get_executor(), config());
    EXPECT_EQ(model->name(), "scripted");
    std::vector<std::string> events;
    auto handler = [&events] {
        ReplyHandler h;
        h.on_text = [&events](std::string_view t) { events.push_back("text:" + std::string(t)); };
        h.on_tool_call = [&events](ToolCall c) { events.push_back("tool:" + c.name + ":" + c.id); };
        h.on_done = [&events](Result<FinishReason> r) {
            events.push_back("done:" + std::string(to_string(r.value())));
        };
        return h;
    };
    ChatRequest request;
    request.messages.push_back({Role::kUser, "goodbye", {}, {}});
    model->reply(request, handler());
    model->reply(request, handler());
    EXPECT_TRUE(events.empty());  // never inside reply()
    io.run();
    EXPECT_EQ(events, (std::vector<std::string>{"text:Goodbye!", "tool:end_call:scripted_1",
                                                "done:tool_calls", "text:Goodbye!",
                                                "tool:end_call:scripted_2", "done:tool_calls"}));

    events.clear();
    io.restart();
    request.messages[0].content = "what?";
    model->reply(request, handler());
    auto cancelled = model->reply(request, handler());
    cancelled->cancel();
    io.run();
    EXPECT_EQ(events, (std::vector<std::string>{"text:Sorry, I can help with sales or support.",
                                                "done:stop"}));
}

TEST(ScriptedConfig, ErrorsNameTheField) {
    struct Case {
        std::string patch;  // JSON merged into a minimal valid config
        Errc code;
        std::string message;
    };
    const std::vector<Case> cases = {
        {R"({"rules": null})", Errc::kMissingField, "llm_config.rules is required"},
        {R"({"rules": []})", Errc::kInvalidRequest,
         "llm_config.rules must be an array of 1 to 100"},
        {R"({"rules": [5]})", Errc::kInvalidRequest, "llm_config.rules[0] must be an object"},
        {R"({"rules": [{"reply": "x"}]})", Errc::kMissingField,
         "llm_config.rules[0].when is required"},
        {R"({"rules": [{"when": "sales", "reply": "x"}]})", Errc::kInvalidRequest,
         "llm_config.rules[0].when must be an array of 1 to 50"},
        {R"({"rules": [{"when": ["?!"], "reply": "x"}]})", Errc::kInvalidRequest,
         "llm_config.rules[0].when[0] holds no word"},
        {R"({"rules": [{"when": ["a"]}]})", Errc::kInvalidRequest,
         "llm_config.rules[0] needs a reply, a tool or both"},
        {R"({"rules": [{"when": ["a"], "reply": ""}]})", Errc::kInvalidRequest,
         "llm_config.rules[0].reply must hold 1 to 4096 bytes"},
        {R"({"rules": [{"when": ["a"], "reply": "x", "then": 1}]})", Errc::kUnknownField,
         "llm_config.rules[0].then is not a known field"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "transfer"}}]})", Errc::kInvalidRequest,
         "llm_config.rules[0].tool.name 'transfer' is not a tool of this assistant (tools: "
         "transfer_call, end_call)"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "transfer_call"}}]})", Errc::kMissingField,
         "llm_config.rules[0].tool.destination is required"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "transfer_call", "destination": 2}}]})",
         Errc::kInvalidRequest, "must be a destination index from 0 to 1"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "transfer_call", "destination": "team"}}]})",
         Errc::kInvalidRequest, "'team' is in the description of more than one destination"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "transfer_call", "destination": "hr"}}]})",
         Errc::kInvalidRequest, "'hr' names no destination of transfer_call"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "end_call", "destination": 0}}]})",
         Errc::kInvalidRequest, "llm_config.rules[0].tool.destination is for transfer_call"},
        {R"({"rules": [{"when": ["a"], "tool": {"name": "end_call", "args": {}}}]})",
         Errc::kUnknownField, "llm_config.rules[0].tool.args is not a known field"},
        {R"({"default_reply": 3})", Errc::kInvalidRequest,
         "llm_config.default_reply must be a string"},
        {R"({"tools": {}})", Errc::kInvalidRequest, "llm_config.tools must be an array"},
    };
    for (const auto& c : cases) {
        auto cfg = json::parse(R"({"provider": "scripted",
            "tools": [{"type": "transfer_call", "destinations": [
                {"type": "number", "number": "+31850000001", "description": "Sales team"},
                {"type": "number", "number": "+31850000002", "description": "Support team"}]},
                {"type": "end_call"}],
            "rules": [{"when": ["x"], "reply": "y"}]})")
                       .as_object();
        const auto patch = json::parse(c.patch);
        for (const auto& [k, v] : patch.as_object()) cfg[k] = v;
        auto parsed = parse_scripted_config(cfg);
        ASSERT_FALSE(parsed) << c.patch;
        EXPECT_EQ(parsed.error().code, c.code) << c.patch << ": " << parsed.error().message;
        EXPECT_NE(parsed.error().message.find(c.message), std::string::npos)
            << parsed.error().message;
    }
}

}  // namespace
}  // namespace tl::voice
