#include "api/test_support.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace tl::api {
namespace {

namespace json = boost::json;

Request make(std::string method, std::string path, std::string key = {}, std::string body = {}) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.request_id = "test";
    if (!key.empty()) r.headers.emplace_back("authorization", "Bearer " + key);
    return r;
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    testing::Fixture f;
    auto missing = make("GET", "/api/v1/nope");
    EXPECT_EQ(f.router->handle(missing).status, 404);
    auto wrong = make("PUT", "/api/v1/numbers");
    const auto res = f.router->handle(wrong);
    EXPECT_EQ(res.status, 405);
    bool has_allow = false;
    for (const auto& [k, v] : res.headers) has_allow |= (k == "Allow" && v == "GET, POST");
    EXPECT_TRUE(has_allow);
}

TEST(Router, AuthenticatesAndScopesByOrganization) {
    testing::Fixture f;
    auto org = ensure_organization(*f.store, "acme").value();
    auto key = issue_api_key(*f.store, org.id).value();
    auto anonymous = make("GET", "/api/v1/numbers");
    EXPECT_EQ(f.router->handle(anonymous).status, 401);
    auto ok = make("GET", "/api/v1/numbers", key.key);
    const auto res = f.router->handle(ok);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(json::parse(res.body).at("numbers").as_array().size(), 0u);
    ASSERT_TRUE(f.store->revoke_api_key(key.record.id, "2025-01-01T00:00:00.000Z"));
    auto revoked = make("GET", "/api/v1/numbers", key.key);
    const auto denied = f.router->handle(revoked);
    EXPECT_EQ(denied.status, 401);
    EXPECT_EQ(json::parse(denied.body).at("code").as_string(), "api_key_revoked");
}

TEST(Router, CountsRequestsInMetrics) {
    testing::Fixture f;
    auto health = make("GET", "/health");
    EXPECT_EQ(f.router->handle(health).status, 200);
    const auto text = f.metrics.render_prometheus();
    EXPECT_NE(text.find("trunkline_http_requests_total{route=\"/health\",method=\"GET\",status="
                        "\"200\"} 1"),
              std::string::npos);
}

}  // namespace
}  // namespace tl::api
