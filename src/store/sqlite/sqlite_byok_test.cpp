// BYOK provider keys in the SQLite store: round trips, replacement, deletion, config merging,
// organization scoping, the cascade from the organization, and the sealed key at rest.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.hpp"
#include "store/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace tl::store {
namespace {

namespace fs = std::filesystem;

// Every TempDir of this file is named tl_byok_*.
class TempDir : public tl::TempDir {
public:
    TempDir() : tl::TempDir("tl_byok") {}
};

constexpr const char* kOrgA = "org-a";
constexpr const char* kOrgB = "org-b";
constexpr const char* kT0 = "2025-01-01T00:00:00.000Z";
constexpr const char* kT1 = "2025-01-01T00:00:01.000Z";
constexpr const char* kT2 = "2025-01-01T00:00:02.000Z";

ByokKey make_key(std::string org,
                 std::string provider,
                 std::string secret_id,
                 std::string sealed = "tlsb1:abcd1234:c2VhbGVk",
                 std::string at = kT0) {
    ByokKey k;
    k.org_id = std::move(org);
    k.provider = std::move(provider);
    k.secret_id = std::move(secret_id);
    k.key_sealed = std::move(sealed);
    k.created_at = at;
    k.updated_at = std::move(at);
    return k;
}

boost::json::value parsed(const std::string& text) { return boost::json::parse(text); }

class ByokStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_file_ = dir_.path() / "trunkline.db";
        reopen();
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrgA, "Org A", kT0)));
        ASSERT_TRUE(store_->create_organization(tl::store::Organization::named(kOrgB, "Org B", kT0)));
    }
    void reopen() {
        store_.reset();
        auto opened = open_sqlite_store(db_file_);
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
    }

    TempDir dir_;
    fs::path db_file_;
    std::unique_ptr<Store> store_;
};

TEST_F(ByokStoreTest, UpsertListAndGetRoundTrip) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-openai", "sealed-1")));
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "deepgram", "s-deepgram", "sealed-2")));
    reopen();  // persisted, not cached

    auto list = store_->list_byok_keys(kOrgA);
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].provider, "deepgram");  // ordered by provider
    EXPECT_EQ((*list)[1].provider, "openai");
    EXPECT_EQ((*list)[1].secret_id, "s-openai");
    EXPECT_EQ((*list)[1].org_id, kOrgA);
    EXPECT_EQ((*list)[1].config_json, "{}");
    EXPECT_EQ((*list)[1].created_at, kT0);
    EXPECT_EQ((*list)[1].updated_at, kT0);
    for (const auto& k : *list) EXPECT_TRUE(k.key_sealed.empty()) << "a listing carries the key";

    auto got = store_->get_byok_key(kOrgA, "openai");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->key_sealed, "sealed-1");
    EXPECT_EQ(got->secret_id, "s-openai");
    EXPECT_TRUE(store_->list_byok_keys(kOrgB).value().empty());
}

TEST_F(ByokStoreTest, ReplacementChangesKeyAndSecretIdButKeepsConfigAndCreatedAt) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-1", "sealed-1", kT0)));
    ASSERT_TRUE(store_->update_byok_config(kOrgA, "openai", R"({"region":"eu"})", kT1));
    auto replacement = make_key(kOrgA, "openai", "s-2", "sealed-2", kT2);
    replacement.config_json = R"({"ignored":true})";  // only used when inserting
    ASSERT_TRUE(store_->upsert_byok_key(replacement));

    auto got = store_->get_byok_key(kOrgA, "openai").value();
    EXPECT_EQ(got.secret_id, "s-2");
    EXPECT_EQ(got.key_sealed, "sealed-2");
    EXPECT_EQ(got.created_at, kT0);
    EXPECT_EQ(got.updated_at, kT2);
    EXPECT_EQ(parsed(got.config_json), parsed(R"({"region":"eu"})"));
    EXPECT_EQ(store_->list_byok_keys(kOrgA).value().size(), 1u);
}

TEST_F(ByokStoreTest, DeleteRemovesKeyAndConfig) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-1")));
    ASSERT_TRUE(store_->update_byok_config(kOrgA, "openai", R"({"a":1})", kT1));
    ASSERT_TRUE(store_->delete_byok_key(kOrgA, "openai"));
    EXPECT_EQ(store_->get_byok_key(kOrgA, "openai").error().code, Errc::kNotFound);
    auto again = store_->delete_byok_key(kOrgA, "openai");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::kNotFound);
    EXPECT_EQ(again.error().field, "provider");

    // A new key starts with the config it is inserted with, not the deleted row's.
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-2")));
    EXPECT_EQ(store_->get_byok_key(kOrgA, "openai").value().config_json, "{}");
}

TEST_F(ByokStoreTest, AnotherOrganizationSeesNothing) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-a", "sealed-a")));
    EXPECT_TRUE(store_->list_byok_keys(kOrgB).value().empty());
    EXPECT_EQ(store_->get_byok_key(kOrgB, "openai").error().code, Errc::kNotFound);
    EXPECT_EQ(store_->delete_byok_key(kOrgB, "openai").error().code, Errc::kNotFound);
    EXPECT_EQ(store_->update_byok_config(kOrgB, "openai", R"({"x":1})", kT1).error().code,
              Errc::kNotFound);

    // Both organizations may hold a key for the same provider.
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgB, "openai", "s-b", "sealed-b")));
    EXPECT_EQ(store_->get_byok_key(kOrgA, "openai").value().key_sealed, "sealed-a");
    EXPECT_EQ(store_->get_byok_key(kOrgB, "openai").value().key_sealed, "sealed-b");
    ASSERT_TRUE(store_->delete_byok_key(kOrgB, "openai"));
    EXPECT_TRUE(store_->get_byok_key(kOrgA, "openai"));
}

TEST_F(ByokStoreTest, UnknownOrganizationIsInvalidRequest) {
    auto st = store_->upsert_byok_key(make_key("org-missing", "openai", "s-1"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::kInvalidRequest);
    EXPECT_EQ(st.error().field, "org_id");
}

TEST_F(ByokStoreTest, ConfigIsMergedAsJsonMergePatch) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai_compatible", "s-1")));
    auto first = store_->update_byok_config(
        kOrgA, "openai_compatible",
        R"({"base_url":"http://127.0.0.1:8000/v1","headers":{"X-A":"1","X-B":"2"}})", kT1);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->updated_at, kT1);
    EXPECT_TRUE(first->key_sealed.empty());
    auto second = store_->update_byok_config(
        kOrgA, "openai_compatible", R"({"headers":{"X-A":null,"X-C":"3"},"model":"llama"})", kT2);
    ASSERT_TRUE(second);
    const auto expected = parsed(
        R"({"base_url":"http://127.0.0.1:8000/v1","headers":{"X-B":"2","X-C":"3"},"model":"llama"})");
    EXPECT_EQ(parsed(second->config_json), expected);
    auto stored = store_->get_byok_key(kOrgA, "openai_compatible").value();
    EXPECT_EQ(parsed(stored.config_json), expected);
    EXPECT_EQ(stored.updated_at, kT2);
    EXPECT_EQ(stored.secret_id, "s-1");  // settings do not change the key
}

TEST_F(ByokStoreTest, BadOrOversizedConfigChangesNothing) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-1")));
    ASSERT_TRUE(store_->update_byok_config(kOrgA, "openai", R"({"keep":1})", kT1));
    for (const char* bad : {"[1]", "\"x\"", "not json", ""}) {
        auto r = store_->update_byok_config(kOrgA, "openai", bad, kT2);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::kInvalidRequest) << bad;
        EXPECT_EQ(r.error().field, "config") << bad;
    }
    const std::string big = R"({"big":")" + std::string(kMaxByokConfigBytes, 'x') + "\"}";
    auto r = store_->update_byok_config(kOrgA, "openai", big, kT2);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidRequest);
    EXPECT_EQ(r.error().field, "config");
    auto stored = store_->get_byok_key(kOrgA, "openai").value();
    EXPECT_EQ(parsed(stored.config_json), parsed(R"({"keep":1})"));
    EXPECT_EQ(stored.updated_at, kT1);
}

TEST_F(ByokStoreTest, ConcurrentConfigPatchesAreAllKept) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-1")));
    constexpr int kThreads = 8;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([this, i] {
            const auto patch = "{\"k" + std::to_string(i) + "\":" + std::to_string(i) + "}";
            EXPECT_TRUE(store_->update_byok_config(kOrgA, "openai", patch, kT1));
        });
    }
    for (auto& t : threads) t.join();
    const auto config = parsed(store_->get_byok_key(kOrgA, "openai").value().config_json);
    EXPECT_EQ(config.as_object().size(), static_cast<std::size_t>(kThreads));
}

TEST_F(ByokStoreTest, DeletingTheOrganizationDeletesItsKeys) {
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-a")));
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgB, "openai", "s-b")));
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_file_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM organizations WHERE id = 'org-a'",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM byok_keys WHERE org_id = 'org-a'", -1,
                                 &stmt, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    reopen();
    EXPECT_TRUE(store_->list_byok_keys(kOrgA).value().empty());
    EXPECT_EQ(store_->list_byok_keys(kOrgB).value().size(), 1u);
}

TEST_F(ByokStoreTest, DatabaseFileHoldsOnlyTheSealedKey) {
    constexpr std::string_view kPlain = "sk-Pl4intext-Byok-Key-0123456789";
    const auto box = SecretBox::from_keys({SecretBox::parse_key(std::string(64, 'b')).value()});
    ASSERT_TRUE(box);
    const auto sealed = box->seal(kPlain);
    ASSERT_TRUE(store_->upsert_byok_key(make_key(kOrgA, "openai", "s-1", sealed)));
    store_.reset();  // closing the last connection checkpoints the WAL into the main file

    std::string bytes;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        const fs::path file = db_file_.string() + suffix;
        if (!fs::exists(file)) continue;
        std::ifstream in(file, std::ios::binary);
        bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    EXPECT_EQ(bytes.find(kPlain), std::string::npos);
    EXPECT_NE(bytes.find(sealed), std::string::npos);  // the scan is meaningful
}

}  // namespace
}  // namespace tl::store
