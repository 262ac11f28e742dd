// The assistant-request webhook (api-contract.md §5.4): while the call rings, the customer's
// server may pick or adjust the assistant, cap the call's duration, or refuse the call with a
// message the caller hears. Member functions of Call, on the call's strand; the HTTP request
// itself runs on its own strand of the io_context, never on the SIP thread or the call's strand.

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "net/http_client.hpp"
#include "webhook/payloads.hpp"
#include "webhook/sync_request.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace tl::call {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// assistant-request delays the answer, so unlike the notification events it is opt-in: a
// webhook gets it only when its events list names it (or when there is no assistant at all).
bool names_assistant_request(const json::value& events) {
    if (!events.is_array()) return false;
    for (const auto& e : events.as_array()) {
        if (e.is_string() && e.as_string() == webhook::kAssistantRequest) return true;
    }
    return false;
}

json::value parse_or_null(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value(nullptr) : v;
}

}  // namespace

std::optional<Call::WebhookTarget> Call::assistant_request_target() {
    auto org = manager_.store_.get_organization(org_id_);
    const bool org_hook = org && org->webhook_url && !org->webhook_url->empty();
    if (route_->needs_assistant) {
        // The router accepted the call only because this webhook exists.
        if (!org_hook) return std::nullopt;
        return WebhookTarget{*org->webhook_url, org->webhook_secret_sealed};
    }
    const auto doc = parse_or_null(route_->assistant.config_json);
    if (doc.is_object()) {
        const auto& a = doc.as_object();
        const auto* url = a.if_contains("webhook_url");
        if (url && url->is_string() && !url->as_string().empty()) {
            const auto* events = a.if_contains("webhook_events");
            if (!events || !names_assistant_request(*events)) return std::nullopt;
            WebhookTarget target{std::string(url->as_string()), std::nullopt};
            if (const auto* s = a.if_contains("webhook_secret_sealed"); s && s->is_string()) {
                target.secret_sealed = std::string(s->as_string());
            }
            return target;
        }
    }
    if (org_hook && org->webhook_events_json &&
        names_assistant_request(parse_or_null(*org->webhook_events_json))) {
        return WebhookTarget{*org->webhook_url, org->webhook_secret_sealed};
    }
    return std::nullopt;
}

void Call::request_assistant(const WebhookTarget& target) {
    manager_.stack_->reply(invite_.dialog, {180, {}, {}, {}});
    ringing_sent_ = true;
    record_event("sip.response", R"({"status":180})");
    record_->status = "ringing";
    webhook::SyncWebhook hook;
    hook.url = target.url;
    hook.event = std::string(webhook::kAssistantRequest);
    hook.timeout = manager_.config_.assistant_request_timeout;
    hook.body = webhook::assistant_request_payload(
        *record_, route_->number ? &*route_->number : nullptr, now_iso8601());
    if (target.secret_sealed) {
        auto secret = manager_.secrets_.unseal(*target.secret_sealed);
        if (!secret) {
            return on_assistant_answer(
                make_error(Errc::kInternal, "cannot unseal the webhook secret"));
        }
        hook.secret = std::move(*secret);
    }
    record_event("webhook.assistant_request", "{}");
    send_webhook(std::move(hook), [self = shared_from_this()](Result<json::value> answer) {
        self->on_assistant_answer(std::move(answer));
    });
}

void Call::on_assistant_answer(Result<json::value> answer) {
    if (state_ != State::kRouting) return;  // the caller gave up meanwhile
    Result<webhook::AssistantRequestAnswer> parsed =
        answer ? webhook::parse_assistant_request_answer(*answer)
               : Result<webhook::AssistantRequestAnswer>(answer.error());
    if (!parsed) {
        // Timeout, unreachable, or an answer we cannot use: the number's own assistant answers.
        record_event("webhook.assistant_request_failed",
                     json::serialize(json::object{{"error", parsed.error().message}}));
        log::with_fields(log_fields("assistant_request_failed"), spdlog::level::warn,
                         "assistant-request: {}", parsed.error().message);
        if (route_->needs_assistant) return fail_unanswered(480, "no_assistant");
        return ring_then_answer();
    }
    if (parsed->error) {
        record_event("webhook.assistant_request_refused",
                     json::serialize(json::object{{"message", *parsed->error}}));
        return refuse_with_message(*parsed->error);
    }
    if (parsed->assistant) {
        // Used for this call only: its fields over the number's assistant (metadata included,
        // echoed in later events). Sealed fields cannot come from outside.
        auto doc = parse_or_null(route_->assistant.config_json);
        if (!doc.is_object()) doc = json::object();
        for (const auto& [key, value] : *parsed->assistant) {
            if (key.ends_with("_sealed")) continue;
            doc.as_object()[key] = value;
        }
        route_->assistant.config_json = json::serialize(doc);
        if (const auto* name = parsed->assistant->if_contains("name"); name && name->is_string()) {
            route_->assistant.name = std::string(name->as_string());
        }
        route_->needs_assistant = false;
        record_event("webhook.assistant_request_override",
                     json::serialize(json::object{{"fields", [&] {
                                                      json::array keys;
                                                      for (const auto& kv : *parsed->assistant)
                                                          keys.push_back(json::string(kv.key()));
                                                      return keys;
                                                  }()}}));
    }
    if (parsed->max_duration_seconds) max_duration_seconds_ = parsed->max_duration_seconds;
    if (route_->needs_assistant) return fail_unanswered(480, "no_assistant");
    ring_then_answer();
}

// The customer's server refused the call: the caller hears why in early media (183 with SDP,
// RFC 3960, so the call is never answered or billed), then 603 Decline.
void Call::refuse_with_message(const std::string& message) {
    // Without the caller's offer there is no early media to speak in (late offer).
    if (offer_in_our_200_) return fail_unanswered(603, "rejected");
    const auto sdp = media::render_answer(*remote_sdp_, *negotiated_, local_media_);
    manager_.stack_->reply(invite_.dialog, {183, {}, {}, sdp});
    record_event("sip.response", R"({"status":183})");
    rtp_->start();
    speak(message, false, [self = shared_from_this()] {
        if (self->state_ == State::kRouting) self->fail_unanswered(603, "rejected");
    });
}

void Call::fail_unanswered(int sip_status, std::string end_reason) {
    if (state_ != State::kRouting) return;
    manager_.stack_->reply(invite_.dialog, {sip_status, {}, {}, {}});
    record_event("sip.response", json::serialize(json::object{{"status", sip_status}}));
    finish("failed", std::move(end_reason));
}

}  // namespace tl::call
