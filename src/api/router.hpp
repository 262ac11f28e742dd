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

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tl::api {

enum class Auth { kPublic, kApiKey };

using Handler = std::function<Response(Request&)>;

struct RouteInfo {
    std::string method;
    std::string pattern;  // e.g. "/api/v1/numbers/{id}"
};

// The request counters of one route, by status, looked up in the registry once per status and
// then reached without a lock.
class StatusCounters {
public:
    StatusCounters(metrics::Registry& registry, std::string route, std::string method);
    metrics::Counter& for_status(int status);

private:
    metrics::Registry& registry_;
    std::string route_;
    std::string method_;
    std::array<std::atomic<metrics::Counter*>, 500> slots_{};  // statuses 100-599
};

class Router {
public:
    Router(Authenticator& authenticator, RateLimiter& rate_limiter, metrics::Registry& metrics);

    void add(std::string method, std::string pattern, Auth auth, Handler handler);
    // A route whose handler waits on the network for seconds (the trunk doctor): the server runs
    // it off the io threads, which carry calls and every other request.
    void add_blocking(std::string method, std::string pattern, Auth auth, Handler handler);
    bool is_blocking(const Request& request) const;

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
        std::unique_ptr<StatusCounters> requests;
        bool blocking = false;
    };
    static bool path_matches(const Route& route, const std::vector<std::string>& segments);
    Response dispatch(const Route& route,
                      const std::vector<std::string>& segments,
                      Request& request);

    Authenticator& authenticator_;
    RateLimiter& rate_limiter_;
    metrics::Registry& metrics_;
    metrics::Histogram& unmatched_latency_;
    StatusCounters unmatched_requests_;
    std::vector<Route> routes_;
};

}  // namespace tl::api
