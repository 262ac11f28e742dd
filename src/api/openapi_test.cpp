// The OpenAPI document must list exactly the routes the router serves, so it cannot drift.

#include "api/openapi_document.hpp"
#include "api/test_support.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace tl::api {
namespace {

namespace json = boost::json;

TEST(OpenApi, DocumentIsOpenApi31) {
    const auto doc = json::parse(openapi_document());
    ASSERT_TRUE(doc.is_object());
    EXPECT_TRUE(doc.at("openapi").as_string().starts_with("3.1"));
    EXPECT_TRUE(doc.at("info").is_object());
}

TEST(OpenApi, ListsExactlyTheRouterRoutes) {
    testing::Fixture f;
    std::set<std::string> served;
    for (const auto& r : f.router->routes()) served.insert(r.method + " " + r.pattern);

    std::set<std::string> documented;
    const auto doc = json::parse(openapi_document());
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        for (const auto& [method, op] : item.as_object()) {
            if (method == "parameters" || method == "summary" || method == "description") continue;
            std::string upper(method);
            std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
            documented.insert(upper + " " + std::string(path));
        }
    }
    for (const auto& s : served) EXPECT_TRUE(documented.count(s)) << "undocumented route: " << s;
    for (const auto& d : documented) EXPECT_TRUE(served.count(d)) << "documented, not served: " << d;
}

}  // namespace
}  // namespace tl::api
