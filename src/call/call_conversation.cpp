// The assistant converses (issue 6): Call's side of voice::Conversation. The conversation runs on
// the call's strand; the caller's audio reaches it through a CallerListener on the RTP strand;
// what it decides (speak, transfer, end, call a function webhook) comes back here.

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "net/http_client.hpp"
#include "voice/conversation/fallback.hpp"
#include "webhook/payloads.hpp"
#include "webhook/sync_request.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace tl::call {

namespace asio = boost::asio;
namespace json = boost::json;

bool Call::conversing() const {
    return conversation_ && (state_ == State::kInProgress || state_ == State::kAnswered);
}

void Call::start_conversation() {
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    if (ec || !doc.is_object()) return;
    auto voice = manager_.voice_.for_assistant(org_id_, doc.as_object(), outbound_);
    if (!voice) {
        // The assistant greets but does not listen: say why on the call's timeline.
        record_event("conversation.unavailable",
                     json::serialize(json::object{{"reason", voice.error().message}}));
        return;
    }
    if (outbound_) voice->settings.first_message = opening_message();
    voice::ConversationActions& actions = *this;  // a private base: only Call hands it out
    conversation_ = std::make_shared<voice::Conversation>(
        strand_, std::move(voice->settings), std::move(voice->providers), actions);
    auto listener = std::make_shared<CallerListener>(
        voice->turn_taking, *rtp_, [weak = weak_from_this()](voice::TurnEvent event) {
            auto self = weak.lock();
            if (!self) return;
            asio::post(self->strand_, [self, event = std::move(event)] {
                if (self->conversing()) self->conversation_->on_turn(event);
            });
        });
    listener_.store(std::move(listener));
    conversation_->start();
    record_event("conversation.started", "{}");
}

void Call::stop_conversation() {
    listener_.store(nullptr);
    if (conversation_) conversation_->stop();
}

void Call::inject_context(std::string text, bool respond) {
    asio::post(strand_, [self = shared_from_this(), text = std::move(text), respond] {
        if (self->conversing()) self->conversation_->inject_context(text, respond);
    });
}

// --- voice::ConversationActions (on the strand) -----------------------------------------------

void Call::synthesize(std::string text, std::function<void(Result<voice::PcmPtr>)> done) {
    synthesize_for_caller(std::move(text), std::move(done));
}

void Call::synthesize_for_caller(std::string text,
                                 std::function<void(Result<voice::PcmPtr>)> done) {
    voice::SpeechService& service = speech();
    const bool own_voice = &service != &manager_.speech_;
    service.synthesize(
        text, assistant_language(),
        [weak = weak_from_this(), own_voice, text, done = std::move(done)](
            Result<voice::PcmPtr> audio) mutable {
            auto self = weak.lock();
            if (!self) return;
            asio::post(self->strand_, [self, own_voice, text = std::move(text),
                                       done = std::move(done), audio = std::move(audio)]() mutable {
                if (audio || !own_voice || self->state_ == State::kEnded) {
                    return done(std::move(audio));
                }
                // The network voice failed mid-call: the caller hears the words in espeak-ng
                // instead of silence, and the rest of the call too (a voice that failed once,
                // with no key or no host, fails again).
                if (!std::exchange(self->voice_failed_, true)) {
                    self->record_event("assistant.tts_error",
                                       json::serialize(json::object{
                                           {"error", audio.error().message},
                                           {"fallback", "espeak-ng"}}));
                    log::with_fields(self->log_fields("tts_error"), spdlog::level::warn,
                                     "the assistant's voice failed ({}); espeak-ng speaks for "
                                     "the rest of the call",
                                     log::clip(audio.error().message, 256));
                }
                self->synthesize_for_caller(std::move(text), std::move(done));
            });
        });
}

void Call::play(voice::PcmPtr audio) {
    if (rtp_ && state_ != State::kEnded) rtp_->play(std::move(audio));
}

void Call::stop_playing() {
    if (rtp_) rtp_->flush();
}

void Call::transfer(const voice::ConfiguredTool& tool, std::size_t destination) {
    const auto config = tool_config(tool.config_index);
    const auto* dests = config ? config->if_contains("destinations") : nullptr;
    if (!dests || !dests->is_array() || destination >= dests->as_array().size() ||
        !dests->as_array()[destination].is_object()) {
        record_event("transfer.failed",
                     json::serialize(json::object{{"reason", "no_such_destination"}}));
        return;
    }
    transfer_to(dests->as_array()[destination].as_object());
}

void Call::end_call(const std::string& message, const std::string& end_reason) {
    if (state_ != State::kInProgress && state_ != State::kAnswered) return;
    record_event("tool.end_call", json::serialize(json::object{{"end_reason", end_reason}}));
    speak(message, true, {}, end_reason);
}

// A provider failed mid-call and the caller has heard the apology: a person takes over (the
// transfer_call path), or the assistant says goodbye and the call ends with assistant_error.
// Either way the failure reaches the operator (a warn line with the call's ids), the call's
// timeline (conversation.fallback) and the customer (a status-update carrying `error`).
void Call::fall_back(const std::string& provider, const std::string& error) {
    if (fallback_error_ || (state_ != State::kInProgress && state_ != State::kAnswered)) return;
    fallback_error_ = provider + ": " + error;
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    auto fallback = !ec && doc.is_object()
                        ? voice::resolve_fallback(doc.as_object())
                        : Result<voice::Fallback>(
                              make_error(Errc::kInternal, "the assistant is not an object"));
    if (!fallback) {
        // Stored before the field was validated, or overridden by assistant-request: goodbye.
        fallback = voice::Fallback{voice::Fallback::Action::kEndCall, std::nullopt, {},
                                   std::string(voice::kDefaultFallbackMessage)};
    }
    const bool transfer = fallback->action == voice::Fallback::Action::kTransfer;
    std::string destination = fallback->direct;
    if (fallback->destination) {
        for (const char* key : {"number", "sip_uri"}) {
            const auto* v = fallback->destination->if_contains(key);
            if (v && v->is_string()) destination = std::string(v->as_string());
        }
    }
    json::object data{{"action", transfer ? "transfer" : "end_call"},
                      {"provider", provider},
                      {"error", error}};
    if (transfer) data["destination"] = destination;
    record_event("conversation.fallback", json::serialize(data));
    log::with_fields(log_fields("assistant_error"), spdlog::level::warn,
                     "the {} failed ({}): {}", provider, log::clip(error, 256),
                     transfer ? "transferring to " + destination : std::string("ending the call"));
    stop_conversation();
    if (record_) {
        // An in-progress status-update with the error: the customer learns of it now, not only
        // from the end-of-call-report.
        record_->error = *fallback_error_;
        record_->updated_at = now_iso8601();
        save_with_events({webhook::kStatusUpdate});
        // A transfer that connects is a call that ended well; one that fails puts it back.
        if (transfer) record_->error.reset();
    }
    if (!transfer) {
        if (rtp_) rtp_->flush();
        speak(fallback->message, true, {}, "assistant_error");
        return;
    }
    if (fallback->destination) return transfer_to(*fallback->destination);
    begin_transfer(fallback->direct, {}, {}, {});
}

void Call::end_after_failure() {
    if (record_ && fallback_error_) record_->error = *fallback_error_;
    if (rtp_) rtp_->flush();
    speak(std::string(voice::kDefaultFallbackMessage), true, {}, "assistant_error");
}

void Call::report_words(std::uint64_t turn, std::size_t words) {
    if (auto listener = listener_.load()) listener->report_words(turn, words);
}

void Call::transcript_entry(voice::Role role,
                            const std::string& content,
                            std::chrono::steady_clock::time_point started) {
    add_to_transcript(voice::to_string(role), content, started);
}

void Call::add_to_transcript(std::string_view role,
                             std::string_view content,
                             std::chrono::steady_clock::time_point started) {
    if (!record_ || state_ == State::kEnded) return;
    if (answered_at_ == std::chrono::steady_clock::time_point{} && transcript_.messages().empty()) {
        // Spoken before any answer (a refusal in early media): time counts from these words.
        transcript_ = Transcript(started, std::chrono::system_clock::now());
    }
    transcript_.add(role, content, started);
    record_->messages_json = json::serialize(transcript_.messages());
    record_->updated_at = now_iso8601();
    if (auto st = manager_.store_.update_call(*record_); !st) {
        log::with_fields(log_fields(), spdlog::level::warn, "cannot store the transcript: {}",
                         st.error().message);
    }
}

std::optional<json::object> Call::tool_config(std::size_t position) const {
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    const auto* llm = doc.as_object().if_contains("llm_config");
    const auto* tools = llm && llm->is_object() ? llm->as_object().if_contains("tools") : nullptr;
    if (!tools || !tools->is_array() || position >= tools->as_array().size()) return std::nullopt;
    const auto& tool = tools->as_array()[position];
    if (!tool.is_object()) return std::nullopt;
    return tool.as_object();
}

// A function tool: the tool-calls webhook (api-contract.md §5.5) to the tool's own url (or
// server.url), else the assistant's webhook, else the organization's; 10 s; signed with the
// tool's server.secret, else the secret of the webhook used.
void Call::call_function(const voice::ConfiguredTool& tool,
                         const voice::ToolCall& call,
                         std::function<void(Result<std::string>)> done) {
    const auto config_copy = tool_config(tool.config_index);
    const json::object* config = config_copy ? &*config_copy : nullptr;
    std::string url;
    std::optional<std::string> secret_sealed;
    const auto text = [](const json::object* o, const char* key) {
        const auto* v = o ? o->if_contains(key) : nullptr;
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (config) {
        url = text(config, "url");
        const auto* server = config->if_contains("server");
        const auto* s = server && server->is_object() ? &server->as_object() : nullptr;
        if (url.empty()) url = text(s, "url");
        if (auto sealed = text(s, "secret_sealed"); !sealed.empty()) secret_sealed = sealed;
    }
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    const auto* assistant = !ec && doc.is_object() ? &doc.as_object() : nullptr;
    if (url.empty()) {
        url = text(assistant, "webhook_url");
        if (!secret_sealed) {
            if (auto sealed = text(assistant, "webhook_secret_sealed"); !sealed.empty()) {
                secret_sealed = sealed;
            }
        }
    }
    if (url.empty()) {
        if (auto org = manager_.store_.get_organization(org_id_); org && org->webhook_url) {
            url = *org->webhook_url;
            if (!secret_sealed) secret_sealed = org->webhook_secret_sealed;
        }
    }
    if (url.empty()) {
        return done(make_error(Errc::kUnavailable, "the tool " + call.name + " has no url"));
    }
    webhook::SyncWebhook hook;
    hook.url = url;
    hook.event = std::string(webhook::kToolCalls);
    hook.timeout = std::chrono::seconds(10);
    if (secret_sealed) {
        auto secret = manager_.secrets_.unseal(*secret_sealed);
        if (!secret) return done(make_error(Errc::kInternal, "cannot unseal the tool's secret"));
        hook.secret = std::move(*secret);
    }
    webhook::EventSource source{*record_, route_->number ? &*route_->number : nullptr, nullptr,
                                now_iso8601()};
    hook.body = webhook::tool_calls_payload(source, {{call.id, call.name, call.arguments}});
    record_event("webhook.tool_call", json::serialize(json::object{{"name", call.name}}));
    send_webhook(std::move(hook), [id = call.id, done = std::move(done)](
                                      Result<json::value> answer) mutable {
        done(answer ? webhook::parse_tool_call_answer(*answer, id)
                    : Result<std::string>(answer.error()));
    });
}

}  // namespace tl::call
