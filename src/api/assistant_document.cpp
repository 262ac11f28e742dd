#include "api/assistant_document.hpp"

#include "voice/conversation/fallback.hpp"
#include "voice/providers/openai_settings.hpp"
#include "voice/providers/scripted_llm.hpp"

#include "api/assistant_providers.hpp"
#include "api/assistant_tools.hpp"
#include "api/json_reader.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tl::api {
namespace {

namespace json = boost::json;

Error invalid(const std::string& field, const std::string& why) {
    return make_error(Errc::kInvalidRequest, fmt::format("{} {}", field, why), field);
}

Status check_one_of(const ObjectReader& r,
                    std::string_view key,
                    std::initializer_list<std::string_view> allowed) {
    auto f = r.string(key, {.min = 1, .max = 64});
    if (!f) return f.error();
    if (!f->has_value()) return {};
    for (const auto a : allowed) {
        if (f->value == a) return {};
    }
    std::string list;
    for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return invalid(r.path(key), "must be one of: " + list);
}

Status check_email(const std::string& path, const std::string& value) {
    const auto at = value.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= value.size() ||
        value.find(' ') != std::string::npos) {
        return invalid(path, "must be an e-mail address");
    }
    return {};
}

Status check_url(const ObjectReader& r, std::string_view key) {
    auto url = r.string(key, {.min = 1, .max = 2048});
    if (!url) return url.error();
    if (url->has_value() && url->value.rfind("http://", 0) != 0 &&
        url->value.rfind("https://", 0) != 0) {
        return invalid(r.path(key), "must be an http:// or https:// URL");
    }
    return {};
}

// The slot's provider, when one is named, must be one the runtime accepts for it
// (assistant_providers.hpp). Returns the name ("" when absent or null).
Result<std::string> checked_provider(const ObjectReader& r, ProviderSlot slot) {
    auto provider = r.string("provider", {.min = 1, .max = 128});
    if (!provider) return provider.error();
    if (!provider->has_value()) return std::string();
    if (auto st = check_provider(slot, provider->value, r.path("provider")); !st) return st.error();
    return std::move(provider->value);
}

Status check_messages(const ObjectReader& r) {
    auto messages = r.array("messages", 100);
    if (!messages) return messages.error();
    if (!messages->has_value()) return {};
    for (std::size_t i = 0; i < messages->value->size(); ++i) {
        const auto path = index_path(r.path("messages"), i);
        const auto& m = (*messages->value)[i];
        if (!m.is_object()) return invalid(path, "must be an object with role and content");
        ObjectReader mr(m.get_object(), path);
        if (auto st = mr.only({"role", "content"}); !st) return st;
        if (auto st = mr.require("role"); !st) return st;
        if (auto st = check_one_of(mr, "role", {"system", "user", "assistant"}); !st) return st;
        if (auto st = mr.require("content"); !st) return st;
        if (auto c = mr.string("content", {.min = 0, .max = 100000, .nullable = false}); !c) {
            return c.error();
        }
    }
    return {};
}

Result<json::value> validate_llm_config(const json::object& llm,
                                        const json::object& previous,
                                        const store::SecretBox& secrets) {
    ObjectReader r(llm, "llm_config");
    if (auto st = r.only({"provider", "model", "temperature", "messages", "tools", "voice",
                          "max_completion_tokens", "delegation", "turn_detection", "base_url",
                          "rules", "default_reply"});
        !st) {
        return st.error();
    }
    for (const auto key : {"model", "voice"}) {
        if (auto f = r.string(key, {.min = 1, .max = 128}); !f) return f.error();
    }
    auto provider = checked_provider(r, ProviderSlot::kLlm);
    if (!provider) return provider.error();
    if (auto t = r.number("temperature", 0, 2); !t) return t.error();
    if (auto m = r.integer("max_completion_tokens", 1, 32768); !m) return m.error();
    if (auto d = r.object("delegation"); !d) return d.error();
    if (auto d = r.object("turn_detection"); !d) return d.error();
    if (auto st = check_messages(r); !st) return st.error();
    json::object out = llm;
    auto tools = r.array("tools", 64);
    if (!tools) return tools.error();
    if (tools->has_value()) {
        json::array previous_tools;
        if (const auto* p = previous.if_contains("tools"); p && p->is_array()) {
            previous_tools = p->get_array();
        }
        auto validated = validate_tools(*tools->value, r.path("tools"), previous_tools, secrets);
        if (!validated) return validated.error();
        out["tools"] = std::move(*validated);
    }
    // The providers the conversation runtime drives check their own fields (docs/providers.md):
    // a config the runtime would refuse at the first call is refused here instead.
    const std::string& name = *provider;
    if (name == "scripted") {
        if (auto st = voice::parse_scripted_config(out); !st) return st.error();
    } else if (voice::is_openai_compatible_provider(name)) {
        if (auto st = voice::parse_openai_chat_settings(out); !st) return st.error();
    } else if (out.contains("rules") || out.contains("default_reply")) {
        return make_error(Errc::kInvalidRequest, "rules and default_reply need provider 'scripted'",
                          out.contains("rules") ? "llm_config.rules" : "llm_config.default_reply");
    }
    return json::value(std::move(out));
}

Status validate_stt_config(const json::object& stt) {
    // Provider-specific fields (api-contract.md §3.2) are many and open-ended: typed checks on
    // the common ones only.
    ObjectReader r(stt, "stt_config");
    for (const auto key : {"model", "language"}) {
        if (auto f = r.string(key, {.min = 1, .max = 128}); !f) return f.error();
    }
    auto provider = checked_provider(r, ProviderSlot::kStt);
    if (!provider) return provider.error();
    if (auto k = r.string_array("keyterms", 100, {.min = 1, .max = 100}); !k) return k.error();
    // A network recogniser checks its own fields, as the call will (docs/providers.md).
    if (voice::is_openai_compatible_provider(*provider)) {
        if (auto st = voice::parse_openai_transcription_settings(stt); !st) return st.error();
    }
    return {};
}

Status validate_tts_config(const json::object& tts) {
    ObjectReader r(tts, "tts_config");
    if (auto st = r.only({"provider", "voice_id", "model", "language", "stability",
                          "similarity_boost", "style", "use_speaker_boost", "speed",
                          "speaking_rate", "base_url", "response_format"});
        !st) {
        return st;
    }
    for (const auto key : {"voice_id", "model", "language"}) {
        if (auto f = r.string(key, {.min = 1, .max = 128}); !f) return f.error();
    }
    auto provider = checked_provider(r, ProviderSlot::kTts);
    if (!provider) return provider.error();
    for (const auto key : {"stability", "similarity_boost", "style"}) {
        if (auto n = r.number(key, 0, 1); !n) return n.error();
    }
    if (auto n = r.number("speed", 0.5, 2); !n) return n.error();
    if (auto n = r.number("speaking_rate", 0.25, 2); !n) return n.error();
    if (auto b = r.boolean("use_speaker_boost"); !b) return b.error();
    if (voice::is_openai_compatible_provider(*provider)) {
        if (auto st = voice::parse_openai_speech_settings(tts); !st) return st.error();
    }
    return {};
}

Status validate_speech_config(const json::object& speech) {
    ObjectReader r(speech, "speech_config");
    if (auto st = r.only({"turn_taking", "pronunciation", "background_audio", "silence",
                          "end_call_message", "first_message_outbound"});
        !st) {
        return st;
    }
    for (const auto key : {"end_call_message", "first_message_outbound"}) {
        if (auto f = r.string(key, {.min = 0, .max = 4096}); !f) return f.error();
    }
    auto turn = r.object("turn_taking");
    if (!turn) return turn.error();
    if (turn->has_value()) {
        ObjectReader t(*turn->value, r.path("turn_taking"));
        if (auto st = t.only({"endpointing_min_delay", "endpointing_max_delay",
                              "interruption_min_duration", "interruption_min_words",
                              "false_interruption_timeout"});
            !st) {
            return st;
        }
        auto min_delay = t.number("endpointing_min_delay", 0.1, 5);
        if (!min_delay) return min_delay.error();
        auto max_delay = t.number("endpointing_max_delay", 0.1, 5);
        if (!max_delay) return max_delay.error();
        const double min_v = min_delay->has_value() ? min_delay->value : 0.4;
        const double max_v = max_delay->has_value() ? max_delay->value : 2.0;
        if (max_v < min_v) {
            return invalid(t.path("endpointing_max_delay"),
                           "must not be less than endpointing_min_delay");
        }
        if (auto n = t.number("interruption_min_duration", 0.05, 2); !n) return n.error();
        if (auto n = t.integer("interruption_min_words", 0, 10); !n) return n.error();
        if (auto n = t.number("false_interruption_timeout", 0.2, 5); !n) return n.error();
    }
    auto pron = r.array("pronunciation", 50);
    if (!pron) return pron.error();
    if (pron->has_value()) {
        for (std::size_t i = 0; i < pron->value->size(); ++i) {
            const auto path = index_path(r.path("pronunciation"), i);
            const auto& p = (*pron->value)[i];
            if (!p.is_object()) return invalid(path, "must be an object with from and to");
            ObjectReader pr(p.get_object(), path);
            if (auto st = pr.only({"from", "to"}); !st) return st;
            for (const auto key : {"from", "to"}) {
                if (auto st = pr.require(key); !st) return st;
                if (auto f = pr.string(key, {.min = 1, .max = 200, .nullable = false}); !f) {
                    return f.error();
                }
            }
        }
    }
    auto bg = r.object("background_audio");
    if (!bg) return bg.error();
    if (bg->has_value()) {
        ObjectReader b(*bg->value, r.path("background_audio"));
        if (auto st = b.only({"enabled", "clip", "volume"}); !st) return st;
        if (auto e = b.boolean("enabled"); !e) return e.error();
        if (auto st = check_one_of(b, "clip", {"office", "city", "forest", "crowded_room"}); !st) {
            return st;
        }
        if (auto v = b.number("volume", 0.05, 1); !v) return v.error();
    }
    auto silence = r.object("silence");
    if (!silence) return silence.error();
    if (silence->has_value()) {
        ObjectReader s(*silence->value, r.path("silence"));
        if (auto st = s.only({"messages", "final_message", "first_check_seconds",
                              "interval_seconds", "max_attempts"});
            !st) {
            return st;
        }
        if (auto m = s.string_array("messages", 5, {.min = 1, .max = 1000}); !m) return m.error();
        if (auto f = s.string("final_message", {.min = 0, .max = 1000}); !f) return f.error();
        if (auto n = s.number("first_check_seconds", 1, 60); !n) return n.error();
        if (auto n = s.number("interval_seconds", 3, 120); !n) return n.error();
        if (auto n = s.integer("max_attempts", 1, 10); !n) return n.error();
    }
    return {};
}

Status validate_recording_consent(const json::object& consent) {
    ObjectReader r(consent, "recording_consent");
    if (auto st = r.only({"enabled", "message"}); !st) return st;
    if (auto st = r.require("enabled"); !st) return st;
    if (auto e = r.boolean("enabled", false); !e) return e.error();
    if (auto m = r.string("message", {.min = 0, .max = 4096}); !m) return m.error();
    return {};
}

}  // namespace

Status validate_recording(const json::object& recording, std::string_view path) {
    ObjectReader r(recording, std::string(path));
    if (auto st = r.only({"enabled", "channels"}); !st) return st;
    if (auto st = r.require("enabled"); !st) return st;
    if (auto e = r.boolean("enabled", false); !e) return e.error();
    auto channels = r.string("channels", {.min = 1, .max = 16, .nullable = false});
    if (!channels) return channels.error();
    if (channels->has_value() && channels->value != "stereo" && channels->value != "mono") {
        return invalid(r.path("channels"),
                       "must be one of: stereo (the caller left, the assistant right), mono");
    }
    return {};
}

Result<json::object> merge_assistant_document(const json::object& body,
                                              const json::object& previous,
                                              bool creating,
                                              const store::SecretBox& secrets) {
    ObjectReader r(body, "");
    if (auto st = r.reject_read_only({"id", "created_at", "updated_at"}); !st) return st.error();
    if (auto st = r.only({"name", "business_name", "notification_email", "notification_emails",
                          "recording_consent", "recording", "first_message", "first_message_outbound",
                          "end_call_message", "is_active",
                          "max_duration_seconds", "autonomous_silence_handling",
                          "silence_timeout_seconds", "voicemail_detection", "voicemail_message",
                          "gdpr_mode", "webhook_url", "webhook_secret", "has_webhook_secret",
                          "webhook_events", "analysis_plan", "stt_config", "llm_config",
                          "tts_config", "speech_config", "metadata", "fallback"});
        !st) {
        return st.error();
    }
    if (creating) {
        if (auto st = r.require("name"); !st) return st.error();
    }
    if (auto f = r.string("name", {.min = 1, .max = 255, .nullable = false}); !f) return f.error();
    if (auto f = r.string("business_name", {.min = 0, .max = 255}); !f) return f.error();
    for (const auto key :
         {"first_message", "first_message_outbound", "end_call_message", "voicemail_message"}) {
        if (auto f = r.string(key, {.min = 0, .max = 4096}); !f) return f.error();
    }
    auto email = r.string("notification_email", {.min = 3, .max = 254});
    if (!email) return email.error();
    if (email->has_value()) {
        if (auto st = check_email("notification_email", email->value); !st) return st.error();
    }
    auto emails = r.string_array("notification_emails", 5, {.min = 3, .max = 254});
    if (!emails) return emails.error();
    for (std::size_t i = 0; i < emails->value.size(); ++i) {
        if (auto st = check_email(index_path("notification_emails", i), emails->value[i]); !st) {
            return st.error();
        }
    }
    for (const auto key : {"is_active", "autonomous_silence_handling", "gdpr_mode"}) {
        if (auto b = r.boolean(key, false); !b) return b.error();
    }
    if (auto b = r.boolean("voicemail_detection"); !b) return b.error();
    if (auto b = r.boolean("has_webhook_secret"); !b) return b.error();
    if (auto n = r.integer("max_duration_seconds", 10, 86400); !n) return n.error();
    if (auto n = r.number("silence_timeout_seconds", 1, 600); !n) return n.error();
    if (auto st = check_url(r, "webhook_url"); !st) return st.error();
    auto secret = r.string("webhook_secret", {.min = 1, .max = 256});
    if (!secret) return secret.error();
    auto events = r.string_array("webhook_events", 4, {.min = 1, .max = 32});
    if (!events) return events.error();
    for (std::size_t i = 0; i < events->value.size(); ++i) {
        const auto& e = events->value[i];
        if (e != "assistant-request" && e != "tool-calls" && e != "status-update" &&
            e != "end-of-call-report") {
            return invalid(index_path("webhook_events", i),
                           "must be one of: assistant-request, tool-calls, status-update, "
                           "end-of-call-report");
        }
    }
    for (const auto key : {"analysis_plan", "metadata"}) {
        if (auto o = r.object(key); !o) return o.error();
    }
    auto consent = r.object("recording_consent");
    if (!consent) return consent.error();
    if (consent->has_value()) {
        if (auto st = validate_recording_consent(*consent->value); !st) return st.error();
    }
    auto recording = r.object("recording");
    if (!recording) return recording.error();
    if (recording->has_value()) {
        if (auto st = validate_recording(*recording->value, "recording"); !st) return st.error();
    }
    auto stt = r.object("stt_config");
    if (!stt) return stt.error();
    if (stt->has_value()) {
        if (auto st = validate_stt_config(*stt->value); !st) return st.error();
    }
    auto tts = r.object("tts_config");
    if (!tts) return tts.error();
    if (tts->has_value()) {
        if (auto st = validate_tts_config(*tts->value); !st) return st.error();
    }
    auto speech = r.object("speech_config");
    if (!speech) return speech.error();
    if (speech->has_value()) {
        if (auto st = validate_speech_config(*speech->value); !st) return st.error();
    }

    // Everything is valid: build the merged document.
    json::object doc = previous;
    for (const auto& [key, value] : body) {
        if (key == "webhook_secret" || key == "has_webhook_secret" || key == "llm_config") continue;
        doc[key] = value;
    }
    if (secret->present) {
        doc.erase("webhook_secret_sealed");
        if (secret->has_value()) doc["webhook_secret_sealed"] = secrets.seal(secret->value);
    }
    auto llm = r.object("llm_config");
    if (!llm) return llm.error();
    if (llm->present) {
        if (llm->null) {
            doc["llm_config"] = nullptr;
        } else {
            json::object previous_llm;
            if (const auto* p = previous.if_contains("llm_config"); p && p->is_object()) {
                previous_llm = p->get_object();
            }
            auto validated = validate_llm_config(*llm->value, previous_llm, secrets);
            if (!validated) return validated.error();
            doc["llm_config"] = std::move(*validated);
        }
    }
    // The fallback names a transfer destination of the merged document's tools: checked after
    // the merge, so a PATCH that removes the destination it names is refused too.
    if (const auto* f = doc.if_contains("fallback"); f && !f->is_null()) {
        if (auto fallback = voice::resolve_fallback(doc); !fallback) return fallback.error();
    }
    // Voicemail detection listens to the callee's first words inside the conversation, which
    // only an assistant with llm_config has: refused, rather than accepted and never done.
    const auto* voicemail = doc.if_contains("voicemail_detection");
    const auto* llm_doc = doc.if_contains("llm_config");
    if (voicemail && voicemail->is_bool() && voicemail->as_bool() &&
        (llm_doc == nullptr || !llm_doc->is_object())) {
        return invalid("voicemail_detection",
                       "needs llm_config: the callee's first words are checked by the "
                       "conversation, which an assistant without llm_config does not run (add "
                       "llm_config, e.g. provider scripted, or set voicemail_detection to false)");
    }
    return doc;
}

namespace {

void redact(json::value& value) {
    if (value.is_array()) {
        for (auto& item : value.get_array()) redact(item);
        return;
    }
    if (!value.is_object()) return;
    auto& object = value.get_object();
    std::vector<std::string> sealed;
    for (auto& [key, child] : object) {
        if (key.ends_with("_sealed")) {
            sealed.emplace_back(key);
        } else {
            redact(child);
        }
    }
    for (const auto& key : sealed) {
        object.erase(key);
        object["has_" + key.substr(0, key.size() - 7)] = true;
    }
}

}  // namespace

json::object assistant_view(const json::object& document) {
    json::value view = document;
    redact(view);
    auto& o = view.get_object();
    const std::pair<std::string_view, json::value> defaults[] = {
        {"business_name", nullptr},
        {"notification_email", nullptr},
        {"notification_emails", nullptr},
        {"recording_consent", nullptr},
        {"recording", nullptr},
        {"first_message", nullptr},
        {"first_message_outbound", nullptr},
        {"end_call_message", nullptr},
        {"is_active", true},
        {"max_duration_seconds", nullptr},
        {"autonomous_silence_handling", false},
        {"silence_timeout_seconds", nullptr},
        {"voicemail_detection", false},
        {"voicemail_message", nullptr},
        {"gdpr_mode", false},
        {"webhook_url", nullptr},
        {"has_webhook_secret", false},
        {"webhook_events", nullptr},
        {"analysis_plan", nullptr},
        {"stt_config", nullptr},
        {"llm_config", nullptr},
        {"tts_config", nullptr},
        {"speech_config", nullptr},
        {"metadata", nullptr},
        {"fallback", nullptr},
    };
    for (const auto& [key, value] : defaults) {
        if (!o.contains(key)) o[key] = value;
    }
    return std::move(o);
}

}  // namespace tl::api
