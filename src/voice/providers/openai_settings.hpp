#pragma once
// Which OpenAI-compatible server a provider talks to and how, from an assistant's `llm_config`,
// `stt_config` or `tts_config`. The key is not in the config: the caller sets
// `endpoint.api_key` from the organization's BYOK store or an environment variable.
//
// Providers and their default base URLs (any of them may set `base_url` instead):
//   openai             https://api.openai.com/v1
//   mistral            https://api.mistral.ai/v1
//   xai                https://api.x.ai/v1
//   groq               https://api.groq.com/openai/v1
//   openai_compatible  none: `base_url` is required (vLLM, Ollama, llama.cpp server,
//                      faster-whisper-server, Piper or Kokoro servers, ...)

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "net/tls_client_context.hpp"
#include "voice/providers/openai_audio_wire.hpp"
#include "voice/providers/openai_chat_wire.hpp"

namespace tl::voice {

// The base URL of a known provider, nullopt for openai_compatible and unknown names.
std::optional<std::string_view> default_base_url(std::string_view provider);
// True for the providers above (the names the network providers accept).
bool is_openai_compatible_provider(std::string_view provider);

struct OpenAiEndpoint {
    std::string provider;                      // "openai", ... (for messages)
    std::string base_url;                      // http(s)://host[:port]/path, without a trailing '/'
    std::string api_key;                       // "" sends no Authorization header (local servers)
    std::optional<net::TlsClientContext> tls;  // nullopt: the system CA store
};

struct OpenAiChatSettings {
    OpenAiEndpoint endpoint;
    ChatOptions options;
    // From the request until the first byte of the reply's body (connect and TLS included).
    std::chrono::milliseconds first_byte_timeout{15'000};
    // Between two pieces of a streamed reply.
    std::chrono::milliseconds idle_timeout{15'000};
    // The whole reply.
    std::chrono::milliseconds total_timeout{120'000};
};

struct OpenAiTranscriptionSettings {
    OpenAiEndpoint endpoint;
    TranscriptionOptions options;
    std::chrono::milliseconds timeout{30'000};
};

struct OpenAiSpeechSettings {
    OpenAiEndpoint endpoint;
    SpeechOptions options;
    std::chrono::milliseconds timeout{30'000};
};

// llm_config: provider, model (required), base_url, temperature (0-2), max_completion_tokens
// (1-32768; sent as max_completion_tokens to openai, as max_tokens to the others). Other fields
// (messages, tools, ...) are the caller's.
Result<OpenAiChatSettings> parse_openai_chat_settings(const boost::json::object& llm_config,
                                                      const std::string& path = "llm_config");

// stt_config: provider, model (required), base_url, language, keyterms (sent as the prompt,
// comma-separated).
Result<OpenAiTranscriptionSettings> parse_openai_transcription_settings(
    const boost::json::object& stt_config, const std::string& path = "stt_config");

// tts_config: provider, model (required), voice_id (required, sent as voice), base_url,
// speed (0.25-4), response_format ("wav" default, or "pcm": 16-bit 24 kHz).
Result<OpenAiSpeechSettings> parse_openai_speech_settings(const boost::json::object& tts_config,
                                                          const std::string& path = "tts_config");

}  // namespace tl::voice
