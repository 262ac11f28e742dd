#include "voice/providers/openai_settings.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/json/array.hpp>
#include <utility>

#include "net/http_url.hpp"

namespace tl::voice {
namespace {

namespace json = boost::json;

constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kBaseUrls{{
    {"openai", "https://api.openai.com/v1"},
    {"mistral", "https://api.mistral.ai/v1"},
    {"xai", "https://api.x.ai/v1"},
    {"groq", "https://api.groq.com/openai/v1"},
}};
constexpr std::string_view kCompatible = "openai_compatible";

Error invalid(const std::string& path, const std::string& why) {
    return make_error(Errc::kInvalidRequest, path + " " + why, path);
}

Result<std::string> string_field(const json::object& o,
                                 std::string_view key,
                                 const std::string& path,
                                 bool required) {
    const auto field = path + "." + std::string(key);
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        if (required) return make_error(Errc::kMissingField, field + " is required", field);
        return std::string();
    }
    if (!v->is_string() || v->get_string().empty())
        return invalid(field, "must be a non-empty string");
    return std::string(v->get_string());
}

Result<std::optional<double>> number_field(
    const json::object& o, std::string_view key, const std::string& path, double min, double max) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return std::optional<double>();
    const auto field = path + "." + std::string(key);
    if (!v->is_number()) return invalid(field, "must be a number");
    const double d = v->to_number<double>();
    if (d < min || d > max) return invalid(field, fmt::format("must be from {} to {}", min, max));
    return std::optional<double>(d);
}

Result<OpenAiEndpoint> parse_endpoint(const json::object& cfg, const std::string& path) {
    OpenAiEndpoint e;
    auto provider = string_field(cfg, "provider", path, true);
    if (!provider) return provider.error();
    if (!is_openai_compatible_provider(*provider)) {
        return invalid(path + ".provider",
                       "must be one of: openai, mistral, xai, groq, openai_compatible");
    }
    e.provider = *provider;
    auto base_url = string_field(cfg, "base_url", path, *provider == kCompatible);
    if (!base_url) return base_url.error();
    if (base_url->empty()) {
        e.base_url = std::string(*default_base_url(*provider));
    } else {
        if (auto url = net::parse_http_url(*base_url); !url) {
            return invalid(path + ".base_url",
                           "must be an http:// or https:// URL: " + url.error().message);
        }
        e.base_url = std::move(*base_url);
        while (!e.base_url.empty() && e.base_url.back() == '/') e.base_url.pop_back();
    }
    return e;
}

}  // namespace

std::optional<std::string_view> default_base_url(std::string_view provider) {
    for (const auto& [name, url] : kBaseUrls) {
        if (name == provider) return url;
    }
    return std::nullopt;
}

bool is_openai_compatible_provider(std::string_view provider) {
    return provider == kCompatible || default_base_url(provider).has_value();
}

Result<OpenAiChatSettings> parse_openai_chat_settings(const json::object& llm_config,
                                                      const std::string& path) {
    OpenAiChatSettings s;
    auto endpoint = parse_endpoint(llm_config, path);
    if (!endpoint) return endpoint.error();
    s.endpoint = std::move(*endpoint);
    auto model = string_field(llm_config, "model", path, true);
    if (!model) return model.error();
    s.options.model = std::move(*model);
    auto temperature = number_field(llm_config, "temperature", path, 0, 2);
    if (!temperature) return temperature.error();
    s.options.temperature = *temperature;
    if (const auto* m = llm_config.if_contains("max_completion_tokens"); m && !m->is_null()) {
        if (!m->is_int64() || m->get_int64() < 1 || m->get_int64() > 32768) {
            return invalid(path + ".max_completion_tokens", "must be an integer from 1 to 32768");
        }
        s.options.max_tokens = static_cast<int>(m->get_int64());
    }
    s.options.max_tokens_field =
        s.endpoint.provider == "openai" ? "max_completion_tokens" : "max_tokens";
    s.options.stream = true;
    return s;
}

Result<OpenAiTranscriptionSettings> parse_openai_transcription_settings(
    const json::object& stt_config, const std::string& path) {
    OpenAiTranscriptionSettings s;
    auto endpoint = parse_endpoint(stt_config, path);
    if (!endpoint) return endpoint.error();
    s.endpoint = std::move(*endpoint);
    auto model = string_field(stt_config, "model", path, true);
    if (!model) return model.error();
    s.options.model = std::move(*model);
    auto language = string_field(stt_config, "language", path, false);
    if (!language) return language.error();
    s.options.language = std::move(*language);
    if (const auto* k = stt_config.if_contains("keyterms"); k && !k->is_null()) {
        if (!k->is_array()) return invalid(path + ".keyterms", "must be an array of strings");
        for (const auto& term : k->get_array()) {
            if (!term.is_string())
                return invalid(path + ".keyterms", "must be an array of strings");
            s.options.prompt +=
                (s.options.prompt.empty() ? "" : ", ") + std::string(term.get_string());
        }
    }
    return s;
}

Result<OpenAiSpeechSettings> parse_openai_speech_settings(const json::object& tts_config,
                                                          const std::string& path) {
    OpenAiSpeechSettings s;
    auto endpoint = parse_endpoint(tts_config, path);
    if (!endpoint) return endpoint.error();
    s.endpoint = std::move(*endpoint);
    auto model = string_field(tts_config, "model", path, true);
    if (!model) return model.error();
    s.options.model = std::move(*model);
    auto voice = string_field(tts_config, "voice_id", path, true);
    if (!voice) return voice.error();
    s.options.voice = std::move(*voice);
    auto speed = number_field(tts_config, "speed", path, 0.25, 4);
    if (!speed) return speed.error();
    s.options.speed = *speed;
    auto format = string_field(tts_config, "response_format", path, false);
    if (!format) return format.error();
    if (!format->empty()) {
        if (*format != "wav" && *format != "pcm") {
            return invalid(path + ".response_format", "must be wav or pcm");
        }
        s.options.response_format = std::move(*format);
    }
    return s;
}

}  // namespace tl::voice
