// Fuzzes what an inbound INVITE brings for authentication and routing: the Authorization header
// (sip/digest.hpp) and the dialled number of the Request-URI or To user part
// (sip/dialled_number.hpp). The input up to the first newline is the Authorization header value,
// the rest is the dialled number; an input without a newline goes to both whole.
//
// Invariants: a parsed digest has username, nonce, uri and response, qop=auth comes with nc and
// cnonce (nc 1-8 hex digits, equal to nonce_count); the expected response is 32 (MD5) or 64 (SHA-256) lowercase hex digits whatever the
// parameters; no text passes NonceIssuer::check without the secret (while a nonce it issued
// does); a normalised number, without or with a trunk country code, is E.164 and normalises to
// itself, and a country code changes only numbers that were not E.164 without it.

#include "common/validation.hpp"
#include "fuzz_check.hpp"
#include "sip/dialled_number.hpp"
#include "sip/digest.hpp"

#include <array>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using tl::sip::DigestAlgorithm;
using tl::sip::NonceIssuer;

constexpr std::string_view kSource = "192.0.2.10";

const NonceIssuer& issuer() {
    static const NonceIssuer instance(
        [] {
            std::array<unsigned char, 32> secret{};
            for (std::size_t i = 0; i < secret.size(); ++i) {
                secret[i] = static_cast<unsigned char>(0xA5 ^ (i * 7));
            }
            return secret;
        }(),
        std::chrono::seconds(300));
    return instance;
}

// A fixed "now" (2024-06-01T12:00:00Z) so runs are reproducible.
const NonceIssuer::Clock::time_point kNow{std::chrono::seconds(1717243200)};

bool is_lower_hex(std::string_view s) {
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

void check_response_shape(const tl::sip::DigestCredentials& c,
                          std::string_view password,
                          std::string_view method,
                          std::string_view text) {
    std::string response;
    try {
        response = tl::sip::compute_digest_response(c, password, method);
    } catch (...) {
        TL_FUZZ_CHECK(!"compute_digest_response threw", text);
    }
    const std::size_t expected = c.algorithm == DigestAlgorithm::kSha256 ? 64 : 32;
    TL_FUZZ_CHECK(response.size() == expected, std::string(text) + " -> " + response);
    TL_FUZZ_CHECK(is_lower_hex(response), std::string(text) + " -> " + response);
    TL_FUZZ_CHECK(tl::sip::digest_responses_equal(response, response), text);
}

void check_nonce(std::string_view nonce, std::string_view text) {
    const auto now = kNow;
    // Without the secret nothing is valid, at any time and for any source.
    TL_FUZZ_CHECK(issuer().check(nonce, kSource, now) != NonceIssuer::Verdict::kValid, text);
    TL_FUZZ_CHECK(issuer().check(nonce, nonce, now) != NonceIssuer::Verdict::kValid, text);
}

void check_authorization(std::string_view header, std::string_view text) {
    const auto parsed = tl::sip::parse_digest_authorization(header);
    check_nonce(header, text);
    if (!parsed) {
        TL_FUZZ_CHECK(!parsed.error().message.empty(), text);
        return;
    }
    const auto& c = *parsed;
    TL_FUZZ_CHECK(!c.username.empty() && !c.nonce.empty() && !c.uri.empty() && !c.response.empty(),
                  text);
    TL_FUZZ_CHECK(c.username.size() <= 1024 && c.realm.size() <= 1024 && c.nonce.size() <= 1024 &&
                      c.uri.size() <= 1024 && c.response.size() <= 1024 &&
                      c.cnonce.size() <= 1024 && c.nc.size() <= 1024 && c.opaque.size() <= 1024,
                  text);
    std::string qop = c.qop;
    for (auto& ch : qop) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    TL_FUZZ_CHECK(qop.empty() || qop == "auth", text);
    if (!c.qop.empty()) {
        TL_FUZZ_CHECK(!c.nc.empty() && !c.cnonce.empty(), text);
        // The count replay protection compares is the hex nc the response hashed.
        TL_FUZZ_CHECK(c.nc.size() <= 8 && std::strtoul(c.nc.c_str(), nullptr, 16) == c.nonce_count,
                      text);
    }

    check_nonce(c.nonce, text);
    check_response_shape(c, "FUZZSECRET-password", "INVITE", text);
    check_response_shape(c, "", "REGISTER", text);
    auto other = c;
    other.algorithm = c.algorithm == DigestAlgorithm::kMd5 ? DigestAlgorithm::kSha256
                                                           : DigestAlgorithm::kMd5;
    check_response_shape(other, c.username, c.uri, text);

    // The client's response is compared as the server does; it never throws or reads past.
    const auto expected = tl::sip::compute_digest_response(c, "FUZZSECRET-password", "INVITE");
    (void)tl::sip::digest_responses_equal(c.response, expected);
}

void check_dialled_number(std::string_view number, std::string_view text) {
    const auto e164 = tl::sip::normalise_dialled_number(number);
    for (const std::string_view country_code : {"31", "1", "880"}) {
        // A trunk's country code only adds national numbers; what was E.164 stays the same.
        const auto with_code = tl::sip::normalise_dialled_number(number, country_code);
        if (e164) TL_FUZZ_CHECK(with_code == e164, std::string(text) + " -> " + *e164);
        if (!with_code) continue;
        TL_FUZZ_CHECK(tl::is_e164(*with_code), std::string(text) + " -> " + *with_code);
        TL_FUZZ_CHECK(tl::sip::normalise_dialled_number(*with_code, country_code) == with_code,
                      std::string(text) + " -> " + *with_code);
    }
    if (!e164) return;
    TL_FUZZ_CHECK(tl::is_e164(*e164), std::string(text) + " -> " + *e164);
    const auto again = tl::sip::normalise_dialled_number(*e164);
    TL_FUZZ_CHECK(again == e164, std::string(text) + " -> " + *e164);
    TL_FUZZ_CHECK(tl::sip::normalise_dialled_number("tel:" + *e164) == e164,
                  std::string(text) + " -> " + *e164);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto newline = text.find('\n');
    const auto header = text.substr(0, newline);
    const auto number = newline == std::string_view::npos ? text : text.substr(newline + 1);
    check_authorization(header, text);
    check_dialled_number(number, text);

    // A nonce the issuer made is valid for its source only, and until it expires.
    static const std::string issued = issuer().issue(kSource, kNow);
    TL_FUZZ_CHECK(issuer().check(issued, kSource, kNow) == NonceIssuer::Verdict::kValid, issued);
    if (!number.empty() && number != kSource) {
        TL_FUZZ_CHECK(issuer().check(issued, number, kNow) != NonceIssuer::Verdict::kValid,
                      std::string(number) + " accepted " + issued);
    }
    return 0;
}
