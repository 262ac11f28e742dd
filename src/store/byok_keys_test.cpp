// The BYOK provider table and the accessor the conversation runtime uses for an organization's key.

#include "store/byok_keys.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/temp_dir.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace tl::store {
namespace {

constexpr const char* kOrgA = "org-a";
constexpr const char* kOrgB = "org-b";
constexpr const char* kT0 = "2025-01-01T00:00:00.000Z";

TEST(ByokProviders, ListsTheContractProvidersPlusGroqAndOpenAiCompatible) {
    std::vector<std::string> ids;
    for (const auto& p : byok_providers()) {
        ids.emplace_back(p.id);
        EXPECT_FALSE(p.name.empty()) << p.id;
        EXPECT_TRUE(p.category == "stt" || p.category == "llm" || p.category == "tts" ||
                    p.category == "email")
            << p.id;
        EXPECT_EQ(find_byok_provider(p.id), &p);
        EXPECT_TRUE(p.docs_url.starts_with("https://") || p.id == "openai_compatible") << p.id;
        int defaults = 0;
        for (const auto& m : p.models) {
            EXPECT_FALSE(m.id.empty() || m.name.empty()) << p.id;
            defaults += m.is_default ? 1 : 0;
        }
        EXPECT_LE(defaults, 1) << p.id;
    }
    const std::vector<std::string> expected = {
        "deepgram", "openai",  "elevenlabs", "inworld",       "resend", "xai",
        "gladia",   "mistral", "google",     "google_vertex", "groq",   "openai_compatible"};
    EXPECT_EQ(ids, expected);
    EXPECT_EQ(find_byok_provider("anthropic"), nullptr);
    EXPECT_EQ(find_byok_provider("OpenAI"), nullptr);  // ids are exact
    EXPECT_EQ(find_byok_provider(""), nullptr);
}

class ByokKeysTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = open_sqlite_store(dir_.path() / "trunkline.db");
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrgA, "Org A", kT0)));
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrgB, "Org B", kT0)));
    }

    void put(const std::string& org, const std::string& provider, std::string_view plain) {
        ByokKey k;
        k.org_id = org;
        k.provider = provider;
        k.secret_id = org + "/" + provider + "/" + std::string(plain.substr(0, 4));
        k.key_sealed = box_.seal(plain);
        k.created_at = k.updated_at = kT0;
        ASSERT_TRUE(store_->upsert_byok_key(k));
    }

    tl::TempDir dir_{"tl_byok_keys"};
    std::unique_ptr<Store> store_;
    SecretBox box_ =
        SecretBox::from_keys({SecretBox::parse_key(std::string(64, 'c')).value()}).value();
};

TEST_F(ByokKeysTest, ReturnsTheUnsealedKeyOfThatOrganizationAndProvider) {
    put(kOrgA, "openai", "sk-org-a-openai");
    put(kOrgA, "deepgram", "dg-org-a");
    put(kOrgB, "openai", "sk-org-b-openai");
    ASSERT_TRUE(store_->update_byok_config(kOrgA, "openai", R"({"base_url":"http://x/v1"})", kT0));
    const ByokKeys keys(*store_, box_);

    auto a = keys.find(kOrgA, "openai");
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->provider, "openai");
    EXPECT_EQ((*a)->api_key, "sk-org-a-openai");
    EXPECT_EQ((*a)->config_json, R"({"base_url":"http://x/v1"})");
    EXPECT_EQ(keys.api_key(kOrgA, "deepgram").value(), "dg-org-a");
    EXPECT_EQ(keys.api_key(kOrgB, "openai").value(), "sk-org-b-openai");

    // Replacing the key is seen at once (no cache).
    put(kOrgA, "openai", "sk-org-a-rotated");
    EXPECT_EQ(keys.api_key(kOrgA, "openai").value(), "sk-org-a-rotated");
}

TEST_F(ByokKeysTest, NoKeyIsNulloptNotAnError) {
    put(kOrgA, "openai", "sk-org-a-openai");
    const ByokKeys keys(*store_, box_);
    auto none = keys.api_key(kOrgB, "openai");
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_FALSE(none->has_value());
    EXPECT_FALSE(keys.find(kOrgA, "groq").value().has_value());
    EXPECT_FALSE(keys.find("org-missing", "openai").value().has_value());
    ASSERT_TRUE(store_->delete_byok_key(kOrgA, "openai"));
    EXPECT_FALSE(keys.api_key(kOrgA, "openai").value().has_value());
}

TEST_F(ByokKeysTest, AKeySealedUnderAnotherMasterKeyIsAnErrorWithoutKeyMaterial) {
    put(kOrgA, "openai", "sk-secret-material-42");
    const auto other =
        SecretBox::from_keys({SecretBox::parse_key(std::string(64, 'd')).value()}).value();
    const ByokKeys keys(*store_, other);
    auto r = keys.api_key(kOrgA, "openai");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInternal);
    EXPECT_NE(r.error().message.find("openai"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("sk-secret"), std::string::npos);
    const auto sealed = store_->get_byok_key(kOrgA, "openai").value().key_sealed;
    EXPECT_EQ(r.error().message.find(sealed), std::string::npos);
}

}  // namespace
}  // namespace tl::store
