#include "voice/conversation/fallback.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace tl::voice {
namespace {

namespace json = boost::json;

json::object assistant(std::string_view fallback, bool with_transfer = true) {
    auto doc = json::parse(R"({"llm_config": {"tools": [
        {"type": "end_call"},
        {"type": "transfer_call", "destinations": [
            {"type": "number", "number": "+31201234567", "description": "billing"},
            {"type": "sip", "sip_uri": "sip:desk@pbx.example", "description": "Front desk",
             "message": "Connecting you."}]}]}})")
                   .as_object();
    if (!with_transfer) doc["llm_config"].as_object()["tools"].as_array().resize(1);
    if (!fallback.empty()) doc["fallback"] = json::parse(fallback);
    return doc;
}

TEST(Fallback, DefaultsToTheFirstTransferDestinationElseAGoodbye) {
    auto f = resolve_fallback(assistant(""));
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->action, Fallback::Action::kTransfer);
    EXPECT_EQ(f->destination->at("number"), "+31201234567");

    f = resolve_fallback(assistant("", false));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->action, Fallback::Action::kEndCall);
    EXPECT_EQ(f->message, kDefaultFallbackMessage);

    f = resolve_fallback(assistant("null"));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->action, Fallback::Action::kTransfer);
}

TEST(Fallback, FindsTheDestinationByIndexDescriptionOrAddress) {
    struct Case {
        const char* fallback;
        const char* sip_uri;  // the configured destination chosen, or ""
        const char* direct;
    };
    const Case cases[] = {
        {R"({"action": "transfer", "destination": 1})", "sip:desk@pbx.example", ""},
        {R"({"action": "transfer", "destination": "front desk"})", "sip:desk@pbx.example", ""},
        {R"({"action": "transfer", "destination": "sip:desk@pbx.example"})", "sip:desk@pbx.example",
         ""},
        {R"({"action": "transfer", "destination": "+31209999999"})", "", "+31209999999"},
        {R"({"action": "transfer", "destination": "sip:other@example.org"})", "",
         "sip:other@example.org"},
        {R"({"action": "transfer"})", "", ""},  // the first: billing
    };
    for (const auto& c : cases) {
        auto f = resolve_fallback(assistant(c.fallback));
        ASSERT_TRUE(f) << c.fallback << ": " << f.error().message;
        EXPECT_EQ(f->action, Fallback::Action::kTransfer) << c.fallback;
        EXPECT_EQ(f->direct, c.direct) << c.fallback;
        if (std::string_view(c.sip_uri).empty() && std::string_view(c.direct).empty()) {
            EXPECT_EQ(f->destination->at("number"), "+31201234567");
        } else if (!std::string_view(c.sip_uri).empty()) {
            ASSERT_TRUE(f->destination) << c.fallback;
            EXPECT_EQ(f->destination->at("sip_uri"), c.sip_uri) << c.fallback;
        }
    }
}

TEST(Fallback, EndCallSaysItsMessage) {
    auto f =
        resolve_fallback(assistant(R"({"action": "end_call", "message": "Call back later."})"));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->action, Fallback::Action::kEndCall);
    EXPECT_EQ(f->message, "Call back later.");
    f = resolve_fallback(assistant(R"({"action": "end_call"})"));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->message, kDefaultFallbackMessage);
}

TEST(Fallback, RefusesABadShapeNamingTheField) {
    struct Case {
        const char* fallback;
        bool with_transfer;
        const char* field;
    };
    const Case cases[] = {
        {R"("transfer")", true, "fallback"},
        {R"({"action": "hold"})", true, "fallback.action"},
        {R"({})", true, "fallback.action"},
        {R"({"action": "end_call", "message": 5})", true, "fallback.message"},
        {R"({"action": "end_call", "destination": 0})", true, "fallback.destination"},
        {R"({"action": "transfer", "message": "hi"})", true, "fallback.message"},
        {R"({"action": "transfer", "destination": 2})", true, "fallback.destination"},
        {R"({"action": "transfer", "destination": -1})", true, "fallback.destination"},
        {R"({"action": "transfer", "destination": "marketing"})", true, "fallback.destination"},
        {R"({"action": "transfer", "destination": true})", true, "fallback.destination"},
        {R"({"action": "transfer"})", false, "fallback.destination"},
        {R"({"action": "transfer", "destination": 0})", false, "fallback.destination"},
        {R"({"action": "end_call", "when": "always"})", true, "fallback.when"},
    };
    for (const auto& c : cases) {
        auto f = resolve_fallback(assistant(c.fallback, c.with_transfer));
        ASSERT_FALSE(f) << c.fallback;
        EXPECT_EQ(f.error().code, Errc::kInvalidRequest) << c.fallback;
        EXPECT_EQ(f.error().field, c.field) << c.fallback << ": " << f.error().message;
    }
}

}  // namespace
}  // namespace tl::voice
