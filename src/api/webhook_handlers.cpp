// /api/v1/webhook-deliveries: what the outbox holds for the organization (docs/webhooks.md), and
// a manual retry of dead letters.

#include "api/api_context.hpp"
#include "api/json_reader.hpp"
#include "common/clock.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

namespace tl::api {
namespace {

namespace json = boost::json;

json::value opt(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object delivery_json(const store::WebhookDelivery& d, bool with_payload) {
    json::object o;
    o["id"] = d.id;
    o["call_id"] = opt(d.call_id);
    o["event"] = d.event;
    o["url"] = d.url;
    o["status"] = d.status;
    o["attempts"] = d.attempts;
    o["next_attempt_at"] = d.next_attempt_at;
    o["last_status_code"] = d.last_status_code ? json::value(*d.last_status_code) : json::value(nullptr);
    o["last_error"] = opt(d.last_error);
    o["signed"] = d.secret_sealed.has_value();
    o["created_at"] = d.created_at;
    o["updated_at"] = d.updated_at;
    o["delivered_at"] = opt(d.delivered_at);
    if (with_payload) {
        boost::system::error_code ec;
        auto payload = json::parse(d.payload_json, ec);
        o["payload"] = ec ? json::value(nullptr) : std::move(payload);
    }
    return o;
}

Response list_deliveries(Request& req, ApiContext& ctx) {
    store::DeliveryFilter filter;
    for (const auto& [key, value] : req.query) {
        if (key == "status") {
            if (value != "pending" && value != "delivering" && value != "delivered" &&
                value != "dead") {
                return Response::error(make_error(
                    Errc::kInvalidRequest,
                    "status must be one of: pending, delivering, delivered, dead", "status"));
            }
            filter.status = value;
        } else if (key == "event") {
            filter.event = value;
        } else if (key == "call_id") {
            filter.call_id = value;
        } else if (key != "limit" && key != "offset") {
            return Response::error(make_error(
                Errc::kUnknownField, fmt::format("unknown query parameter '{}'", key), key));
        }
    }
    auto limit = query_int(req, "limit", 100, 1, 1000);
    if (!limit) return Response::error(limit.error());
    auto offset = query_int(req, "offset", 0, 0, 1'000'000'000);
    if (!offset) return Response::error(offset.error());
    filter.limit = *limit;
    filter.offset = *offset;
    auto page = ctx.store.list_deliveries(req.org_id(), filter);
    if (!page) return store_error(page.error());
    json::array list;
    for (const auto& d : page->deliveries) list.push_back(delivery_json(d, false));
    return Response::json(200, json::object{{"deliveries", std::move(list)},
                                            {"pagination", json::object{{"total", page->total},
                                                                        {"limit", filter.limit},
                                                                        {"offset", filter.offset}}}});
}

}  // namespace

void add_webhook_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/webhook-deliveries", Auth::kApiKey,
               [&ctx](Request& req) { return list_deliveries(req, ctx); });
    router.add("GET", "/api/v1/webhook-deliveries/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "webhook delivery"); !st) return store_error(st.error());
        auto d = ctx.store.get_delivery(req.org_id(), id);
        if (!d) return store_error(d.error());
        return Response::json(200, delivery_json(*d, true));
    });
    router.add("POST", "/api/v1/webhook-deliveries/{id}/retry", Auth::kApiKey,
               [&ctx](Request& req) {
                   const auto& id = req.path_params.at(0);
                   if (auto st = check_path_id(id, "webhook delivery"); !st) {
                       return store_error(st.error());
                   }
                   if (auto st = ctx.store.retry_delivery(req.org_id(), id, now_iso8601()); !st) {
                       return store_error(st.error());
                   }
                   auto d = ctx.store.get_delivery(req.org_id(), id);
                   if (!d) return store_error(d.error());
                   return Response::json(200, json::object{{"success", true},
                                                           {"delivery", delivery_json(*d, false)}});
               });
}

}  // namespace tl::api
