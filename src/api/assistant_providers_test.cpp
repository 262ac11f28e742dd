#include "api/assistant_providers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "api/assistant_document.hpp"
#include "voice/providers/openai_settings.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

constexpr ProviderSlot kSlots[] = {ProviderSlot::kStt, ProviderSlot::kLlm, ProviderSlot::kTts};

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

store::SecretBox test_box() {
    return store::SecretBox::from_keys({store::SecretBox::parse_key(std::string(64, '1')).value()})
        .value();
}

// The lists must follow the runtime: every OpenAI-compatible name is accepted in every slot.
TEST(AssistantProviders, AcceptEveryOpenAiCompatibleNameInEverySlot) {
    for (const auto slot : kSlots) {
        std::set<std::string_view> accepted(accepted_providers(slot).begin(),
                                            accepted_providers(slot).end());
        for (const auto name : {"openai", "mistral", "xai", "groq", "openai_compatible"}) {
            ASSERT_TRUE(voice::is_openai_compatible_provider(name)) << name;
            EXPECT_TRUE(accepted.contains(name)) << slot_name(slot) << " " << name;
        }
    }
    EXPECT_TRUE(check_provider(ProviderSlot::kLlm, "scripted", "llm_config.provider"));
    EXPECT_TRUE(check_provider(ProviderSlot::kStt, "pocketsphinx", "stt_config.provider"));
    EXPECT_TRUE(check_provider(ProviderSlot::kTts, "espeak-ng", "tts_config.provider"));
    EXPECT_TRUE(check_provider(ProviderSlot::kTts, "espeak", "tts_config.provider"));
    EXPECT_TRUE(check_provider(ProviderSlot::kStt, "deepgram", "stt_config.provider"));
    EXPECT_TRUE(check_provider(ProviderSlot::kTts, "elevenlabs", "tts_config.provider"));
}

TEST(AssistantProviders, RefusesWithTheFieldValidValuesAndClosestMatch) {
    struct Case {
        ProviderSlot slot;
        const char* provider;
        const char* suggestion;  // "" when none
    };
    const Case cases[] = {
        {ProviderSlot::kLlm, "OpenAI", "openai"},
        {ProviderSlot::kLlm, "OPENAI", "openai"},
        {ProviderSlot::kLlm, "opnai", "openai"},
        {ProviderSlot::kLlm, "open_ai", "openai"},
        {ProviderSlot::kLlm, "Scripted", "scripted"},
        {ProviderSlot::kLlm, "grok", "groq"},
        {ProviderSlot::kLlm, "openai-compatible", "openai_compatible"},
        {ProviderSlot::kLlm, "anthropic", ""},
        {ProviderSlot::kLlm, "deepgram", ""},  // an HMS STT name is no language model
        {ProviderSlot::kLlm, "google", ""},    // HMS names a model Trunkline does not run
        {ProviderSlot::kLlm, "xai_realtime", ""},
        {ProviderSlot::kStt, "Deepgram", "deepgram"},
        {ProviderSlot::kStt, "sphinx", ""},
        {ProviderSlot::kStt, "pocketsphinks", "pocketsphinx"},
        {ProviderSlot::kStt, "whisper", ""},
        {ProviderSlot::kTts, "espeak_ng", "espeak-ng"},
        {ProviderSlot::kTts, "ElevenLabs", "elevenlabs"},
        {ProviderSlot::kTts, "anthropic", ""},
        {ProviderSlot::kTts, "", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(slot_name(c.slot)) + " " + c.provider);
        const std::string path = std::string(slot_name(c.slot)) + ".provider";
        auto st = check_provider(c.slot, c.provider, path);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.error().code, Errc::kUnsupportedProvider);
        EXPECT_EQ(st.error().field, path);
        const auto& message = st.error().message;
        EXPECT_NE(message.find(std::string("'") + c.provider + "' is not supported"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("openai_compatible"), std::string::npos) << message;
        const auto match = closest_provider(c.slot, c.provider);
        if (*c.suggestion == '\0') {
            EXPECT_FALSE(match) << *match;
            EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;
        } else {
            ASSERT_TRUE(match);
            EXPECT_EQ(*match, c.suggestion);
            EXPECT_NE(message.find(std::string("did you mean '") + c.suggestion + "'?"),
                      std::string::npos)
                << message;
        }
    }
}

TEST(AssistantProviders, EditDistanceGivesUpOnLongInput) {
    EXPECT_FALSE(closest_provider(ProviderSlot::kLlm, std::string(128, 'o')));
    EXPECT_FALSE(closest_provider(ProviderSlot::kLlm, "openaiopenai"));
}

TEST(AssistantProviders, EnvironmentVariableNameIsTheRuntimes) {
    EXPECT_EQ(provider_key_env_var("openai"), "TRUNKLINE_OPENAI_API_KEY");
    EXPECT_EQ(provider_key_env_var("openai_compatible"), "TRUNKLINE_OPENAI_COMPATIBLE_API_KEY");
}

TEST(AssistantProviders, WarnsAboutKeylessNetworkProvidersBySlot) {
    const auto doc = obj(R"({
        "stt_config": {"provider": "groq", "model": "whisper-large-v3"},
        "llm_config": {"provider": "openai", "model": "gpt-4o-mini"},
        "tts_config": {"provider": "openai", "model": "tts-1", "voice_id": "alloy"}})");
    EXPECT_EQ(providers_needing_keys(doc), (std::vector<std::string>{"groq", "openai"}));

    const auto none = [](std::string_view) { return false; };
    const auto warnings = provider_warnings(doc, none);
    ASSERT_EQ(warnings.size(), 3u);
    EXPECT_TRUE(warnings[0].starts_with("stt_config: provider groq has no API key")) << warnings[0];
    EXPECT_NE(warnings[0].find("TRUNKLINE_GROQ_API_KEY"), std::string::npos);
    EXPECT_TRUE(warnings[1].starts_with("llm_config: provider openai has no API key"))
        << warnings[1];
    EXPECT_NE(warnings[1].find("POST /api/v1/byok"), std::string::npos);
    EXPECT_NE(warnings[1].find("TRUNKLINE_OPENAI_API_KEY"), std::string::npos);
    EXPECT_TRUE(warnings[2].starts_with("tts_config: provider openai")) << warnings[2];

    const auto openai_only = [](std::string_view p) { return p == "openai"; };
    const auto rest = provider_warnings(doc, openai_only);
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_TRUE(rest[0].starts_with("stt_config: provider groq")) << rest[0];
}

TEST(AssistantProviders, NoKeyWarningWithBaseUrlOrWithoutNetwork) {
    const auto none = [](std::string_view) { return false; };
    const char* const quiet[] = {
        R"({"name": "x"})",
        R"({"llm_config": {"provider": "scripted", "rules": []}})",
        R"({"llm_config": {"provider": "openai", "model": "m",
                                "base_url": "http://127.0.0.1:8000/v1"}})",
        R"({"llm_config": {"provider": "openai_compatible", "model": "m",
                                "base_url": "http://127.0.0.1:8000/v1"}})",
        R"({"stt_config": {"provider": "pocketsphinx"}, "tts_config": {"provider": "espeak"}})",
        R"({"stt_config": {"language": "nl"}, "tts_config": {"provider": null}})",
        R"({"llm_config": null, "stt_config": null})",
    };
    for (const auto* text : quiet) {
        SCOPED_TRACE(text);
        const auto doc = obj(text);
        EXPECT_TRUE(providers_needing_keys(doc).empty());
        EXPECT_TRUE(provider_warnings(doc, none).empty());
    }
}

TEST(AssistantProviders, WarnsAboutHmsSubstitutesAndStoredUnsupportedProviders) {
    const auto all = [](std::string_view) { return true; };
    const auto doc = obj(R"({
        "stt_config": {"provider": "deepgram", "model": "nova-3"},
        "llm_config": {"provider": "OpenAI", "model": "gpt-4o-mini"},
        "tts_config": {"provider": "elevenlabs", "voice_id": "v"}})");
    EXPECT_TRUE(providers_needing_keys(doc).empty());
    const auto warnings = provider_warnings(doc, all);
    ASSERT_EQ(warnings.size(), 3u);
    EXPECT_TRUE(warnings[0].starts_with("stt_config: provider deepgram is not built into"))
        << warnings[0];
    EXPECT_NE(warnings[0].find("pocketsphinx"), std::string::npos);
    EXPECT_TRUE(
        warnings[1].starts_with("llm_config: llm_config.provider 'OpenAI' is not supported"))
        << warnings[1];
    EXPECT_NE(warnings[1].find("did you mean 'openai'?"), std::string::npos);
    EXPECT_TRUE(warnings[2].starts_with("tts_config: provider elevenlabs is not built into"))
        << warnings[2];
    EXPECT_NE(warnings[2].find("espeak-ng"), std::string::npos);
}

// The document validator refuses what the runtime cannot run, naming the slot's provider.
TEST(AssistantProviders, DocumentValidationChecksEverySlot) {
    const auto box = test_box();
    struct Case {
        const char* body;
        Errc code;
        const char* field;
    };
    const Case cases[] = {
        {R"({"name": "a", "llm_config": {"provider": "OpenAI", "model": "m"}})",
         Errc::kUnsupportedProvider, "llm_config.provider"},
        {R"({"name": "a", "llm_config": {"provider": "anthropic", "model": "m"}})",
         Errc::kUnsupportedProvider, "llm_config.provider"},
        {R"({"name": "a", "stt_config": {"provider": "Deepgram"}})", Errc::kUnsupportedProvider,
         "stt_config.provider"},
        {R"({"name": "a", "tts_config": {"provider": "anthropic"}})", Errc::kUnsupportedProvider,
         "tts_config.provider"},
        {R"({"name": "a", "tts_config": {"provider": 5}})", Errc::kInvalidRequest,
         "tts_config.provider"},
        {R"({"name": "a", "stt_config": {"provider": "openai"}})", Errc::kMissingField,
         "stt_config.model"},
        {R"({"name": "a", "tts_config": {"provider": "openai", "model": "tts-1"}})",
         Errc::kMissingField, "tts_config.voice_id"},
        {R"({"name": "a", "tts_config": {"provider": "openai_compatible", "model": "m",
             "voice_id": "v"}})",
         Errc::kMissingField, "tts_config.base_url"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.body);
        auto doc = merge_assistant_document(obj(c.body), {}, true, box);
        ASSERT_FALSE(doc);
        EXPECT_EQ(doc.error().code, c.code) << doc.error().message;
        EXPECT_EQ(doc.error().field, c.field);
    }
    const char* const accepted[] = {
        R"({"name": "a", "llm_config": {"provider": "scripted", "rules": [
                 {"when": ["hi"], "reply": "Hello"}]}})",
        R"({"name": "a", "stt_config": {"provider": "deepgram", "model": "nova-3"},
                 "tts_config": {"provider": "espeak"}})",
        R"({"name": "a", "stt_config": {"provider": "pocketsphinx"},
                 "tts_config": {"provider": "espeak-ng", "language": "nl"}})",
        R"({"name": "a", "stt_config": {"provider": "mistral", "model": "voxtral-mini-latest"},
                 "tts_config": {"provider": "openai", "model": "tts-1", "voice_id": "alloy"},
                 "llm_config": {"provider": "groq", "model": "llama-3.3-70b-versatile"}})",
    };
    for (const auto* ok : accepted) {
        SCOPED_TRACE(ok);
        auto doc = merge_assistant_document(obj(ok), {}, true, box);
        EXPECT_TRUE(doc) << doc.error().message;
    }
}

}  // namespace
}  // namespace tl::api
