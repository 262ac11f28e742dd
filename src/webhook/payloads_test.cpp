#include "webhook/payloads.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tl::webhook {
namespace {

namespace json = boost::json;
constexpr const char* kTs = "2025-12-13T12:00:00.000Z";

store::Call ended_call() {
    store::Call c;
    c.id = "call-1";
    c.org_id = "org-1";
    c.direction = "inbound";
    c.status = "ended";
    c.caller_phone = "+31612345678";
    c.assistant_phone = "+31850835037";
    c.end_reason = "user_hangup";
    c.started_at = "2025-12-13T11:59:00.000Z";
    c.ended_at = "2025-12-13T12:00:00.000Z";
    c.duration_seconds = 60;
    c.messages_json = R"([{"role":"assistant","content":"Hello"},{"role":"user","content":"Hi"}])";
    c.transfer_json = R"({"destination":"+31201234567","status":"connected"})";
    return c;
}

store::PhoneNumber number() {
    store::PhoneNumber n;
    n.id = "num-1";
    n.phone_number = "+31850835037";
    n.name = "HMS Sovereign Demo";
    return n;
}

json::object message_of(const std::string& payload) {
    auto root = json::parse(payload).as_object();
    EXPECT_EQ(root.size(), 1u);
    return root.at("message").as_object();
}

TEST(Payloads, EnvelopeFields) {
    auto call = ended_call();
    auto num = number();
    json::object assistant{{"name", "Receptionist"}, {"metadata", {{"crm_id", 42}}}};
    auto m = message_of(status_update_payload({call, &num, &assistant, kTs}));
    EXPECT_EQ(m.at("type"), "status-update");
    EXPECT_EQ(m.at("timestamp"), kTs);
    EXPECT_EQ(json::serialize(m.at("call")),
              R"({"id":"call-1","type":"inbound_phone_call","status":"ended"})");
    EXPECT_EQ(json::serialize(m.at("phone_number")),
              R"({"id":"num-1","number":"+31850835037","name":"HMS Sovereign Demo"})");
    EXPECT_EQ(json::serialize(m.at("customer")), R"({"number":"+31612345678"})");
    EXPECT_EQ(m.at("assistant").at("metadata").at("crm_id"), 42);
}

TEST(Payloads, EnvelopeWithoutNumberOrAssistant) {
    auto call = ended_call();
    call.direction = "outbound";
    call.caller_phone.reset();
    auto m = message_of(status_update_payload({call, nullptr, nullptr, kTs}));
    EXPECT_EQ(m.at("call").at("type"), "outbound_phone_call");
    EXPECT_EQ(json::serialize(m.at("phone_number")),
              R"({"id":null,"number":"+31850835037","name":null})");
    EXPECT_TRUE(m.at("customer").at("number").is_null());
    EXPECT_FALSE(m.contains("assistant"));
    call.direction = "web";
    EXPECT_EQ(
        message_of(status_update_payload({call, nullptr, nullptr, kTs})).at("call").at("type"),
        "web_call");
}

TEST(Payloads, StatusUpdateStates) {
    auto call = ended_call();
    call.status = "in-progress";
    call.end_reason.reset();
    auto m = message_of(status_update_payload({call, nullptr, nullptr, kTs}));
    EXPECT_EQ(m.at("call").at("status"), "in-progress");
    EXPECT_FALSE(m.contains("end_reason"));
    EXPECT_FALSE(m.contains("error"));

    call = ended_call();
    m = message_of(status_update_payload({call, nullptr, nullptr, kTs}));
    EXPECT_EQ(m.at("call").at("status"), "ended");
    EXPECT_EQ(m.at("end_reason"), "user_hangup");

    call.status = "failed";
    call.end_reason = "error";
    call.error = "STT connection failed";
    m = message_of(status_update_payload({call, nullptr, nullptr, kTs}));
    EXPECT_EQ(m.at("call").at("status"), "ended-with-error");
    EXPECT_EQ(m.at("end_reason"), "error");
    EXPECT_EQ(m.at("error"), "STT connection failed");
}

TEST(Payloads, EndOfCallReport) {
    auto call = ended_call();
    auto num = number();
    auto m = message_of(end_of_call_report_payload({call, &num, nullptr, kTs}));
    EXPECT_EQ(m.at("type"), "end-of-call-report");
    EXPECT_EQ(m.at("call").at("status"), "ended");
    EXPECT_EQ(m.at("duration_seconds"), 60);
    EXPECT_EQ(m.at("summary"), "");
    EXPECT_EQ(m.at("end_reason"), "user_hangup");
    EXPECT_EQ(m.at("started_at"), "2025-12-13T11:59:00.000Z");
    EXPECT_EQ(m.at("ended_at"), "2025-12-13T12:00:00.000Z");
    EXPECT_EQ(json::serialize(m.at("messages")),
              R"([{"role":"assistant","content":"Hello"},{"role":"user","content":"Hi"}])");
    EXPECT_EQ(m.at("transfer").at("status"), "connected");
    EXPECT_TRUE(m.contains("recording_url"));
    EXPECT_TRUE(m.at("recording_url").is_null());
}

TEST(Payloads, EndOfCallReportDefaults) {
    store::Call call;
    call.id = "c";
    call.status = "ended";
    call.messages_json = "not json";
    auto m = message_of(end_of_call_report_payload({call, nullptr, nullptr, kTs}));
    EXPECT_EQ(m.at("duration_seconds"), 0);
    EXPECT_TRUE(m.at("end_reason").is_null());
    EXPECT_TRUE(m.at("started_at").is_null());
    EXPECT_TRUE(m.at("ended_at").is_null());
    EXPECT_EQ(json::serialize(m.at("messages")), "[]");
    EXPECT_TRUE(m.at("transfer").is_null());
}

}  // namespace
}  // namespace tl::webhook
