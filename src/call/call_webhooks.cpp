// The call's webhook events (api-contract.md §5): status-update on in-progress and ended, and the
// end-of-call-report, written to the durable outbox in the same transaction as the call change
// that caused them (store::update_call_and_enqueue). The dispatcher sends them.

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "webhook/payloads.hpp"
#include "webhook/sync_request.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace tl::call {

namespace asio = boost::asio;
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

bool wants(const json::value* events, std::string_view event) {
    if (events == nullptr || events->is_null() || !events->is_array()) return true;  // null = all
    for (const auto& e : events->as_array()) {
        if (e.is_string() && e.as_string() == event) return true;
    }
    return false;
}

}  // namespace

void Call::send_webhook(webhook::SyncWebhook hook, std::function<void(Result<json::value>)> done) {
    // On the manager's webhook strand, never on the SIP thread or this call's strand; the
    // answer comes back to the call's strand.
    auto event = hook.event;
    asio::co_spawn(
        manager_.hooks_strand_,
        [&client = manager_.hooks_client_,
         hook = std::move(hook)]() mutable -> asio::awaitable<Result<json::value>> {
            co_return co_await webhook::send_sync(client, std::move(hook));
        },
        [weak = weak_from_this(), event = std::move(event), done = std::move(done)](
            std::exception_ptr failure, Result<json::value> answer) mutable {
            auto self = weak.lock();
            if (!self) return;
            if (failure) answer = make_error(Errc::kInternal, event + " webhook failed");
            asio::post(self->strand_, [done = std::move(done), answer = std::move(answer)]() mutable {
                done(std::move(answer));
            });
        });
}

void Call::save_with_events(std::initializer_list<std::string_view> events) {
    if (!record_) return;
    std::vector<store::WebhookDelivery> deliveries;
    boost::system::error_code ec;
    auto doc = route_ ? json::parse(route_->assistant.config_json, ec) : json::value();
    if (ec || !doc.is_object()) doc = json::object();
    // Where events go: the assistant's webhook, else the organization's (api-contract.md §5.1).
    std::string url;
    std::optional<std::string> secret_sealed;
    json::value filter = nullptr;
    const auto& a = doc.as_object();
    if (const auto* u = a.if_contains("webhook_url"); u && u->is_string() && !u->as_string().empty()) {
        url = std::string(u->as_string());
        if (const auto* s = a.if_contains("webhook_secret_sealed"); s && s->is_string()) {
            secret_sealed = std::string(s->as_string());
        }
        if (const auto* f = a.if_contains("webhook_events")) filter = *f;
    } else if (auto org = manager_.store_.get_organization(org_id_); org && org->webhook_url) {
        url = *org->webhook_url;
        secret_sealed = org->webhook_secret_sealed;
        if (org->webhook_events_json) {
            boost::system::error_code fec;
            filter = json::parse(*org->webhook_events_json, fec);
            if (fec) filter = nullptr;
        }
    }
    if (!url.empty()) {
        json::value assistant = doc;
        strip_sealed(assistant);
        assistant.as_object()["id"] = route_->assistant.id;
        assistant.as_object()["name"] = route_->assistant.name;
        const auto now = now_iso8601();
        webhook::EventSource source{*record_, route_->number ? &*route_->number : nullptr,
                                    &assistant.as_object(), now};
        for (const auto event : events) {
            if (!wants(&filter, event)) continue;
            store::WebhookDelivery d;
            d.id = new_uuid();
            d.org_id = org_id_;
            d.call_id = id_;
            d.event = std::string(event);
            d.url = url;
            d.payload_json = event == webhook::kEndOfCallReport
                                 ? webhook::end_of_call_report_payload(source)
                                 : webhook::status_update_payload(source);
            d.secret_sealed = secret_sealed;
            d.next_attempt_at = d.created_at = d.updated_at = now;
            deliveries.push_back(std::move(d));
        }
    }
    if (auto st = manager_.store_.update_call_and_enqueue(*record_, deliveries); !st) {
        log::with_fields(log_fields(), spdlog::level::warn, "cannot update the call: {}",
                         st.error().message);
    }
}

}  // namespace tl::call
