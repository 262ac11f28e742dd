#pragma once
// Which speech and language providers a call's conversation uses, from its assistant's
// `stt_config` and `llm_config` (DESIGN.md "Voice providers"), with the organization's BYOK key
// (else the deployment's `TRUNKLINE_<PROVIDER>_API_KEY` environment variable) for network ones.
//   - llm_config.provider "scripted": the embedded rules (no network); an OpenAI-compatible
//     provider (openai, mistral, xai, groq, openai_compatible): streaming chat completions.
//     No llm_config, or another provider: no conversation (the assistant only greets), said in
//     the returned error.
//   - stt_config.provider OpenAI-compatible: /audio/transcriptions; anything else (or none):
//     the embedded PocketSphinx recogniser over the assistant's vocabulary (scripted phrases,
//     transfer destination descriptions), one recogniser per vocabulary, shared by calls.
//
// Thread-safety: for_assistant() may be called from any thread (the recogniser cache is locked).

#include "store/byok_keys.hpp"
#include "store/store.hpp"
#include "voice/conversation/conversation.hpp"
#include "voice/listening/sphinx_recognizer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tl::call {

struct AssistantVoice {
    voice::ConversationProviders providers;
    voice::ConversationSettings settings;
    voice::TurnTakingConfig turn_taking;
};

class VoiceProviders {
public:
    VoiceProviders(boost::asio::any_io_executor io, store::Store& store, const store::SecretBox& secrets);

    // kUnavailable with the reason when the assistant cannot converse here.
    // `outbound`: voicemail detection applies (and its phrases join the recogniser's vocabulary).
    Result<AssistantVoice> for_assistant(const std::string& org_id,
                                         const boost::json::object& assistant,
                                         bool outbound);

    // The assistant's own speech service when its tts_config names an OpenAI-compatible provider
    // (/audio/speech), shared by calls with the same settings; nullptr: the server's espeak-ng.
    Result<std::shared_ptr<voice::SpeechService>> speech_for(const std::string& org_id,
                                                            const boost::json::object& assistant);

private:
    Result<std::string> api_key(const std::string& org_id, const std::string& provider) const;
    Result<std::shared_ptr<voice::SpeechToText>> embedded_stt(std::vector<std::string> vocabulary);

    boost::asio::any_io_executor io_;
    store::ByokKeys keys_;
    std::mutex mutex_;
    std::map<std::vector<std::string>, std::shared_ptr<voice::SphinxRecognizer>> recognizers_;
    std::map<std::string, std::shared_ptr<voice::SpeechService>> speech_;  // org + tts_config
};

// speech_config.turn_taking and .silence (api-contract.md §3.5) with their defaults.
voice::TurnTakingConfig turn_taking_of(const boost::json::object& assistant);
voice::SilenceSettings silence_of(const boost::json::object& assistant);

}  // namespace tl::call
