#include "api/api_keys.hpp"

#include "common/clock.hpp"
#include "common/ids.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace tl::api {

std::string hash_api_key(std::string_view key) {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(key.data()),
                       key.size());
    std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    return std::string(hex.data(), crypto_hash_sha256_BYTES * 2);
}

Result<NewApiKey> issue_api_key(store::Store& store, const std::string& org_id) {
    NewApiKey out;
    out.key = std::string(kApiKeyPrefix) + random_token(32);
    out.record.id = new_uuid();
    out.record.org_id = org_id;
    out.record.prefix = out.key.substr(0, kApiKeyShownPrefix);
    out.record.hash = hash_api_key(out.key);
    out.record.created_at = now_iso8601();
    if (auto st = store.create_api_key(out.record); !st) return st.error();
    return out;
}

Result<store::Organization> ensure_organization(store::Store& store, const std::string& org_name) {
    auto found = store.find_organization_by_name(org_name);
    if (!found) return found.error();
    if (*found) return **found;
    auto org = store::Organization::named(new_uuid(), org_name, now_iso8601());
    return store.create_organization(org);
}

Result<store::ApiKeyIdentity> Authenticator::authenticate(std::string_view header) const {
    auto unauthorized = [] {
        return make_error(Errc::kUnauthorized, "Invalid or missing API key");
    };
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), header.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
        })) {
        return unauthorized();
    }
    auto key = header.substr(kBearer.size());
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (key.empty() || key.size() > 256) return unauthorized();
    auto found = store_.find_api_key_by_hash(hash_api_key(key));
    if (!found) return found.error();
    if (!*found) return unauthorized();
    if ((*found)->key.revoked_at) {
        return make_error(Errc::kApiKeyRevoked, "API key has been revoked");
    }
    return std::move(**found);
}

}  // namespace tl::api
