#include "net/http_url.hpp"

#include <gtest/gtest.h>

namespace tl::net {
namespace {

TEST(HttpUrl, SplitsWhatTheClientNeeds) {
    struct Case {
        std::string url;
        Scheme scheme;
        std::string host, port, target, host_header;
    };
    const std::vector<Case> cases = {
        {"http://example.com/hook", Scheme::kHttp, "example.com", "80", "/hook", "example.com"},
        {"https://example.com", Scheme::kHttps, "example.com", "443", "/", "example.com"},
        {"https://u:p@example.com:8443/a/b?x=1&y=2", Scheme::kHttps, "example.com", "8443",
         "/a/b?x=1&y=2", "example.com:8443"},
        {"http://[::1]:9000/x", Scheme::kHttp, "::1", "9000", "/x", "[::1]:9000"},
        {"http://127.0.0.1:1/", Scheme::kHttp, "127.0.0.1", "1", "/", "127.0.0.1:1"},
    };
    for (const auto& c : cases) {
        auto u = parse_http_url(c.url);
        ASSERT_TRUE(u) << c.url << ": " << u.error().message;
        EXPECT_EQ(u->scheme, c.scheme) << c.url;
        EXPECT_EQ(u->host, c.host) << c.url;
        EXPECT_EQ(u->port, c.port) << c.url;
        EXPECT_EQ(u->target, c.target) << c.url;
        EXPECT_EQ(u->host_header, c.host_header) << c.url;
    }
}

TEST(HttpUrl, RejectsWhatItCannotUse) {
    struct Case {
        std::string url;
        bool unsupported_scheme;
    };
    const std::vector<Case> cases = {
        {"not a url", false},       {"http://", false},  {"http://h:0/", false},
        {"http://h:99999/", false}, {"ftp://h/x", true}, {"ws://h/x", true},
    };
    for (const auto& c : cases) {
        auto u = parse_http_url(c.url);
        ASSERT_FALSE(u) << c.url;
        EXPECT_EQ(u.error().unsupported_scheme, c.unsupported_scheme) << c.url;
        EXPECT_FALSE(u.error().message.empty());
    }
}

TEST(HttpUrl, IpLiterals) {
    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal("example.com"));
}

}  // namespace
}  // namespace tl::net
