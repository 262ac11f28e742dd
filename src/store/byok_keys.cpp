#include "store/byok_keys.hpp"

#include <array>

namespace tl::store {
namespace {

constexpr ByokModel kDeepgram[] = {{"nova-3", "Nova-3", true},
                                   {"nova-3-general", "Nova-3 General", false}};
constexpr ByokModel kOpenAi[] = {{"gpt-5.4", "GPT-5.4", true},
                                 {"gpt-5.4-mini", "GPT-5.4 mini", false},
                                 {"gpt-5.4-nano", "GPT-5.4 nano", false},
                                 {"gpt-4.1", "GPT-4.1", false},
                                 {"gpt-4.1-mini", "GPT-4.1 mini", false},
                                 {"gpt-4o-mini", "GPT-4o mini", false}};
constexpr ByokModel kElevenLabs[] = {{"eleven_flash_v2_5", "Eleven Flash v2.5", true},
                                     {"eleven_multilingual_v2", "Eleven Multilingual v2", false},
                                     {"eleven_turbo_v2_5", "Eleven Turbo v2.5", false},
                                     {"scribe_v2_realtime", "Scribe v2 Realtime (STT)", false}};
constexpr ByokModel kXai[] = {{"grok-4.3", "Grok 4.3", true}};
constexpr ByokModel kGladia[] = {{"solaria-1", "Solaria-1", true}};
constexpr ByokModel kMistral[] = {{"mistral-medium-latest", "Mistral Medium", false},
                                  {"mistral-small-latest", "Mistral Small", false},
                                  {"mistral-large-latest", "Mistral Large", false},
                                  {"voxtral-mini-latest", "Voxtral Mini (STT)", false}};
constexpr ByokModel kGoogle[] = {{"gemini-2.5-flash", "Gemini 2.5 Flash", false},
                                 {"gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", false},
                                 {"chirp_3", "Chirp 3 (STT)", false}};

constexpr std::array<ByokProvider, 12> kProviders = {{
    {"deepgram", "Deepgram", "stt", "https://developers.deepgram.com/docs", kDeepgram},
    {"openai", "OpenAI", "llm", "https://platform.openai.com/docs", kOpenAi},
    {"elevenlabs", "ElevenLabs", "tts", "https://elevenlabs.io/docs", kElevenLabs},
    {"inworld", "Inworld", "tts", "https://docs.inworld.ai", {}},
    {"resend", "Resend", "email", "https://resend.com/docs", {}},
    {"xai", "xAI", "llm", "https://docs.x.ai", kXai},
    {"gladia", "Gladia", "stt", "https://docs.gladia.io", kGladia},
    {"mistral", "Mistral AI", "llm", "https://docs.mistral.ai", kMistral},
    {"google", "Google AI (Gemini API)", "llm", "https://ai.google.dev/gemini-api/docs", kGoogle},
    {"google_vertex", "Google Vertex AI", "llm", "https://cloud.google.com/vertex-ai/docs", {}},
    {"groq", "Groq", "llm", "https://console.groq.com/docs", {}},
    {"openai_compatible", "OpenAI-compatible server (vLLM, Ollama, llama.cpp, ...)", "llm", "", {}},
}};

}  // namespace

std::span<const ByokProvider> byok_providers() { return kProviders; }

const ByokProvider* find_byok_provider(std::string_view id) {
    for (const auto& p : kProviders) {
        if (p.id == id) return &p;
    }
    return nullptr;
}

Result<std::optional<ByokCredential>> ByokKeys::find(const std::string& org_id,
                                                     const std::string& provider) const {
    auto key = store_.get_byok_key(org_id, provider);
    if (!key) {
        if (key.error().code == Errc::kNotFound) return std::optional<ByokCredential>();
        return key.error();
    }
    auto plain = secrets_.unseal(key->key_sealed);
    if (!plain) {
        return make_error(Errc::kInternal,
                          "the " + provider + " BYOK key of the organization cannot be unsealed: " +
                              plain.error().message);
    }
    return std::optional<ByokCredential>(
        ByokCredential{key->provider, std::move(*plain), std::move(key->config_json)});
}

Result<std::optional<std::string>> ByokKeys::api_key(const std::string& org_id,
                                                     const std::string& provider) const {
    auto found = find(org_id, provider);
    if (!found) return found.error();
    if (!*found) return std::optional<std::string>();
    return std::optional<std::string>(std::move((*found)->api_key));
}

}  // namespace tl::store
