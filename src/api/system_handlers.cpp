// Unauthenticated operational endpoints (/health, /metrics, the OpenAPI document) and the
// caller's organization.

#include "api/api_context.hpp"

#include <boost/json.hpp>

namespace tl::api {

namespace json = boost::json;

void add_system_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/health", Auth::kPublic, [&ctx](Request&) {
        return Response::json(200, json::object{{"status", "ok"}, {"version", ctx.version}});
    });
    router.add("GET", "/metrics", Auth::kPublic, [&ctx](Request&) {
        return Response::text(200, "text/plain; version=0.0.4; charset=utf-8",
                              ctx.metrics.render_prometheus());
    });
    router.add("GET", "/api/v1/openapi.json", Auth::kPublic,
               [&ctx](Request&) { return Response::text(200, "application/json", ctx.openapi_json); });
    router.add("GET", "/api/v1/organizations", Auth::kApiKey, [&ctx](Request& req) {
        const auto& org = req.identity->organization;
        long long active_numbers = 0;
        long long active_agents = 0;
        if (auto numbers = ctx.store.list_numbers(org.id)) {
            for (const auto& n : *numbers) active_numbers += n.is_active ? 1 : 0;
        }
        if (auto assistants = ctx.store.list_assistants(org.id)) {
            for (const auto& a : *assistants) active_agents += a.is_active ? 1 : 0;
        }
        json::object o;
        o["id"] = org.id;
        o["name"] = org.name;
        o["created_at"] = org.created_at;
        o["active_numbers"] = active_numbers;
        o["active_agents"] = active_agents;
        o["active_calls"] = 0;
        return Response::json(200, o);
    });
}

}  // namespace tl::api
