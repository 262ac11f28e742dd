#include "api/revision_cache.hpp"

#include "api/test_support.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace tl::api {
namespace {

std::string header(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
    }
    return {};
}

TEST(RevisionCache, BuildsOncePerRevisionAndAnswers304ToAMatchingETag) {
    RevisionCache cache;
    int builds = 0;
    auto build = [&] {
        ++builds;
        return Response::text(200, "application/json", "{\"n\":" + std::to_string(builds) + "}");
    };
    Request req;
    auto first = cache.get(req, "org/numbers", 3, build);
    auto second = cache.get(req, "org/numbers", 3, build);
    EXPECT_EQ(builds, 1);
    EXPECT_EQ(second.body, first.body);
    EXPECT_EQ(header(second, "ETag"), "\"r3\"");
    auto newer = cache.get(req, "org/numbers", 4, build);
    EXPECT_EQ(builds, 2);
    EXPECT_EQ(newer.body, "{\"n\":2}");
    req.headers.emplace_back("if-none-match", "\"r4\"");
    auto not_modified = cache.get(req, "org/numbers", 4, build);
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_TRUE(not_modified.body.empty());
    EXPECT_EQ(builds, 2);
}

TEST(RevisionCache, ErrorsAreNotCached) {
    RevisionCache cache;
    int builds = 0;
    auto build = [&] {
        ++builds;
        return Response::error(make_error(Errc::kUnavailable, "busy"));
    };
    Request req;
    EXPECT_EQ(cache.get(req, "k", 1, build).status, 503);
    EXPECT_EQ(cache.get(req, "k", 1, build).status, 503);
    EXPECT_EQ(builds, 2);
}

// Through the router and a real store: a write bumps the organization's revision, so the next
// list shows it, even though the previous list was cached.
TEST(RevisionCache, AWriteInvalidatesTheCachedList) {
    testing::Fixture f;
    auto org = ensure_organization(*f.store, "acme").value();
    auto key = issue_api_key(*f.store, org.id).value();
    auto request = [&](std::string method, std::string path, std::string body = {}) {
        Request r;
        r.method = std::move(method);
        r.path = std::move(path);
        r.body = std::move(body);
        r.request_id = "t";
        r.headers.emplace_back("authorization", "Bearer " + key.key);
        return f.router->handle(r);
    };
    auto count = [&] {
        auto res = request("GET", "/api/v1/numbers");
        return boost::json::parse(res.body).at("numbers").as_array().size();
    };
    EXPECT_EQ(count(), 0u);
    EXPECT_EQ(request("POST", "/api/v1/numbers", R"({"phone_number":"+31850835037"})").status, 201);
    EXPECT_EQ(count(), 1u);
    EXPECT_EQ(count(), 1u);
}

}  // namespace
}  // namespace tl::api
