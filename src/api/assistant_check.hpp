#pragma once
// GET /assistants/{id}/check: whether each provider of an assistant would work on a call right
// now, found by asking it (provider_probes.hpp), as
//   {"llm": {"provider", "status", "message"}, "stt": {...}, "tts": {...}}
// status: ok | auth_failed | unreachable | not_configured. not_configured: the slot has no
// config, its provider has no runtime here, its config is refused, or a network provider with a
// public default URL has no key (no BYOK key, no TRUNKLINE_<PROVIDER>_API_KEY) and no base_url.
// Slots are chosen as a call chooses them (call/voice_providers.cpp): an stt or tts config
// without an OpenAI-compatible provider is served by the embedded engine, and checked as such.
//
// Thread-safety: blocks the calling thread for the probes (run concurrently, each bounded by
// `timeout`); never call on an io thread. Uses a private io_context and thread for the network.

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

namespace tl::api {

// The key a call would send to `provider` (BYOK, then the environment); "" when there is none.
using ProviderKeyLookup = std::function<Result<std::string>(const std::string& provider)>;

// The lookup a call makes (call/voice_providers.cpp): the organization's BYOK key, else this
// process's TRUNKLINE_<PROVIDER>_API_KEY. Keeps references to `store` and `secrets`.
ProviderKeyLookup call_key_lookup(store::Store& store,
                                  const store::SecretBox& secrets,
                                  std::string org_id);

struct AssistantCheckOptions {
    // Per probe; the three run at once, so the whole check takes about this long (twice at worst:
    // a 5xx answered slowly, then retried once, as calls do).
    std::chrono::milliseconds timeout{5000};
};

// `document`: the stored assistant configuration. Fails only when a key lookup fails.
Result<boost::json::object> check_assistant_providers(const boost::json::object& document,
                                                      const ProviderKeyLookup& key_of,
                                                      const AssistantCheckOptions& options);

}  // namespace tl::api
