#pragma once
// API keys: generation, hashing and authentication. Only the SHA-256 of a key is stored; keys are
// 256-bit random, so a fast hash is enough (no password stretching needed) and lookups are O(1).
// Thread-safe.

#include "common/error.hpp"
#include "store/store.hpp"

#include <string>
#include <string_view>

namespace tl::api {

inline constexpr std::string_view kApiKeyPrefix = "tl_live_";
inline constexpr std::size_t kApiKeyShownPrefix = 12;  // "tl_live_" + 4 characters, for listings

std::string hash_api_key(std::string_view key);

struct NewApiKey {
    std::string key;  // shown once
    store::ApiKey record;
};

// Creates a key for `org_id` and stores its hash.
Result<NewApiKey> issue_api_key(store::Store& store, const std::string& org_id);

// Finds the organization of `org_name`, creating it when missing.
Result<store::Organization> ensure_organization(store::Store& store, const std::string& org_name);

class Authenticator {
public:
    explicit Authenticator(store::Store& store) : store_(store) {}

    // kUnauthorized for a missing/unknown key, kApiKeyRevoked for a revoked one.
    Result<store::ApiKeyIdentity> authenticate(std::string_view authorization_header) const;

private:
    store::Store& store_;
};

}  // namespace tl::api
