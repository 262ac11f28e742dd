#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tl {
namespace {

TEST(Ids, UuidsAreVersion4AndUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = new_uuid();
        ASSERT_TRUE(is_uuid(id)) << id;
        EXPECT_EQ(id[14], '4');
        EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
        EXPECT_TRUE(seen.insert(id).second);
    }
}

TEST(Ids, IsUuidRejectsNearMisses) {
    EXPECT_FALSE(is_uuid(""));
    EXPECT_FALSE(is_uuid("abc12345-1234-5678-9012-abcdef12345"));
    EXPECT_FALSE(is_uuid("abc12345-1234-5678-9012-abcdef12345g"));
    EXPECT_FALSE(is_uuid("abc12345_1234-5678-9012-abcdef123456"));
    EXPECT_TRUE(is_uuid("abc12345-1234-5678-9012-abcdef123456"));
}

TEST(Ids, RandomTokensCarryEnoughEntropy) {
    const auto token = random_token(32);
    EXPECT_EQ(token.size(), 43u);  // 32 bytes = 256 bits; log2(62) ~ 5.954 bits per character
    for (const char c : token) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
    EXPECT_NE(token, random_token(32));
}

}  // namespace
}  // namespace tl
