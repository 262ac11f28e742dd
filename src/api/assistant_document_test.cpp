#include "api/assistant_document.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace tl::api {
namespace {

namespace json = boost::json;

store::SecretBox test_box() {
    return store::SecretBox::from_keys({store::SecretBox::parse_key(std::string(64, '1')).value()})
        .value();
}

TEST(AssistantDocument, SealsSecretsAndRedactsThemInTheView) {
    const auto box = test_box();
    const auto body = json::parse(R"({
        "name": "Support", "webhook_secret": "whsec_plain",
        "llm_config": {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "sip", "sip_uri": "sip:desk@pbx.example.com", "username": "u",
             "password": "dest-plain", "description": "Desk"}]}]}})").as_object();
    auto doc = merge_assistant_document(body, {}, true, box);
    ASSERT_TRUE(doc) << doc.error().message;
    const auto stored = json::serialize(*doc);
    EXPECT_EQ(stored.find("whsec_plain"), std::string::npos);
    EXPECT_EQ(stored.find("dest-plain"), std::string::npos);
    const auto view = json::serialize(assistant_view(*doc));
    EXPECT_EQ(view.find("_sealed"), std::string::npos);
    EXPECT_NE(view.find("\"has_webhook_secret\":true"), std::string::npos);
    EXPECT_NE(view.find("\"has_password\":true"), std::string::npos);

    // A PATCH of llm_config that does not resend the password keeps it.
    const auto patch = json::parse(R"({"llm_config": {"tools": [{"type": "transfer_call",
        "destinations": [{"type": "sip", "sip_uri": "sip:desk@pbx.example.com", "username": "u",
        "has_password": true, "description": "Front desk"}]}]}})").as_object();
    auto patched = merge_assistant_document(patch, *doc, false, box);
    ASSERT_TRUE(patched) << patched.error().message;
    EXPECT_NE(json::serialize(*patched).find("password_sealed"), std::string::npos);

    // Another username is another account at the same URI: its password is not carried over.
    const auto other_user = json::parse(R"({"llm_config": {"tools": [{"type": "transfer_call",
        "destinations": [{"type": "sip", "sip_uri": "sip:desk@pbx.example.com", "username": "v",
        "description": "Front desk"}]}]}})").as_object();
    auto moved = merge_assistant_document(other_user, *doc, false, box);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_EQ(json::serialize(*moved).find("password_sealed"), std::string::npos);
}

TEST(AssistantDocument, RejectsWithTheFieldPath) {
    const auto box = test_box();
    struct Case {
        const char* body;
        Errc code;
        const char* field;
    };
    const Case cases[] = {
        {R"({})", Errc::kMissingField, "name"},
        {R"({"name": ""})", Errc::kInvalidRequest, "name"},
        {R"({"name": "a", "colour": "red"})", Errc::kUnknownField, "colour"},
        {R"({"name": "a", "llm_config": {"temperature": 3}})", Errc::kInvalidRequest,
         "llm_config.temperature"},
        {R"({"name": "a", "llm_config": {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "number", "number": "0612345678", "description": "x"}]}]}})",
         Errc::kInvalidPhoneNumber, "llm_config.tools[0].destinations[0].number"},
        {R"({"name": "a", "llm_config": {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "number", "number": "+31612345678", "description": "x", "foo": 1}]}]}})",
         Errc::kUnknownField, "llm_config.tools[0].destinations[0].foo"},
        {R"({"name": "a", "llm_config": {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "sip", "sip_uri": "pbx.example.com", "description": "x"}]}]}})",
         Errc::kInvalidRequest, "llm_config.tools[0].destinations[0].sip_uri"},
        {R"({"name": "a", "webhook_events": ["call-started"]})", Errc::kInvalidRequest,
         "webhook_events[0]"},
        {R"({"name": "a", "speech_config": {"turn_taking": {"endpointing_min_delay": 2,
            "endpointing_max_delay": 1}}})",
         Errc::kInvalidRequest, "speech_config.turn_taking.endpointing_max_delay"},
        {R"({"name": "a", "id": "x"})", Errc::kInvalidRequest, "id"},
    };
    for (const auto& c : cases) {
        auto r = merge_assistant_document(json::parse(c.body).as_object(), {}, true, box);
        ASSERT_FALSE(r) << c.body;
        EXPECT_EQ(r.error().code, c.code) << c.body << ": " << r.error().message;
        EXPECT_EQ(r.error().field, c.field) << c.body;
    }
}

TEST(AssistantDocument, FallbackIsCheckedAgainstTheMergedTools) {
    const auto box = test_box();
    const auto body = json::parse(R"({"name": "Support",
        "fallback": {"action": "transfer", "destination": "front desk"},
        "llm_config": {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "sip", "sip_uri": "sip:desk@pbx.example.com",
             "description": "Front desk"}]}]}})")
                          .as_object();
    auto doc = merge_assistant_document(body, {}, true, box);
    ASSERT_TRUE(doc) << doc.error().message;
    EXPECT_EQ(assistant_view(*doc).at("fallback").at("destination"), "front desk");
    EXPECT_EQ(assistant_view(json::object{{"name", "x"}}).at("fallback"), nullptr);

    // Removing the destination the fallback names is refused, naming the fallback.
    const auto patch = json::parse(R"({"llm_config": {"tools": []}})").as_object();
    auto removed = merge_assistant_document(patch, *doc, false, box);
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().field, "fallback.destination");

    struct Case {
        const char* body;
        const char* field;
    };
    const Case cases[] = {
        {R"({"name": "a", "fallback": []})", "fallback"},
        {R"({"name": "a", "fallback": {"action": "wait"}})", "fallback.action"},
        {R"({"name": "a", "fallback": {"action": "transfer"}})", "fallback.destination"},
        {R"({"name": "a", "fallback": {"action": "transfer", "destination": 0}})",
         "fallback.destination"},
        {R"({"name": "a", "fallback": {"action": "end_call", "message": 1}})", "fallback.message"},
    };
    for (const auto& c : cases) {
        auto r = merge_assistant_document(json::parse(c.body).as_object(), {}, true, box);
        ASSERT_FALSE(r) << c.body;
        EXPECT_EQ(r.error().code, Errc::kInvalidRequest) << c.body;
        EXPECT_EQ(r.error().field, c.field) << c.body;
    }
    for (const char* ok : {R"({"name": "a", "fallback": {"action": "end_call"}})",
                           R"({"name": "a", "fallback": {"action": "transfer",
                                                         "destination": "+31201234567"}})",
                           R"({"name": "a", "fallback": null})"}) {
        auto r = merge_assistant_document(json::parse(ok).as_object(), {}, true, box);
        EXPECT_TRUE(r) << ok << ": " << r.error().message;
    }
}

}  // namespace
}  // namespace tl::api
