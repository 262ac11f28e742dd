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

StatusCounters::StatusCounters(metrics::Registry& registry, std::string route, std::string method)
    : registry_(registry), route_(std::move(route)), method_(std::move(method)) {}

metrics::Counter& StatusCounters::for_status(int status) {
    if (status < 100 || status > 599) status = 599;
    auto& slot = slots_[static_cast<std::size_t>(status - 100)];
    metrics::Counter* counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
        // The registry returns the same counter for the same labels, so a race only repeats
        // the lookup.
        counter = &registry_.counter("trunkline_http_requests_total",
                                     "HTTP requests by route, method and status.",
                                     {{"route", route_}, {"method", method_},
                                      {"status", std::to_string(status)}});
        slot.store(counter, std::memory_order_release);
    }
    return *counter;
}

Router::Router(Authenticator& authenticator, RateLimiter& rate_limiter, metrics::Registry& metrics)
    : authenticator_(authenticator),
      rate_limiter_(rate_limiter),
      metrics_(metrics),
      unmatched_latency_(metrics.histogram(std::string(kLatencyName), std::string(kLatencyHelp),
                                           metrics::default_latency_buckets(),
                                           {{"route", "unmatched"}})),
      unmatched_requests_(metrics, "unmatched", "other") {}

void Router::add(std::string method, std::string pattern, Auth auth, Handler handler) {
    auto& latency =
        metrics_.histogram(std::string(kLatencyName), std::string(kLatencyHelp),
                           metrics::default_latency_buckets(), {{"route", pattern}});
    auto segments = split_path(pattern);
    auto requests = std::make_unique<StatusCounters>(metrics_, pattern, method);
    routes_.push_back(Route{std::move(method), std::move(pattern), std::move(segments), auth,
                            std::move(handler), &latency, std::move(requests)});
}

void Router::add_blocking(std::string method, std::string pattern, Auth auth, Handler handler) {
    add(std::move(method), std::move(pattern), auth, std::move(handler));
    routes_.back().blocking = true;
}

bool Router::is_blocking(const Request& request) const {
    const auto segments = split_path(request.path);
    for (const auto& route : routes_) {
        if (route.method == request.method && path_matches(route, segments)) return route.blocking;
    }
    return false;
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
    (route ? *route->requests : unmatched_requests_).for_status(response.status).inc();
    log::Fields fields;
    fields.request_id = request.request_id;
    if (request.identity) fields.org_id = request.identity->organization.id;
    log::with_fields(fields, spdlog::level::info, "{} {} -> {} ({:.3f} ms)", request.method,
                     request.path, response.status, elapsed.count() * 1000);
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
        log::Fields fields;
        fields.request_id = request.request_id;
        log::with_fields(fields, spdlog::level::err, "handler for {} {} failed: {}", route.method,
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
