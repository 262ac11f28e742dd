#pragma once
// SIP digest authentication as a server (RFC 3261 §22, RFC 2617 qop=auth, RFC 8760 SHA-256):
// parsing the Authorization header of untrusted requests, stateless nonces, and verification.
// Pure functions and an immutable NonceIssuer: thread-safe.

#include "common/error.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tl::sip {

enum class DigestAlgorithm { kMd5, kSha256 };

std::string_view to_string(DigestAlgorithm a);  // "MD5" | "SHA-256"

struct DigestCredentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;
    DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
    std::string qop;                // "auth" or empty (RFC 2069 compatibility)
    std::string nc;                 // 8 hex digits, as sent (the response hashes the text)
    std::uint32_t nonce_count = 0;  // `nc` as a number; 0 without qop
    std::string cnonce;
    std::string opaque;
};

// Parses `Digest username="..", realm="..", ...` (quoted and token values, any order, unknown
// parameters ignored). kInvalidRequest when it is not Digest or misses a required parameter, or
// when qop=auth comes with an nc that is not 1-8 hex digits (RFC 7616 §3.4: 8LHEX).
Result<DigestCredentials> parse_digest_authorization(std::string_view header_value);

// The expected `response` for `credentials` with `password` and request `method`.
std::string compute_digest_response(const DigestCredentials& credentials,
                                    std::string_view password,
                                    std::string_view method);

// Constant-time comparison of two hex responses (case-insensitive).
bool digest_responses_equal(std::string_view a, std::string_view b);

// Nonces that need no server state: "<unix seconds hex>.<salt>.<HMAC-SHA256(secret,
// time.salt|source)>", valid for `lifetime` and only for the source address they were issued to.
// The salt is random, so every challenge carries a new nonce, even two in the same second to one
// source (the fresh nonce of a stale=true challenge must differ from the one refused). Being
// stateless, a
// nonce alone does not stop a captured Authorization header from being replayed within its
// lifetime: DigestReplayCache (digest_replay_cache.hpp) does.
class NonceIssuer {
public:
    using Clock = std::chrono::system_clock;
    NonceIssuer(std::array<unsigned char, 32> secret, std::chrono::seconds lifetime);

    std::string issue(std::string_view source_ip, Clock::time_point now = Clock::now()) const;

    enum class Verdict { kValid, kStale, kInvalid };
    Verdict check(std::string_view nonce,
                  std::string_view source_ip,
                  Clock::time_point now = Clock::now()) const;

private:
    // `signed_part` is "<time>.<salt>".
    std::string mac(std::string_view signed_part, std::string_view source_ip) const;
    std::array<unsigned char, 32> secret_;
    std::chrono::seconds lifetime_;
};

// The WWW-Authenticate challenge values to send (SHA-256 first, as RFC 8760 §2.4 asks).
std::string digest_challenge(DigestAlgorithm algorithm,
                             std::string_view realm,
                             std::string_view nonce,
                             bool stale);

}  // namespace tl::sip
