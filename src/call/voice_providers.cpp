#include "call/voice_providers.hpp"

#include "voice/providers/destination_keywords.hpp"

#include "voice/providers/openai_llm.hpp"
#include "voice/providers/openai_settings.hpp"
#include "voice/providers/openai_stt.hpp"
#include "voice/providers/openai_tts.hpp"
#include "voice/providers/scripted_llm.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace tl::call {

namespace json = boost::json;

namespace {

const json::object* object_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string string_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::chrono::milliseconds seconds_at(const json::object& o,
                                     std::string_view key,
                                     std::chrono::milliseconds fallback) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) return fallback;
    return std::chrono::milliseconds(static_cast<long long>(v->to_number<double>() * 1000));
}

std::vector<voice::ChatMessage> chat_messages(const json::object& llm) {
    std::vector<voice::ChatMessage> out;
    const auto* messages = llm.if_contains("messages");
    if (messages == nullptr || !messages->is_array()) return out;
    for (const auto& m : messages->as_array()) {
        if (!m.is_object()) continue;
        const auto role = string_at(m.as_object(), "role");
        const auto content = string_at(m.as_object(), "content");
        const voice::Role r = role == "system"      ? voice::Role::kSystem
                              : role == "assistant" ? voice::Role::kAssistant
                                                    : voice::Role::kUser;
        out.push_back({r, content, {}, {}});
    }
    return out;
}

}  // namespace

voice::TurnTakingConfig turn_taking_of(const json::object& assistant) {
    voice::TurnTakingConfig config;
    const auto* speech = object_at(assistant, "speech_config");
    const auto* t = speech ? object_at(*speech, "turn_taking") : nullptr;
    if (t == nullptr) return config;
    config.endpointing_min_delay = seconds_at(*t, "endpointing_min_delay", config.endpointing_min_delay);
    config.endpointing_max_delay = seconds_at(*t, "endpointing_max_delay", config.endpointing_max_delay);
    config.interruption_min_duration =
        seconds_at(*t, "interruption_min_duration", config.interruption_min_duration);
    if (const auto* w = t->if_contains("interruption_min_words"); w && w->is_int64()) {
        config.interruption_min_words = static_cast<int>(w->as_int64());
    }
    if (const auto* f = t->if_contains("false_interruption_timeout"); f && f->is_null()) {
        config.false_interruption_timeout.reset();
    } else if (config.false_interruption_timeout) {
        config.false_interruption_timeout =
            seconds_at(*t, "false_interruption_timeout", *config.false_interruption_timeout);
    }
    return config;
}

voice::SilenceSettings silence_of(const json::object& assistant) {
    voice::SilenceSettings s;
    const auto* on = assistant.if_contains("autonomous_silence_handling");
    s.enabled = on && on->is_bool() && on->as_bool();
    const auto* speech = object_at(assistant, "speech_config");
    const auto* silence = speech ? object_at(*speech, "silence") : nullptr;
    if (silence == nullptr) return s;
    if (const auto* m = silence->if_contains("messages"); m && m->is_array()) {
        for (const auto& text : m->as_array()) {
            if (text.is_string()) s.messages.emplace_back(text.as_string());
        }
    }
    s.final_message = string_at(*silence, "final_message");
    const auto whole_seconds = [&](std::string_view key, std::chrono::seconds fallback) {
        return std::chrono::duration_cast<std::chrono::seconds>(seconds_at(*silence, key, fallback));
    };
    s.first_check = whole_seconds("first_check_seconds", s.first_check);
    s.interval = whole_seconds("interval_seconds", s.interval);
    if (const auto* n = silence->if_contains("max_attempts"); n && n->is_int64()) {
        s.max_attempts = static_cast<int>(n->as_int64());
    }
    return s;
}

VoiceProviders::VoiceProviders(boost::asio::any_io_executor io,
                               store::Store& store,
                               const store::SecretBox& secrets)
    : io_(std::move(io)), keys_(store, secrets) {}

Result<std::string> VoiceProviders::api_key(const std::string& org_id,
                                            const std::string& provider) const {
    auto credential = keys_.find(org_id, provider);
    if (!credential) return credential.error();
    if (*credential) return (*credential)->api_key;
    // A deployment-wide key for organizations that bring none (e.g. TRUNKLINE_OPENAI_API_KEY).
    std::string name = "TRUNKLINE_" + provider + "_API_KEY";
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (const char* env = std::getenv(name.c_str())) return std::string(env);
    return std::string();  // local servers (vLLM, Ollama) often need none
}

Result<std::shared_ptr<voice::SpeechToText>> VoiceProviders::embedded_stt(
    std::vector<std::string> vocabulary) {
    std::sort(vocabulary.begin(), vocabulary.end());
    vocabulary.erase(std::unique(vocabulary.begin(), vocabulary.end()), vocabulary.end());
    std::lock_guard lock(mutex_);
    if (auto it = recognizers_.find(vocabulary); it != recognizers_.end()) return it->second;
    voice::SphinxRecognizerConfig config;
    config.vocabulary = vocabulary;
    auto recognizer = voice::SphinxRecognizer::create(config);
    if (!recognizer) return recognizer.error();
    recognizers_.emplace(std::move(vocabulary), *recognizer);
    return std::shared_ptr<voice::SpeechToText>(*recognizer);
}

Result<std::shared_ptr<voice::SpeechService>> VoiceProviders::speech_for(
    const std::string& org_id, const json::object& assistant) {
    const auto* tts = object_at(assistant, "tts_config");
    const std::string provider = tts ? string_at(*tts, "provider") : std::string();
    if (!tts || !voice::is_openai_compatible_provider(provider)) {
        return std::shared_ptr<voice::SpeechService>();
    }
    const std::string cache_key = org_id + "\n" + json::serialize(*tts);
    std::lock_guard lock(mutex_);
    if (auto it = speech_.find(cache_key); it != speech_.end()) return it->second;
    auto settings = voice::parse_openai_speech_settings(*tts);
    if (!settings) return settings.error();
    auto key = api_key(org_id, provider);
    if (!key) return key.error();
    settings->endpoint.api_key = std::move(*key);
    auto service = std::make_shared<voice::SpeechService>(
        voice::make_openai_text_to_speech(io_, std::move(*settings)), 2, 128);
    speech_.emplace(cache_key, service);
    return service;
}

Result<AssistantVoice> VoiceProviders::for_assistant(const std::string& org_id,
                                                     const json::object& assistant,
                                                     bool outbound) {
    const auto* llm = object_at(assistant, "llm_config");
    if (llm == nullptr) return make_error(Errc::kUnavailable, "the assistant has no llm_config");
    AssistantVoice out;
    out.turn_taking = turn_taking_of(assistant);
    auto& settings = out.settings;
    settings.messages = chat_messages(*llm);
    settings.first_message = string_at(assistant, "first_message");
    settings.end_call_message = string_at(assistant, "end_call_message");
    settings.silence = silence_of(assistant);
    if (const auto* vm = assistant.if_contains("voicemail_detection");
        outbound && vm && vm->is_bool() && vm->as_bool()) {
        settings.voicemail_detection = true;
        settings.voicemail_message = string_at(assistant, "voicemail_message");
    }
    if (const auto* tools = llm->if_contains("tools"); tools && tools->is_array()) {
        auto set = voice::ToolSet::from_config(tools->as_array());
        if (!set) return set.error();
        settings.tools = std::move(*set);
    }
    const auto* stt = object_at(assistant, "stt_config");
    settings.language = stt ? string_at(*stt, "language") : std::string();

    // The vocabulary the embedded recogniser listens for.
    std::vector<std::string> vocabulary;
    const std::string provider = string_at(*llm, "provider");
    if (provider == "scripted") {
        auto scripted = voice::parse_scripted_config(*llm);
        if (!scripted) return scripted.error();
        vocabulary = scripted->vocabulary();
        out.providers.llm = voice::make_scripted_language_model(io_, std::move(*scripted));
    } else if (voice::is_openai_compatible_provider(provider)) {
        auto chat = voice::parse_openai_chat_settings(*llm);
        if (!chat) return chat.error();
        auto key = api_key(org_id, provider);
        if (!key) return key.error();
        chat->endpoint.api_key = std::move(*key);
        out.providers.llm = voice::make_openai_language_model(io_, std::move(*chat));
    } else {
        return make_error(Errc::kUnavailable,
                          fmt::format("llm_config.provider '{}' has no conversation runtime here "
                                      "(scripted or an OpenAI-compatible provider)",
                                      provider));
    }
    // What callers say to name a destination ("sales", "pricing"), not its whole description.
    for (const auto& tool : settings.tools.tools()) {
        if (tool.kind != voice::ToolKind::kTransferCall) continue;
        for (const auto& entry : voice::destination_keywords(tool)) {
            vocabulary.insert(vocabulary.end(), entry.keywords.begin(), entry.keywords.end());
        }
    }
    if (settings.voicemail_detection) {
        for (auto& phrase : voice::voicemail_vocabulary()) vocabulary.push_back(std::move(phrase));
    }

    const std::string stt_provider = stt ? string_at(*stt, "provider") : std::string();
    if (stt && voice::is_openai_compatible_provider(stt_provider)) {
        auto transcription = voice::parse_openai_transcription_settings(*stt);
        if (!transcription) return transcription.error();
        auto key = api_key(org_id, stt_provider);
        if (!key) return key.error();
        transcription->endpoint.api_key = std::move(*key);
        out.providers.stt = voice::make_openai_speech_to_text(io_, std::move(*transcription));
    } else {
        if (vocabulary.empty()) {
            return make_error(Errc::kUnavailable,
                              "the embedded recogniser needs words to listen for (scripted rules "
                              "or transfer destinations)");
        }
        auto recognizer = embedded_stt(std::move(vocabulary));
        if (!recognizer) return recognizer.error();
        out.providers.stt = std::move(*recognizer);
    }
    return out;
}

}  // namespace tl::call
