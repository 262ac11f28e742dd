// POST /calls/outbound against a fake call engine: what the handler hands to CallControl::dial
// (trunk, number, the merged assistant with its secrets sealed) and how each answer of the engine
// becomes an HTTP response. Validation errors are covered black-box in
// tests/api/test_outbound_calls.py.

#include "api/test_support.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tl::api {
namespace {

namespace json = boost::json;

class FakeCallControl : public call::CallControl {
public:
    Result<std::string> dial(call::OutboundCallRequest request) override {
        last = std::move(request);
        ++dials;
        return answer;
    }
    Status end_call(const std::string&, const std::string&, const std::string&) override {
        return {};
    }
    Status transfer(const std::string&,
                    const std::string&,
                    const std::string&,
                    const std::string&) override {
        return {};
    }
    Status transfer_to_tool_destination(const std::string&,
                                        const std::string&,
                                        std::size_t) override {
        return {};
    }
    Status end_call_tool(const std::string&, const std::string&) override { return {}; }
    Status inject_context(const std::string&,
                          const std::string&,
                          const std::string&,
                          bool) override {
        return {};
    }
    Status say(const std::string&, const std::string&, const std::string&, bool) override {
        return {};
    }
    Status send_dtmf(const std::string&, const std::string&, const std::string&) override {
        return {};
    }

    Result<std::string> answer = std::string("call-1");
    std::optional<call::OutboundCallRequest> last;
    int dials = 0;
};

class OutboundCallApi : public ::testing::Test {
protected:
    void SetUp() override {
        auto org = ensure_organization(*f_.store, "acme").value();
        key_ = issue_api_key(*f_.store, org.id).value().key;
        org_id_ = org.id;
        f_.ctx->live_calls = &engine_;
    }

    Response send(const std::string& method, const std::string& path, const json::value& body) {
        Request r;
        r.method = method;
        r.path = path;
        r.body = json::serialize(body);
        r.request_id = "test";
        r.headers.emplace_back("authorization", "Bearer " + key_);
        return f_.router->handle(r);
    }

    // POSTs to a collection and returns the created object's id.
    std::string create(const std::string& collection,
                       const std::string& wrapper,
                       const json::value& body) {
        const auto res = send("POST", "/api/v1/" + collection, body);
        EXPECT_EQ(res.status, 201) << res.body;
        return std::string(json::parse(res.body).at(wrapper).at("id").as_string());
    }

    std::string create_trunk(const std::string& name) {
        return create("sip-trunks", "trunk",
                      {{"name", name}, {"host", "carrier.example"}, {"auth_type", "ip"}});
    }

    json::object dial(json::object body, int expected_status = 200) {
        const auto res = send("POST", "/api/v1/calls/outbound", body);
        EXPECT_EQ(res.status, expected_status) << res.body;
        return json::parse(res.body).as_object();
    }

    json::object sent_document() const {
        return json::parse(engine_.last.value().assistant.config_json).as_object();
    }

    testing::Fixture f_;
    FakeCallControl engine_;
    std::string key_;
    std::string org_id_;
};

TEST_F(OutboundCallApi, ReferenceModeDialsTheOnlyOutboundTrunk) {
    const auto trunk = create_trunk("carrier");
    const auto assistant = create(
        "assistants", "assistant",
        {{"name", "Sales"}, {"first_message", "Hi"}, {"llm_config", {{"model", "gpt-4o-mini"}}}});
    const auto body = dial({{"destination", "+31612345678"},
                            {"assistant_id", assistant},
                            {"first_message", "Hello from the API"}});
    EXPECT_EQ(body,
              (json::object{{"success", true}, {"call_id", "call-1"}, {"status", "dialing"}}));
    ASSERT_TRUE(engine_.last);
    const auto& req = *engine_.last;
    EXPECT_EQ(req.org_id, org_id_);
    EXPECT_EQ(req.destination, "+31612345678");
    EXPECT_EQ(req.trunk.id, trunk);
    EXPECT_FALSE(req.number);
    EXPECT_EQ(req.assistant.id, assistant);
    EXPECT_EQ(req.assistant.name, "Sales");
    EXPECT_EQ(req.first_message, "Hello from the API");
    EXPECT_EQ(sent_document().at("first_message"), "Hi");
    EXPECT_FALSE(sent_document().contains("name")) << "name lives in its column, as stored";
}

TEST_F(OutboundCallApi, NumberIdPicksItsTrunkAndIsPassedAsCallerId) {
    create_trunk("first");
    const auto second = create_trunk("second");
    const auto assistant =
        create("assistants", "assistant", {{"name", "A"}, {"llm_config", {{"model", "m"}}}});
    const auto number = create("numbers", "number",
                               {{"phone_number", "+31850835037"}, {"transfer_trunk_id", second}});
    dial({{"destination", "+31612345678"}, {"agent_id", assistant}, {"number_id", number}});
    ASSERT_TRUE(engine_.last);
    EXPECT_EQ(engine_.last->trunk.id, second);
    ASSERT_TRUE(engine_.last->number);
    EXPECT_EQ(engine_.last->number->phone_number, "+31850835037");
}

TEST_F(OutboundCallApi, TransientAssistantIsValidatedAndItsSecretsSealed) {
    create_trunk("carrier");
    const std::string secret = "Whsec-transient-1234";
    dial({{"destination", "+31612345678"},
          {"assistant",
           {{"webhook_url", "https://hooks.example/x"},
            {"webhook_secret", secret},
            {"llm_config", {{"provider", "openai"}, {"model", "gpt-4o-mini"}}}}}});
    ASSERT_TRUE(engine_.last);
    EXPECT_TRUE(engine_.last->assistant.id.empty());
    const auto& config = engine_.last->assistant.config_json;
    EXPECT_EQ(config.find(secret), std::string::npos) << config;
    const auto doc = sent_document();
    ASSERT_TRUE(doc.contains("webhook_secret_sealed"));
    EXPECT_EQ(f_.secrets->unseal(std::string(doc.at("webhook_secret_sealed").as_string())).value(),
              secret);

    // The document's own field names come back under "assistant".
    const auto bad = dial(
        {{"destination", "+31612345678"}, {"assistant", {{"llm_config", {{"temperature", 5}}}}}},
        400);
    EXPECT_EQ(bad.at("field"), "assistant.llm_config.temperature");
    EXPECT_TRUE(bad.at("message").as_string().starts_with("assistant.llm_config.temperature"))
        << bad;
}

TEST_F(OutboundCallApi, OverrideIsMergedIntoTheStoredAssistantKeepingItsSecrets) {
    create_trunk("carrier");
    const auto assistant = create("assistants", "assistant",
                                  {{"name", "Support"},
                                   {"first_message", "stored"},
                                   {"webhook_secret", "Whsec-stored-5678"},
                                   {"llm_config",
                                    {{"provider", "openai"},
                                     {"model", "gpt-4o-mini"},
                                     {"temperature", 0.7},
                                     {"tools",
                                      {{{"type", "transfer_call"},
                                        {"destinations",
                                         {{{"type", "sip"},
                                           {"sip_uri", "sip:desk@pbx.example.com"},
                                           {"password", "DestPw-1"},
                                           {"description", "Desk"}}}}}}}}}});
    dial({{"destination", "+31612345678"},
          {"assistant_id", assistant},
          {"assistant_override",
           {{"first_message", "override"}, {"llm_config", {{"temperature", 0.2}}}}}});
    ASSERT_TRUE(engine_.last);
    EXPECT_EQ(engine_.last->assistant.id, assistant);
    const auto doc = sent_document();
    EXPECT_EQ(doc.at("first_message"), "override");
    const auto& llm = doc.at("llm_config").as_object();
    EXPECT_EQ(llm.at("temperature").to_number<double>(), 0.2);
    EXPECT_EQ(llm.at("model"), "gpt-4o-mini");
    EXPECT_TRUE(doc.contains("webhook_secret_sealed"));
    const auto& destination = llm.at("tools").at(0).at("destinations").at(0).as_object();
    ASSERT_TRUE(destination.contains("password_sealed")) << destination;
    EXPECT_EQ(
        f_.secrets->unseal(std::string(destination.at("password_sealed").as_string())).value(),
        "DestPw-1");
    // The stored assistant is unchanged.
    const auto stored = json::parse(send("GET", "/api/v1/assistants/" + assistant, nullptr).body);
    EXPECT_EQ(stored.at("assistant").at("first_message"), "stored");

    const auto bad = dial({{"destination", "+31612345678"},
                           {"assistant_id", assistant},
                           {"assistant_override", {{"llm_config", {{"temperature", 9}}}}}},
                          400);
    EXPECT_EQ(bad.at("field"), "assistant_override.llm_config.temperature");
}

TEST_F(OutboundCallApi, EngineAnswersBecomeStatuses) {
    create_trunk("carrier");
    const auto assistant = create("assistants", "assistant", {{"name", "A"}});
    const json::object body{{"destination", "+31612345678"}, {"assistant_id", assistant}};

    engine_.answer = make_error(Errc::kRateLimited, "trunk carrier is at max_concurrent_calls");
    auto res = send("POST", "/api/v1/calls/outbound", body);
    EXPECT_EQ(res.status, 429);
    const auto limited = json::parse(res.body);
    EXPECT_EQ(limited.at("code"), "rate_limit_exceeded");
    EXPECT_EQ(limited.at("retry_after"), 1);
    bool retry_after = false;
    for (const auto& [name, value] : res.headers)
        retry_after |= name == "Retry-After" && value == "1";
    EXPECT_TRUE(retry_after);

    engine_.answer = make_error(Errc::kNotImplemented, "not yet");
    res = send("POST", "/api/v1/calls/outbound", body);
    EXPECT_EQ(res.status, 501);
    EXPECT_EQ(json::parse(res.body).at("code"), "not_implemented");

    engine_.answer = make_error(Errc::kUnavailable, "shutting down");
    res = send("POST", "/api/v1/calls/outbound", body);
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(json::parse(res.body).at("code"), "service_unavailable");

    f_.ctx->live_calls = nullptr;
    const int dials = engine_.dials;
    res = send("POST", "/api/v1/calls/outbound", body);
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(engine_.dials, dials);
}

TEST_F(OutboundCallApi, RefusedRequestsNeverReachTheEngine) {
    const auto in_only = create("sip-trunks", "trunk",
                                {{"name", "in"},
                                 {"direction", "inbound"},
                                 {"auth_type", "ip"},
                                 {"allowed_addresses", {"203.0.113.0/24"}}});
    const auto assistant = create("assistants", "assistant", {{"name", "A"}});
    auto bad = dial({{"destination", "+31612345678"}, {"assistant_id", assistant}}, 400);
    EXPECT_EQ(bad.at("field"), "trunk_id");  // no outbound trunk at all
    bad = dial(
        {{"destination", "+31612345678"}, {"assistant_id", assistant}, {"trunk_id", in_only}}, 400);
    EXPECT_EQ(bad.at("code"), "invalid_request");
    EXPECT_NE(bad.at("message").as_string().find("inbound-only"), std::string::npos) << bad;
    EXPECT_EQ(engine_.dials, 0);
}

}  // namespace
}  // namespace tl::api
