#pragma once
// Which providers an assistant's stt_config, llm_config and tts_config may name, and what a call
// with a valid configuration would still lack (docs/providers.md "What the API checks").
//
// The lists are the conversation runtime's (call/voice_providers.cpp), so a provider that would
// give a call dead air is refused when the assistant is written, not discovered on a call:
//   llm  scripted (embedded rules), openai, mistral, xai, groq, openai_compatible
//   stt  pocketsphinx (the embedded recogniser, also used when no provider is named) and the
//        OpenAI-compatible names; the HMS catalog's deepgram, elevenlabs, gladia and google are
//        accepted for compatibility and transcribed by pocketsphinx (with a warning)
//   tts  espeak-ng / espeak (the embedded voice, also used when no provider is named) and the
//        OpenAI-compatible names; the HMS catalog's elevenlabs, 11labs, inworld and google are
//        accepted for compatibility and spoken by espeak-ng (with a warning)
//
// Thread-safety: stateless; everything here may be called from any thread.

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tl::api {

enum class ProviderSlot { kStt, kLlm, kTts };

// "stt_config", "llm_config" or "tts_config".
std::string_view slot_name(ProviderSlot slot);

// Every value `slot`'s provider may take, in the order error messages list them: first what the
// runtime drives itself, then the names accepted only for HMS compatibility (stt and tts).
std::span<const std::string_view> accepted_providers(ProviderSlot slot);

// The accepted value closest to `provider`: equal ignoring ASCII case, else the nearest within
// an edit distance of 2 (ASCII case ignored; the first in list order on a tie). nullopt: none.
std::optional<std::string_view> closest_provider(ProviderSlot slot, std::string_view provider);

// kUnsupportedProvider with field `path` (e.g. "llm_config.provider") when `provider` is not
// accepted for `slot`; the message lists the accepted values and the closest match. Case matters:
// "OpenAI" is refused ("did you mean 'openai'?").
Status check_provider(ProviderSlot slot, std::string_view provider, const std::string& path);

// The environment variable that gives the whole deployment a key for `provider`, as the runtime
// reads it: TRUNKLINE_<PROVIDER>_API_KEY ("openai" -> TRUNKLINE_OPENAI_API_KEY).
std::string provider_key_env_var(std::string_view provider);

// Whether the organization or the deployment holds a key for a provider.
using HasProviderKey = std::function<bool(std::string_view provider)>;

// The providers of `document` (a stored assistant document) that need a key: a network provider
// with a public default base URL (openai, mistral, xai, groq) and no `base_url` of its own (a
// custom server may need none). One entry per provider, in slot order stt, llm, tts.
std::vector<std::string> providers_needing_keys(const boost::json::object& document);

// Sentences about what a call with `document` would lack or substitute, each naming the slot and
// what to do: a network provider without a key (`has_key` false), an HMS provider answered by the
// embedded engine, and a provider no longer accepted (stored before the check existed). Empty
// when there is nothing to say.
std::vector<std::string> provider_warnings(const boost::json::object& document,
                                           const HasProviderKey& has_key);

}  // namespace tl::api
