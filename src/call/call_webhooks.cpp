// The call's webhook events (api-contract.md §5): status-update on in-progress and ended, and the
// end-of-call-report, written to the durable outbox in the same transaction as the call change
// that caused them (store::update_call_and_enqueue). The dispatcher sends them.

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "webhook/payloads.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace tl::call {

namespace json = boost::json;

namespace {

// The assistant as customers see it in events: sealed secrets never leave the server.
void strip_sealed(json::value& value) {
    if (value.is_array()) {
        for (auto& v : value.as_array()) strip_sealed(v);
    } else if (value.is_object()) {
        auto& o = value.as_object();
        std::vector<std::string> sealed;
        for (auto& [key, child] : o) {
            if (key.ends_with("_sealed")) {
                sealed.emplace_back(key);
            } else {
                strip_sealed(child);
            }
        }
        for (const auto& key : sealed) o.erase(key);
    }
}

bool wants(const json::object& doc, std::string_view event) {
    const auto* events = doc.if_contains("webhook_events");
    if (events == nullptr || events->is_null() || !events->is_array()) return true;  // null = all
    for (const auto& e : events->as_array()) {
        if (e.is_string() && e.as_string() == event) return true;
    }
    return false;
}

}  // namespace

void Call::save_with_events(std::initializer_list<std::string_view> events) {
    if (!record_) return;
    std::vector<store::WebhookDelivery> deliveries;
    boost::system::error_code ec;
    auto doc = route_ ? json::parse(route_->assistant.config_json, ec) : json::value();
    const auto* url = !ec && doc.is_object() ? doc.as_object().if_contains("webhook_url") : nullptr;
    if (url && url->is_string() && !url->as_string().empty()) {
        json::value assistant = doc;
        strip_sealed(assistant);
        assistant.as_object()["id"] = route_->assistant.id;
        assistant.as_object()["name"] = route_->assistant.name;
        const auto now = now_iso8601();
        webhook::EventSource source{*record_, route_->number ? &*route_->number : nullptr,
                                    &assistant.as_object(), now};
        for (const auto event : events) {
            if (!wants(doc.as_object(), event)) continue;
            store::WebhookDelivery d;
            d.id = new_uuid();
            d.org_id = org_id_;
            d.call_id = id_;
            d.event = std::string(event);
            d.url = std::string(url->as_string());
            d.payload_json = event == webhook::kEndOfCallReport
                                 ? webhook::end_of_call_report_payload(source)
                                 : webhook::status_update_payload(source);
            const auto* secret = doc.as_object().if_contains("webhook_secret_sealed");
            if (secret && secret->is_string()) d.secret_sealed = std::string(secret->as_string());
            d.next_attempt_at = d.created_at = d.updated_at = now;
            deliveries.push_back(std::move(d));
        }
    }
    if (auto st = manager_.store_.update_call_and_enqueue(*record_, deliveries); !st) {
        spdlog::warn("[call={}] cannot update the call: {}", id_, st.error().message);
    }
}

}  // namespace tl::call
