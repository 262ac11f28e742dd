#include "webhook/signing.hpp"

#include <sodium.h>

#include <array>

namespace tl::webhook {
namespace {

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string sign(std::string_view secret, std::string_view timestamp, std::string_view body) {
    // The _init/_update/_final form takes a key of any length (HMAC hashes a long key first);
    // crypto_auth_hmacsha256() itself insists on a 32-byte key. These calls cannot fail.
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, bytes(secret), secret.size());
    crypto_auth_hmacsha256_update(&state, bytes(timestamp), timestamp.size());
    crypto_auth_hmacsha256_update(&state, bytes("."), 1);
    crypto_auth_hmacsha256_update(&state, bytes(body), body.size());
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
    crypto_auth_hmacsha256_final(&state, mac.data());
    sodium_memzero(&state, sizeof state);

    std::array<char, crypto_auth_hmacsha256_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
    return "sha256=" + std::string(hex.data(), crypto_auth_hmacsha256_BYTES * 2);
}

bool verify(std::string_view secret,
            std::string_view timestamp,
            std::string_view body,
            std::string_view signature_header) {
    const std::string expected = sign(secret, timestamp, body);
    if (signature_header.size() != expected.size()) return false;
    return sodium_memcmp(expected.data(), signature_header.data(), expected.size()) == 0;
}

std::vector<std::pair<std::string, std::string>> webhook_headers(std::string_view event,
                                                                 std::string_view timestamp,
                                                                 std::string_view secret,
                                                                 std::string_view body) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"},
        {"X-Webhook-Event", std::string(event)},
        {"X-Webhook-Timestamp", std::string(timestamp)},
        // HMS Sovereign's documented agent string (api-contract.md §5.1, where the docs'
        // "User-Assistant" is a search-and-replace artefact), kept so receivers written against
        // the HMS docs accept our requests unchanged.
        {"User-Agent", "HMS-Sovereign/1.0"},
    };
    if (!secret.empty()) headers.emplace_back("X-Webhook-Signature", sign(secret, timestamp, body));
    return headers;
}

}  // namespace tl::webhook
