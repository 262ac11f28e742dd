// Unauthenticated operational endpoints (/health, /metrics, the OpenAPI document) and the
// caller's organization.

#include "api/api_context.hpp"
#include "api/json_reader.hpp"

#include <boost/json.hpp>

namespace tl::api {

namespace json = boost::json;

namespace {

json::object organization_json(const store::Organization& org, ApiContext& ctx) {
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
    o["webhook_url"] = org.webhook_url ? json::value(*org.webhook_url) : json::value(nullptr);
    o["has_webhook_secret"] = org.webhook_secret_sealed.has_value();
    json::value events = nullptr;
    if (org.webhook_events_json) {
        boost::system::error_code ec;
        events = json::parse(*org.webhook_events_json, ec);
        if (ec) events = nullptr;
    }
    o["webhook_events"] = std::move(events);
    return o;
}

// The organization's webhook (docs/webhooks.md): the fallback after an assistant's webhook_url.
Response update_organization(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    ObjectReader r(*body, "");
    if (auto st = r.reject_read_only({"id", "name", "created_at", "active_numbers",
                                      "active_agents", "active_calls", "has_webhook_secret"});
        !st) {
        return Response::error(st.error());
    }
    if (auto st = r.only({"webhook_url", "webhook_secret", "webhook_events"}); !st) {
        return Response::error(st.error());
    }
    auto org = req.identity->organization;
    auto url = r.string("webhook_url", {.min = 1, .max = 2048});
    if (!url) return Response::error(url.error());
    if (url->has_value() && url->value.rfind("http://", 0) != 0 &&
        url->value.rfind("https://", 0) != 0) {
        return Response::error(make_error(Errc::kInvalidRequest,
                                          "webhook_url must be an http:// or https:// URL",
                                          "webhook_url"));
    }
    auto secret = r.string("webhook_secret", {.min = 1, .max = 256});
    if (!secret) return Response::error(secret.error());
    auto events = r.string_array("webhook_events", 4, {.min = 1, .max = 32});
    if (!events) return Response::error(events.error());
    for (std::size_t i = 0; i < events->value.size(); ++i) {
        const auto& e = events->value[i];
        if (e != "assistant-request" && e != "tool-calls" && e != "status-update" &&
            e != "end-of-call-report") {
            const auto field = index_path("webhook_events", i);
            return Response::error(make_error(
                Errc::kInvalidRequest,
                field + " must be one of: assistant-request, tool-calls, status-update, "
                        "end-of-call-report",
                field));
        }
    }
    if (url->present) org.webhook_url = url->null ? std::nullopt : std::optional(url->value);
    if (secret->present) {
        org.webhook_secret_sealed =
            secret->null ? std::nullopt : std::optional(ctx.secrets.seal(secret->value));
    }
    if (events->present) {
        if (events->null) {
            org.webhook_events_json.reset();
        } else {
            json::array list(events->value.begin(), events->value.end());
            org.webhook_events_json = json::serialize(list);
        }
    }
    if (auto st = ctx.store.update_organization_webhook(org); !st) return store_error(st.error());
    return Response::json(200, organization_json(org, ctx));
}

}  // namespace

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
        return Response::json(200, organization_json(req.identity->organization, ctx));
    });
    router.add("PATCH", "/api/v1/organizations", Auth::kApiKey,
               [&ctx](Request& req) { return update_organization(req, ctx); });
}

}  // namespace tl::api
