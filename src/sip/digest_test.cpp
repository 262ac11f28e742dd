#include "sip/digest.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tl::sip {
namespace {

TEST(Digest, Rfc2617Md5Vector) {
    auto c = parse_digest_authorization(
        R"(Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41")");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->algorithm, DigestAlgorithm::kMd5);
    EXPECT_EQ(compute_digest_response(*c, "Circle Of Life", "GET"),
              "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, Rfc7616Sha256Vector) {
    auto c = parse_digest_authorization(
        R"(Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->algorithm, DigestAlgorithm::kSha256);
    EXPECT_EQ(compute_digest_response(*c, "Circle of Life", "GET"),
              "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, RejectsMalformedHeaders) {
    for (const char* bad :
         {"", "Basic dXNlcjpwYXNz", "Digest", "Digest username=\"a\"",
          "Digest username=\"a\", nonce=\"n\", uri=\"sip:x\", response=\"r\", algorithm=SHA-512",
          "Digest username=\"a, nonce=n", "Digest username=\"a\" nonce=\"n\"",
          "Digest username=\"a\", nonce=\"n\", uri=\"u\", response=\"r\", qop=auth"}) {
        EXPECT_FALSE(parse_digest_authorization(bad)) << bad;
    }
}

TEST(Digest, NonceCountIsHex) {
    constexpr std::string_view kPrefix =
        R"(Digest username="a", nonce="n", uri="sip:x", response="r", qop=auth, cnonce="c", nc=)";
    const struct {
        std::string_view nc;
        std::optional<std::uint32_t> count;
    } cases[] = {
        {"00000001", 1},
        {"0000000a", 10},
        {"FFFFFFFF", 0xFFFFFFFFu},
        {"1", 1},
        {"000000001", std::nullopt},
        {"0000000g", std::nullopt},
        {"-0000001", std::nullopt},
        {"0x000001", std::nullopt},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_digest_authorization(std::string(kPrefix) + std::string(c.nc));
        ASSERT_EQ(parsed.has_value(), c.count.has_value()) << c.nc;
        if (parsed) {
            EXPECT_EQ(parsed->nonce_count, *c.count) << c.nc;
        }
    }
}

TEST(Digest, NoncesAreBoundToSourceAndExpire) {
    std::array<unsigned char, 32> secret{};
    secret[0] = 42;
    NonceIssuer issuer(secret, std::chrono::seconds(300));
    const auto t0 = NonceIssuer::Clock::time_point(std::chrono::seconds(1'700'000'000));
    const auto nonce = issuer.issue("198.51.100.7", t0);
    EXPECT_EQ(issuer.check(nonce, "198.51.100.7", t0 + std::chrono::seconds(10)),
              NonceIssuer::Verdict::kValid);
    EXPECT_EQ(issuer.check(nonce, "198.51.100.8", t0), NonceIssuer::Verdict::kInvalid);
    EXPECT_EQ(issuer.check(nonce, "198.51.100.7", t0 + std::chrono::seconds(400)),
              NonceIssuer::Verdict::kStale);
    auto forged = nonce;
    forged.back() = forged.back() == '0' ? '1' : '0';
    EXPECT_EQ(issuer.check(forged, "198.51.100.7", t0), NonceIssuer::Verdict::kInvalid);
    EXPECT_EQ(issuer.check("garbage", "198.51.100.7", t0), NonceIssuer::Verdict::kInvalid);
    // The salt is signed too: another salt with the same MAC is refused.
    const auto first_dot = nonce.find('.');
    auto resalted = nonce;
    resalted[first_dot + 1] = resalted[first_dot + 1] == '0' ? '1' : '0';
    EXPECT_EQ(issuer.check(resalted, "198.51.100.7", t0), NonceIssuer::Verdict::kInvalid);
}

TEST(Digest, EveryChallengeGetsItsOwnNonce) {
    NonceIssuer issuer(std::array<unsigned char, 32>{}, std::chrono::seconds(300));
    const auto t0 = NonceIssuer::Clock::time_point(std::chrono::seconds(1'700'000'000));
    // Same second, same source: still different, so a stale=true challenge is really fresh.
    const auto a = issuer.issue("198.51.100.7", t0);
    const auto b = issuer.issue("198.51.100.7", t0);
    EXPECT_NE(a, b);
    EXPECT_EQ(issuer.check(a, "198.51.100.7", t0), NonceIssuer::Verdict::kValid);
    EXPECT_EQ(issuer.check(b, "198.51.100.7", t0), NonceIssuer::Verdict::kValid);
}

}  // namespace
}  // namespace tl::sip
