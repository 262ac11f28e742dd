// The provider check's decisions that need no provider: which failure is which status, which
// slots are not_configured (no config, no key, no words for the recogniser), that a key lookup
// failure fails the check, and the embedded engines' local checks. The network probes against
// real servers are tests/api/test_assistant_check.py.

#include "api/assistant_check.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/provider_probes.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

json::object doc(std::string_view text) { return json::parse(text).as_object(); }

std::string status(const json::object& report, std::string_view slot) {
    return std::string(report.at(slot).at("status").as_string());
}

ProviderKeyLookup no_keys(std::vector<std::string>* asked = nullptr) {
    return [asked](const std::string& provider) -> Result<std::string> {
        if (asked != nullptr) asked->push_back(provider);
        return std::string();
    };
}

// A loopback port that refuses connections.
int refused_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

TEST(ProbeStatus, OnlyARejectedKeyIsAuthFailed) {
    const struct {
        Errc code;
        ProbeStatus expected;
    } cases[] = {
        {Errc::kUnauthorized, ProbeStatus::kAuthFailed},
        {Errc::kUnavailable, ProbeStatus::kUnreachable},
        {Errc::kRateLimited, ProbeStatus::kUnreachable},
        {Errc::kInvalidRequest, ProbeStatus::kUnreachable},
        {Errc::kInternal, ProbeStatus::kUnreachable},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(probe_status_of(make_error(c.code, "x")), c.expected);
    }
    EXPECT_EQ(to_string(ProbeStatus::kOk), "ok");
    EXPECT_EQ(to_string(ProbeStatus::kAuthFailed), "auth_failed");
    EXPECT_EQ(to_string(ProbeStatus::kUnreachable), "unreachable");
    EXPECT_EQ(to_string(ProbeStatus::kNotConfigured), "not_configured");
}

TEST(AssistantCheck, NoConfigsAreNotConfiguredWithANullProvider) {
    auto report = check_assistant_providers({}, no_keys(), {});
    ASSERT_TRUE(report);
    for (const auto* slot : {"llm", "stt", "tts"}) {
        EXPECT_EQ(status(*report, slot), "not_configured") << slot;
        EXPECT_TRUE(report->at(slot).at("provider").is_null()) << slot;
        EXPECT_FALSE(report->at(slot).at("message").as_string().empty()) << slot;
    }
}

TEST(AssistantCheck, KeylessProviderWithPublicUrlIsNotConfiguredWithoutAsking) {
    std::vector<std::string> asked;
    auto report = check_assistant_providers(
        doc(R"({"llm_config": {"provider": "openai", "model": "gpt-4o-mini"},
                "tts_config": {"provider": "groq", "model": "m", "voice_id": "v"}})"),
        no_keys(&asked), {});
    ASSERT_TRUE(report);
    EXPECT_EQ(status(*report, "llm"), "not_configured");
    EXPECT_NE(report->at("llm").at("message").as_string().find("TRUNKLINE_OPENAI_API_KEY"),
              json::string::npos);
    EXPECT_EQ(status(*report, "tts"), "not_configured");
    EXPECT_EQ(asked, (std::vector<std::string>{"openai", "groq"}));
}

TEST(AssistantCheck, AKeyLookupFailureFailsTheCheck) {
    auto report = check_assistant_providers(
        doc(R"({"llm_config": {"provider": "openai", "model": "m"}})"),
        [](const std::string&) -> Result<std::string> {
            return make_error(Errc::kInternal, "sealed key cannot be opened");
        },
        {});
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, Errc::kInternal);
}

TEST(AssistantCheck, EmbeddedEnginesPassTheirLocalChecks) {
    auto report = check_assistant_providers(doc(R"({"llm_config": {"provider": "scripted",
                               "rules": [{"when": ["sales"], "reply": "One moment."}]},
                "stt_config": {"provider": "pocketsphinx"},
                "tts_config": {"provider": "espeak-ng"}})"),
                                            no_keys(), {});
    ASSERT_TRUE(report);
    EXPECT_EQ(status(*report, "llm"), "ok") << json::serialize(*report);
    EXPECT_EQ(status(*report, "stt"), "ok") << json::serialize(*report);
    EXPECT_EQ(status(*report, "tts"), "ok") << json::serialize(*report);
}

TEST(AssistantCheck, RecogniserWithNothingToListenForIsNotConfigured) {
    const auto base = "http://127.0.0.1:" + std::to_string(refused_port()) + "/v1";
    auto report = check_assistant_providers(
        doc(R"({"llm_config": {"provider": "openai_compatible", "model": "m", "base_url": ")" +
            base + R"("}, "stt_config": {"provider": "pocketsphinx"}})"),
        no_keys(), {});
    ASSERT_TRUE(report);
    EXPECT_EQ(status(*report, "llm"), "unreachable") << json::serialize(*report);
    EXPECT_EQ(status(*report, "stt"), "not_configured") << json::serialize(*report);
    EXPECT_NE(report->at("stt").at("message").as_string().find("words to listen for"),
              json::string::npos);
}

}  // namespace
}  // namespace tl::api
