#include "webhook/signing.hpp"

#include <gtest/gtest.h>

namespace tl::webhook {
namespace {

// api-contract.md §5.2 known-answer vector (computed there with Python's hmac).
TEST(Signing, ReproducesTheContractVector) {
    EXPECT_EQ(sign("whsec_test_secret_12345", "1700000000", R"({"test":true})"),
              "sha256=b7875b4bd3cc6c5c1a4453189b5fa746880c17cb42258530a7355906dbc5ec1d");
}

TEST(Signing, KeysLongerThanABlockAreHashedFirst) {
    // RFC 4231 test case 7: a 131-byte key; its data has one "." to split as timestamp "." body.
    const std::string key(131, '\xaa');
    EXPECT_EQ(sign(key,
                   "This is a test using a larger than block-size key and a larger than "
                   "block-size data",
                   " The key needs to be hashed before being used by the HMAC algorithm."),
              "sha256=9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(Signing, VerifyAcceptsOnlyTheExactSignature) {
    const auto sig = sign("s3cret", "1700000000", "{}");
    EXPECT_TRUE(verify("s3cret", "1700000000", "{}", sig));
    EXPECT_FALSE(verify("s3cret", "1700000001", "{}", sig));
    EXPECT_FALSE(verify("other", "1700000000", "{}", sig));
    EXPECT_FALSE(verify("s3cret", "1700000000", "{ }", sig));
    EXPECT_FALSE(verify("s3cret", "1700000000", "{}", sig.substr(7)));
    EXPECT_FALSE(verify("s3cret", "1700000000", "{}", ""));
}

}  // namespace
}  // namespace tl::webhook
