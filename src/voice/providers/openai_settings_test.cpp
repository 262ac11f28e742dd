#include "voice/providers/openai_settings.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace tl::voice {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(OpenAiSettings, ChatDefaultsAndTokenField) {
    auto openai = parse_openai_chat_settings(obj(
        R"({"provider":"openai","model":"gpt-4o-mini","temperature":0.7,"max_completion_tokens":300,
                "messages":[],"tools":[]})"));
    ASSERT_TRUE(openai) << openai.error().message;
    EXPECT_EQ(openai->endpoint.base_url, "https://api.openai.com/v1");
    EXPECT_EQ(openai->options.model, "gpt-4o-mini");
    EXPECT_EQ(openai->options.temperature, 0.7);
    EXPECT_EQ(openai->options.max_tokens, 300);
    EXPECT_EQ(openai->options.max_tokens_field, "max_completion_tokens");
    EXPECT_TRUE(openai->options.stream);
    EXPECT_TRUE(openai->endpoint.api_key.empty());

    auto groq = parse_openai_chat_settings(
        obj(R"({"provider":"groq","model":"llama-3.3-70b-versatile","max_completion_tokens":50})"));
    ASSERT_TRUE(groq);
    EXPECT_EQ(groq->endpoint.base_url, "https://api.groq.com/openai/v1");
    EXPECT_EQ(groq->options.max_tokens_field, "max_tokens");

    auto ollama = parse_openai_chat_settings(obj(
        R"({"provider":"openai_compatible","model":"llama3.2","base_url":"http://localhost:11434/v1/"})"));
    ASSERT_TRUE(ollama);
    EXPECT_EQ(ollama->endpoint.base_url, "http://localhost:11434/v1");
    EXPECT_FALSE(ollama->options.temperature);

    EXPECT_EQ(default_base_url("mistral"), "https://api.mistral.ai/v1");
    EXPECT_EQ(default_base_url("xai"), "https://api.x.ai/v1");
    EXPECT_FALSE(default_base_url("openai_compatible"));
    EXPECT_TRUE(is_openai_compatible_provider("openai_compatible"));
    EXPECT_FALSE(is_openai_compatible_provider("scripted"));
}

TEST(OpenAiSettings, Errors) {
    struct Case {
        std::string_view config;
        std::string message;
    };
    for (const auto& c : std::initializer_list<Case>{
             {R"({"model":"m"})", "llm_config.provider is required"},
             {R"({"provider":"scripted","model":"m"})",
              "llm_config.provider must be one of: openai, mistral, xai, groq, openai_compatible"},
             {R"({"provider":"openai"})", "llm_config.model is required"},
             {R"({"provider":"openai_compatible","model":"m"})", "llm_config.base_url is required"},
             {R"({"provider":"openai","model":"m","base_url":"ftp://x"})",
              "llm_config.base_url must be an http:// or https:// URL"},
             {R"({"provider":"openai","model":"m","temperature":3})",
              "llm_config.temperature must be from 0 to 2"},
             {R"({"provider":"openai","model":"m","max_completion_tokens":0})",
              "llm_config.max_completion_tokens must be an integer from 1 to 32768"},
         }) {
        auto s = parse_openai_chat_settings(obj(c.config));
        ASSERT_FALSE(s) << c.config;
        EXPECT_NE(s.error().message.find(c.message), std::string::npos) << s.error().message;
    }
}

TEST(OpenAiSettings, TranscriptionAndSpeech) {
    auto stt = parse_openai_transcription_settings(obj(
        R"({"provider":"mistral","model":"voxtral-mini-latest","language":"nl","keyterms":["Acme","Trunkline"]})"));
    ASSERT_TRUE(stt) << stt.error().message;
    EXPECT_EQ(stt->endpoint.base_url, "https://api.mistral.ai/v1");
    EXPECT_EQ(stt->options.model, "voxtral-mini-latest");
    EXPECT_EQ(stt->options.language, "nl");
    EXPECT_EQ(stt->options.prompt, "Acme, Trunkline");
    EXPECT_FALSE(
        parse_openai_transcription_settings(obj(R"({"provider":"deepgram","model":"nova-3"})")));

    auto tts = parse_openai_speech_settings(
        obj(R"({"provider":"openai","model":"tts-1","voice_id":"alloy","speed":1.5})"));
    ASSERT_TRUE(tts) << tts.error().message;
    EXPECT_EQ(tts->options.voice, "alloy");
    EXPECT_EQ(tts->options.speed, 1.5);
    EXPECT_EQ(tts->options.response_format, "wav");
    auto pcm = parse_openai_speech_settings(obj(
        R"({"provider":"openai_compatible","base_url":"http://kokoro:8880/v1","model":"kokoro","voice_id":"af_bella","response_format":"pcm"})"));
    ASSERT_TRUE(pcm);
    EXPECT_EQ(pcm->options.response_format, "pcm");
    auto no_voice = parse_openai_speech_settings(obj(R"({"provider":"openai","model":"tts-1"})"));
    ASSERT_FALSE(no_voice);
    EXPECT_EQ(no_voice.error().message, "tts_config.voice_id is required");
    EXPECT_FALSE(parse_openai_speech_settings(
        obj(R"({"provider":"openai","model":"tts-1","voice_id":"a","response_format":"mp3"})")));
}

}  // namespace
}  // namespace tl::voice
