#pragma once
// Test helpers for the api module: a temp SQLite store, a secret box and a router with every
// route, without any network.

#include "api/api_context.hpp"
#include "store/sqlite/sqlite_store.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace tl::api::testing {

struct Fixture {
    std::filesystem::path dir;
    std::unique_ptr<store::Store> store;
    std::optional<store::SecretBox> secrets;
    metrics::Registry metrics;
    std::optional<Authenticator> authenticator;
    RateLimiter rate_limiter{1000, std::chrono::seconds(60)};
    RateLimiter control_limiter{10, std::chrono::seconds(60)};
    std::unique_ptr<ApiContext> ctx;
    std::optional<Router> router;

    Fixture() {
        char pattern[] = "/tmp/tl-api-test-XXXXXX";
        dir = ::mkdtemp(pattern);
        store = store::open_sqlite_store(dir / "test.db").value();
        secrets.emplace(store::SecretBox::from_keys(
                            {store::SecretBox::parse_key(std::string(64, '7')).value()})
                            .value());
        authenticator.emplace(*store);
        ctx.reset(new ApiContext{*store, *secrets, control_limiter, metrics, "sip:127.0.0.1:5060",
                                 "test", "{}"});
        router.emplace(*authenticator, rate_limiter, metrics);
        add_all_routes(*router, *ctx);
    }
    ~Fixture() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace tl::api::testing
