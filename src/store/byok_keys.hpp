#pragma once
// Organization provider keys (BYOK, api-contract.md §4.12): the providers Trunkline accepts keys
// for, and the accessor the conversation runtime uses to get an organization's key in clear.
//
// Thread-safety: the provider table is immutable; ByokKeys holds references only and may be used
// from any thread (Store and SecretBox are thread-safe).

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

namespace tl::store {

struct ByokModel {
    std::string_view id;
    std::string_view name;
    bool is_default = false;
};

// One provider of the catalog GET /byok/config shows (api-contract.md §2). The models are the
// ones the HMS catalog names (api-contract.md §3); informational, Trunkline does not restrict them.
struct ByokProvider {
    std::string_view id;    // "openai": the API's `provider` value, `<id>_secret_id` in listings
    std::string_view name;  // "OpenAI"
    std::string_view category;  // what the key is mostly used for: stt | llm | tts | email
    std::string_view docs_url;  // empty when there is none (self-hosted servers)
    std::span<const ByokModel> models;
};

// Every provider, in the order the API lists them: the ten of the HMS API, then groq and
// openai_compatible (self-hosted OpenAI-compatible servers: vLLM, Ollama, llama.cpp, ...).
std::span<const ByokProvider> byok_providers();
const ByokProvider* find_byok_provider(std::string_view id);

// An organization's key for one provider, ready for a provider client. Never log it.
struct ByokCredential {
    std::string provider;
    std::string api_key;      // unsealed
    std::string config_json;  // the provider's non-secret settings (a JSON object)
};

class ByokKeys {
public:
    ByokKeys(Store& store, const SecretBox& secrets) : store_(store), secrets_(secrets) {}

    // The organization's credential for `provider`; nullopt when it stored none (the caller then
    // falls back to a deployment-wide key or fails the provider). kInternal when the sealed key
    // cannot be opened (wrong or missing master key); the error never contains key material.
    Result<std::optional<ByokCredential>> find(const std::string& org_id,
                                               const std::string& provider) const;

    // find(...) reduced to the key.
    Result<std::optional<std::string>> api_key(const std::string& org_id,
                                               const std::string& provider) const;

private:
    Store& store_;
    const SecretBox& secrets_;
};

}  // namespace tl::store
