#include "sip/digest.hpp"

#include "sip/stack/md5.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <cctype>
#include <charconv>

namespace tl::sip {
namespace {

std::string sha256_hex(std::string_view data) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

std::string hash_hex(DigestAlgorithm a, std::string_view data) {
    return a == DigestAlgorithm::kSha256 ? sha256_hex(data) : md5_hex(data);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

void skip_space(std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' ||
                          s.front() == '\n')) {
        s.remove_prefix(1);
    }
}

}  // namespace

std::string_view to_string(DigestAlgorithm a) {
    return a == DigestAlgorithm::kSha256 ? "SHA-256" : "MD5";
}

Result<DigestCredentials> parse_digest_authorization(std::string_view s) {
    auto fail = [](std::string why) { return make_error(Errc::kInvalidRequest, std::move(why)); };
    if (s.size() > 4096) return fail("Authorization header is too long");
    skip_space(s);
    if (s.size() < 7 || !iequals(s.substr(0, 6), "digest") || (s[6] != ' ' && s[6] != '\t')) {
        return fail("Authorization scheme is not Digest");
    }
    s.remove_prefix(7);
    DigestCredentials c;
    bool have_algorithm = false;
    int params = 0;
    while (true) {
        skip_space(s);
        if (s.empty()) break;
        if (++params > 32) return fail("too many Authorization parameters");
        const auto eq = s.find('=');
        if (eq == std::string_view::npos || eq == 0) return fail("malformed Authorization parameter");
        auto name = s.substr(0, eq);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        s.remove_prefix(eq + 1);
        skip_space(s);
        std::string value;
        if (!s.empty() && s.front() == '"') {
            s.remove_prefix(1);
            bool closed = false;
            while (!s.empty()) {
                const char ch = s.front();
                s.remove_prefix(1);
                if (ch == '\\' && !s.empty()) {
                    value.push_back(s.front());
                    s.remove_prefix(1);
                } else if (ch == '"') {
                    closed = true;
                    break;
                } else {
                    value.push_back(ch);
                }
            }
            if (!closed) return fail("unterminated quoted string in Authorization");
        } else {
            const auto end = s.find(',');
            auto token = s.substr(0, end);
            while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
                token.remove_suffix(1);
            }
            value = std::string(token);
            s.remove_prefix(end == std::string_view::npos ? s.size() : end);
        }
        skip_space(s);
        if (!s.empty()) {
            if (s.front() != ',') return fail("malformed Authorization parameter list");
            s.remove_prefix(1);
        }
        if (value.size() > 1024) return fail("Authorization parameter is too long");
        if (iequals(name, "username")) {
            c.username = value;
        } else if (iequals(name, "realm")) {
            c.realm = value;
        } else if (iequals(name, "nonce")) {
            c.nonce = value;
        } else if (iequals(name, "uri")) {
            c.uri = value;
        } else if (iequals(name, "response")) {
            c.response = value;
        } else if (iequals(name, "algorithm")) {
            have_algorithm = true;
            if (iequals(value, "MD5")) {
                c.algorithm = DigestAlgorithm::kMd5;
            } else if (iequals(value, "SHA-256")) {
                c.algorithm = DigestAlgorithm::kSha256;
            } else {
                return fail("unsupported digest algorithm " + value);
            }
        } else if (iequals(name, "qop")) {
            c.qop = value;
        } else if (iequals(name, "nc")) {
            c.nc = value;
        } else if (iequals(name, "cnonce")) {
            c.cnonce = value;
        } else if (iequals(name, "opaque")) {
            c.opaque = value;
        }
    }
    (void)have_algorithm;
    if (c.username.empty() || c.nonce.empty() || c.uri.empty() || c.response.empty()) {
        return fail("Authorization lacks username, nonce, uri or response");
    }
    if (!c.qop.empty()) {
        if (!iequals(c.qop, "auth")) return fail("only qop=auth is supported");
        if (c.nc.empty() || c.cnonce.empty()) return fail("qop=auth needs nc and cnonce");
        // RFC 7616 §3.4 says exactly 8 hex digits; fewer are taken too (the hash uses the text
        // as sent). The number is what replay protection compares.
        const auto [end, ec] =
            std::from_chars(c.nc.data(), c.nc.data() + c.nc.size(), c.nonce_count, 16);
        if (c.nc.size() > 8 || ec != std::errc{} || end != c.nc.data() + c.nc.size()) {
            return fail("nc must be 8 hex digits");
        }
    }
    return c;
}

std::string compute_digest_response(const DigestCredentials& c,
                                    std::string_view password,
                                    std::string_view method) {
    const auto ha1 = hash_hex(c.algorithm, fmt::format("{}:{}:{}", c.username, c.realm, password));
    const auto ha2 = hash_hex(c.algorithm, fmt::format("{}:{}", method, c.uri));
    if (c.qop.empty()) return hash_hex(c.algorithm, fmt::format("{}:{}:{}", ha1, c.nonce, ha2));
    return hash_hex(c.algorithm,
                    fmt::format("{}:{}:{}:{}:{}:{}", ha1, c.nonce, c.nc, c.cnonce, c.qop, ha2));
}

bool digest_responses_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(a[i])) ^
                                           std::tolower(static_cast<unsigned char>(b[i])));
    }
    return diff == 0;
}

NonceIssuer::NonceIssuer(std::array<unsigned char, 32> secret, std::chrono::seconds lifetime)
    : secret_(secret), lifetime_(lifetime) {
    // Idempotent and thread-safe; needed before randombytes_buf draws salts. It fails only
    // without a usable system RNG, and then start-up has failed already (the master key).
    [[maybe_unused]] const int sodium = sodium_init();
}

std::string NonceIssuer::mac(std::string_view signed_part, std::string_view source_ip) const {
    const auto message = fmt::format("{}|{}", signed_part, source_ip);
    unsigned char out[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, secret_.data(), secret_.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size());
    crypto_auth_hmacsha256_final(&state, out);
    char hex[2 * 16 + 1];
    sodium_bin2hex(hex, sizeof hex, out, 16);  // 128 bits are plenty for a nonce MAC
    return std::string(hex, 32);
}

std::string NonceIssuer::issue(std::string_view source_ip, Clock::time_point now) const {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    unsigned char salt[8];
    randombytes_buf(salt, sizeof salt);
    char salt_hex[2 * sizeof salt + 1];
    sodium_bin2hex(salt_hex, sizeof salt_hex, salt, sizeof salt);
    const auto signed_part = fmt::format("{:x}.{}", seconds, salt_hex);
    return signed_part + "." + mac(signed_part, source_ip);
}

NonceIssuer::Verdict NonceIssuer::check(std::string_view nonce,
                                        std::string_view source_ip,
                                        Clock::time_point now) const {
    // "<time>.<salt>.<mac>": the MAC covers everything before the last dot.
    const auto last_dot = nonce.rfind('.');
    if (last_dot == std::string_view::npos) return Verdict::kInvalid;
    const auto signed_part = nonce.substr(0, last_dot);
    const auto dot = signed_part.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 16) return Verdict::kInvalid;
    const auto stamp = signed_part.substr(0, dot);
    if (!digest_responses_equal(nonce.substr(last_dot + 1), mac(signed_part, source_ip))) {
        return Verdict::kInvalid;
    }
    long long issued = 0;
    const auto [end, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), issued, 16);
    if (ec != std::errc{} || end != stamp.data() + stamp.size()) return Verdict::kInvalid;
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() -
                     issued;
    if (age < -5) return Verdict::kInvalid;
    return age > lifetime_.count() ? Verdict::kStale : Verdict::kValid;
}

std::string digest_challenge(DigestAlgorithm algorithm,
                             std::string_view realm,
                             std::string_view nonce,
                             bool stale) {
    return fmt::format("Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"{}", realm,
                       nonce, to_string(algorithm), stale ? ", stale=true" : "");
}

}  // namespace tl::sip
