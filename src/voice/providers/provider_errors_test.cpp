#include "voice/providers/provider_errors.hpp"

#include <gtest/gtest.h>

namespace tl::voice {
namespace {

TEST(ProviderErrors, StatusesMapToCodes) {
    struct Case {
        int status;
        Errc code;
    };
    for (const auto& c : {Case{400, Errc::kInvalidRequest}, Case{404, Errc::kInvalidRequest},
                          Case{401, Errc::kUnauthorized}, Case{403, Errc::kUnauthorized},
                          Case{429, Errc::kRateLimited}, Case{500, Errc::kUnavailable},
                          Case{503, Errc::kUnavailable}}) {
        EXPECT_EQ(http_status_error("LLM host", c.status, "", "").code, c.code) << c.status;
    }
}

TEST(ProviderErrors, MessageNamesStatusAndProviderSentenceButNotTheKey) {
    const std::string key = "sk-proj-abcdefghijklmnop";
    auto e = http_status_error(
        "LLM api.openai.com", 401,
        R"({"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnop.","type":"invalid_request_error"}})",
        key);
    EXPECT_EQ(e.message,
              "LLM api.openai.com answered HTTP 401 Unauthorized: Incorrect API key provided: "
              "[redacted].");
    EXPECT_EQ(e.message.find(key), std::string::npos);
}

TEST(ProviderErrors, ErrorBodyShapes) {
    EXPECT_EQ(provider_error_message(R"({"error":{"message":"bad model"}})"), "bad model");
    EXPECT_EQ(provider_error_message(R"({"error":"model not found"})"), "model not found");
    EXPECT_EQ(provider_error_message(R"({"message":"Unauthorized","request_id":"x"})"),
              "Unauthorized");
    EXPECT_EQ(provider_error_message(R"({"detail":"Not Found"})"), "Not Found");
    EXPECT_EQ(provider_error_message("<html>502 Bad Gateway</html>"), "");
    EXPECT_EQ(provider_error_message(R"({"error":{"message":"a\nb\u0000c"}})"), "a b c");
    // Long sentences are cut at 300 bytes, never inside a UTF-8 sequence.
    std::string long_text(299, 'x');
    long_text += "\xC3\xA9\xC3\xA9";
    const auto cut = provider_error_message(R"({"error":")" + long_text + R"("})");
    EXPECT_EQ(cut, std::string(299, 'x'));
}

TEST(ProviderErrors, RedactIgnoresShortKeys) {
    EXPECT_EQ(redact("key abc", "abc"), "key abc");
    EXPECT_EQ(redact("k=12345678 and 12345678", "12345678"), "k=[redacted] and [redacted]");
}

}  // namespace
}  // namespace tl::voice
