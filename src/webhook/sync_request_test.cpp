#include "webhook/sync_request.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace tl::webhook {
namespace {

namespace json = boost::json;

TEST(AssistantRequestAnswer, EmptyObjectMeansDefaults) {
    auto answer = parse_assistant_request_answer(json::parse("{}"));
    ASSERT_TRUE(answer);
    EXPECT_FALSE(answer->assistant);
    EXPECT_FALSE(answer->error);
    EXPECT_FALSE(answer->max_duration_seconds);
}

TEST(AssistantRequestAnswer, ReadsAssistantMaxDurationAndError) {
    auto answer = parse_assistant_request_answer(json::parse(
        R"({"assistant":{"first_message":"Hi","metadata":{"crm":7}},"max_duration_seconds":300,
            "ignored":true})"));
    ASSERT_TRUE(answer);
    ASSERT_TRUE(answer->assistant);
    EXPECT_EQ(answer->assistant->at("first_message").as_string(), "Hi");
    EXPECT_EQ(answer->max_duration_seconds, 300);
    auto refused = parse_assistant_request_answer(json::parse(R"({"error":"We are closed."})"));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->error, "We are closed.");
}

TEST(AssistantRequestAnswer, WrongShapesAreErrorsNamingTheField) {
    EXPECT_FALSE(parse_assistant_request_answer(json::parse("[]")));
    EXPECT_FALSE(parse_assistant_request_answer(json::parse("\"ok\"")));
    const auto field = [](const char* text) {
        auto r = parse_assistant_request_answer(json::parse(text));
        return r ? std::string("accepted") : r.error().field;
    };
    EXPECT_EQ(field(R"({"assistant":"sales"})"), "assistant");
    EXPECT_EQ(field(R"({"error":42})"), "error");
    EXPECT_EQ(field(R"({"error":""})"), "error");
    EXPECT_EQ(field(R"({"max_duration_seconds":"300"})"), "max_duration_seconds");
    EXPECT_EQ(field(R"({"max_duration_seconds":5})"), "max_duration_seconds");
}

TEST(AssistantRequestPayload, IsTheEnvelopeWithRingingStatus) {
    store::Call call;
    call.id = "call-1";
    call.org_id = "org-1";
    call.direction = "inbound";
    call.status = "ringing";
    call.caller_phone = "+31612345678";
    store::PhoneNumber number;
    number.id = "num-1";
    number.phone_number = "+31850835037";
    number.name = "Demo";
    const auto payload = json::parse(
        assistant_request_payload(call, &number, "2025-12-13T12:00:00.000Z"));
    const auto& message = payload.at("message").as_object();
    EXPECT_EQ(message.at("type").as_string(), "assistant-request");
    EXPECT_EQ(message.at("call").at("status").as_string(), "ringing");
    EXPECT_EQ(message.at("call").at("type").as_string(), "inbound_phone_call");
    EXPECT_EQ(message.at("phone_number").at("number").as_string(), "+31850835037");
    EXPECT_EQ(message.at("customer").at("number").as_string(), "+31612345678");
    EXPECT_EQ(message.at("timestamp").as_string(), "2025-12-13T12:00:00.000Z");
}

}  // namespace
}  // namespace tl::webhook

namespace tl::webhook {
namespace {

TEST(ToolCalls, PayloadListsTheCallsWithObjectArguments) {
    store::Call call;
    call.id = "call-1";
    call.direction = "inbound";
    call.status = "in-progress";
    EventSource source{call, nullptr, nullptr, "2025-12-13T12:00:00.000Z"};
    ToolCall c{"tc-1", "lookup_order", json::parse(R"({"order":"A17"})").as_object()};
    const auto payload = json::parse(tool_calls_payload(source, {c}));
    const auto& message = payload.at("message").as_object();
    EXPECT_EQ(message.at("type").as_string(), "tool-calls");
    const auto& first = message.at("tool_call_list").as_array().at(0).as_object();
    EXPECT_EQ(first.at("id").as_string(), "tc-1");
    EXPECT_EQ(first.at("type").as_string(), "function");
    EXPECT_EQ(first.at("function").at("name").as_string(), "lookup_order");
    EXPECT_TRUE(first.at("function").at("arguments").is_object());
}

TEST(ToolCalls, EveryDocumentedAnswerShapeGivesTheResult) {
    const auto result = [](const char* text) {
        auto r = parse_tool_call_answer(json::parse(text), "tc-1");
        return r ? *r : "error: " + r.error().message;
    };
    EXPECT_EQ(result(R"({"results":[{"tool_call_id":"tc-0","result":"no"},
                                    {"tool_call_id":"tc-1","result":"shipped"}]})"),
              "shipped");
    EXPECT_EQ(result(R"({"result":{"status":"shipped"}})"), R"({"status":"shipped"})");
    EXPECT_EQ(result(R"({"status":"shipped"})"), R"({"status":"shipped"})");
    EXPECT_EQ(result(R"({"error":"Contact not found"})"), "error: Contact not found");
    EXPECT_EQ(result(R"({"results":[{"tool_call_id":"tc-9","result":"x"}]})"),
              "error: the answer has no result for tool call tc-1");
    EXPECT_EQ(result(R"("plain text")"), "plain text");
}

}  // namespace
}  // namespace tl::webhook
