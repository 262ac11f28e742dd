#include "api/router.hpp"

#include "common/log.hpp"


#include <chrono>
#include <string_view>

namespace tl::api {
namespace {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        out.emplace_back(path.substr(start, end - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return out;
}

bool is_param(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

constexpr std::string_view kLatencyName = "trunkline_http_request_duration_seconds";
constexpr std::string_view kLatencyHelp = "HTTP request latency by route.";

}  // namespace

Router::Router(Authenticator& authenticator, RateLimiter& rate_limiter, metrics::Registry& metrics)
    : authenticator_(authenticator),
      rate_limiter_(rate_limiter),
      metrics_(metrics),
      unmatched_latency_(metrics.histogram(std::string(kLatencyName), std::string(kLatencyHelp),
                                           metrics::default_latency_buckets(),
                                           {{"route", "unmatched"}})) {}

void Router::add(std::string method, std::string pattern, Auth auth, Handler handler) {
    auto& latency =
        metrics_.histogram(std::string(kLatencyName), std::string(kLatencyHelp),
                           metrics::default_latency_buckets(), {{"route", pattern}});
    auto segments = split_path(pattern);
    routes_.push_back(Route{std::move(method), std::move(pattern), std::move(segments), auth,
                            std::move(handler), &latency});
}

std::vector<RouteInfo> Router::routes() const {
    std::vector<RouteInfo> out;
    for (const auto& r : routes_) out.push_back({r.method, r.pattern});
    return out;
}

bool Router::path_matches(const Route& route, const std::vector<std::string>& segments) {
    if (route.segments.size() != segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const bool ok = is_param(route.segments[i]) ? !segments[i].empty()
                                                    : route.segments[i] == segments[i];
        if (!ok) return false;
    }
    return true;
}

void Router::count(const std::string& pattern, const std::string& method, int status) {
    metrics_
        .counter("trunkline_http_requests_total", "HTTP requests by route, method and status.",
                 {{"route", pattern}, {"method", method}, {"status", std::to_string(status)}})
        .inc();
}

Response Router::handle(Request& request) {
    const auto started = std::chrono::steady_clock::now();
    const auto segments = split_path(request.path);
    const Route* route = nullptr;
    std::string allow;  // methods of the routes whose path matches, for 405
    for (const auto& candidate : routes_) {
        if (!path_matches(candidate, segments)) continue;
        allow += (allow.empty() ? "" : ", ") + candidate.method;
        if (candidate.method == request.method) {
            route = &candidate;
            break;
        }
    }
    Response response;
    if (route != nullptr) {
        response = dispatch(*route, segments, request);
    } else if (!allow.empty()) {
        response = Response::error(make_error(
            Errc::kMethodNotAllowed,
            request.method + " is not allowed on " + request.path + "; allowed: " + allow));
        response.headers.emplace_back("Allow", allow);
    } else {
        response = Response::error(
            make_error(Errc::kNotFound, "no endpoint " + request.method + " " + request.path));
    }
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    (route ? *route->latency : unmatched_latency_).observe(elapsed.count());
    count(route ? route->pattern : "unmatched", route ? request.method : "other", response.status);
    spdlog::info("[req={}] {} {} -> {} ({:.3f} ms){}", request.request_id, request.method,
                 request.path, response.status, elapsed.count() * 1000,
                 request.identity ? " org=" + request.identity->organization.id : "");
    return response;
}

Response Router::dispatch(const Route& route,
                          const std::vector<std::string>& segments,
                          Request& request) {
    request.path_params.clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (is_param(route.segments[i])) request.path_params.push_back(segments[i]);
    }
    RateDecision decision;
    if (route.auth == Auth::kApiKey) {
        auto identity = authenticator_.authenticate(request.header("authorization").value_or(""));
        if (!identity) return Response::error(identity.error());
        request.identity = std::move(*identity);
        decision = rate_limiter_.check(request.identity->key.id);
        if (!decision.allowed) {
            auto response = Response::error(make_error(
                Errc::kRateLimited, "Too many requests. Please retry after " +
                                        std::to_string(decision.retry_after_seconds) +
                                        " seconds."));
            // The SDK reads retry_after from the body as well as the header.
            response.body.insert(response.body.size() - 1,
                                 ",\"retry_after\":" +
                                     std::to_string(decision.retry_after_seconds));
            response.headers.emplace_back("Retry-After",
                                          std::to_string(decision.retry_after_seconds));
            response.headers.emplace_back("X-RateLimit-Limit", std::to_string(decision.limit));
            response.headers.emplace_back("X-RateLimit-Remaining", "0");
            response.headers.emplace_back("X-RateLimit-Reset",
                                          std::to_string(decision.reset_epoch_seconds));
            return response;
        }
    }
    Response response;
    try {
        response = route.handler(request);
    } catch (const std::exception& e) {
        spdlog::error("[req={}] handler for {} {} failed: {}", request.request_id, route.method,
                      route.pattern, e.what());
        response = Response::error(make_error(Errc::kInternal, "internal error; request id " +
                                                                   request.request_id));
    }
    if (route.auth == Auth::kApiKey) {
        response.headers.emplace_back("X-RateLimit-Limit", std::to_string(decision.limit));
        response.headers.emplace_back("X-RateLimit-Remaining", std::to_string(decision.remaining));
        response.headers.emplace_back("X-RateLimit-Reset",
                                      std::to_string(decision.reset_epoch_seconds));
    }
    return response;
}

}  // namespace tl::api
