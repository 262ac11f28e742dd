#pragma once
// Routes requests to handlers: path matching with `{param}` segments, 404/405, bearer
// authentication, per-key rate limiting with X-RateLimit-* headers, request metrics and access
// logs. Handlers are plain functions `Response(Request&)`.
//
// Thread-safety: routes are added before serving; handle() may then run on any thread.

#include "api/api_keys.hpp"
#include "api/http_types.hpp"
#include "api/rate_limiter.hpp"
#include "common/metrics.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tl::api {

enum class Auth { kPublic, kApiKey };

using Handler = std::function<Response(Request&)>;

struct RouteInfo {
    std::string method;
    std::string pattern;  // e.g. "/api/v1/numbers/{id}"
};

class Router {
public:
    Router(Authenticator& authenticator, RateLimiter& rate_limiter, metrics::Registry& metrics);

    void add(std::string method, std::string pattern, Auth auth, Handler handler);

    // Never throws: a handler's exception becomes a logged 500 without internals in the body.
    Response handle(Request& request);

    std::vector<RouteInfo> routes() const;

private:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;
        Auth auth;
        Handler handler;
        metrics::Histogram* latency;
    };
    static bool path_matches(const Route& route, const std::vector<std::string>& segments);
    Response dispatch(const Route& route,
                      const std::vector<std::string>& segments,
                      Request& request);
    void count(const std::string& pattern, const std::string& method, int status);

    Authenticator& authenticator_;
    RateLimiter& rate_limiter_;
    metrics::Registry& metrics_;
    metrics::Histogram& unmatched_latency_;
    std::vector<Route> routes_;
};

}  // namespace tl::api
