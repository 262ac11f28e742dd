// The store on disk: migrations (idempotent, upgrades of older schemas, newer schemas refused),
// secrets sealed in the file, WAL mode.

#include "store/sqlite/sqlite_store_test_support.hpp"

#include <sqlite3.h>

#include <atomic>
#include <thread>

namespace tl::store {
namespace {

using namespace sqlite_test;
namespace fs = std::filesystem;

// --- Files, migrations, secrets -----------------------------------------------------------------

int count_migration_rows(const fs::path& db_file) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM schema_migrations", -1, &stmt, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const int rows = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
}

TEST_F(SqliteStoreTest, MigrationsAreIdempotentAndDataPersists) {
    const int expected = static_cast<int>(detail::sqlite_migrations().size());
    EXPECT_EQ(store_->schema_version(), expected);
    ASSERT_TRUE(store_->create_trunk(full_trunk("t1", kOrgA)));
    for (int i = 0; i < 3; ++i) {
        reopen();
        EXPECT_EQ(store_->schema_version(), expected);
    }
    store_.reset();
    EXPECT_EQ(count_migration_rows(db_file_), expected);
    reopen();
    expect_same(store_->get_trunk(kOrgA, "t1").value(), full_trunk("t1", kOrgA));
    EXPECT_EQ(store_->list_organizations().value().size(), 2u);
}

// A database made by the build before migration 9 (outbound trunk fields) opens, and its trunks
// read back with the defaults: From user = caller ID, digest username = username, no PAI, no pacing.
TEST_F(SqliteStoreTest, MigrationNineGivesExistingTrunksTheOutboundDefaults) {
    store_.reset();
    const fs::path old_file = dir_.path() / "v8" / "trunkline.db";
    fs::create_directories(old_file.parent_path());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(old_file.c_str(), &db), SQLITE_OK);
    const auto run = [db](const std::string& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
        EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "") << "\n" << sql;
        sqlite3_free(message);
    };
    run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL,"
        " applied_at TEXT NOT NULL)");
    const auto migrations = detail::sqlite_migrations();
    ASSERT_GE(migrations.size(), 9u);
    for (int v = 1; v <= 8; ++v) {
        run(std::string(migrations[static_cast<std::size_t>(v - 1)]));
        run("INSERT INTO schema_migrations VALUES (" + std::to_string(v) + ", 'x')");
    }
    run("INSERT INTO organizations (id, name, created_at) VALUES ('org-a', 'Org A', 'x')");
    run("INSERT INTO sip_trunks (id, org_id, name, host, port, username, direction, transport,"
        " auth_type, transfer_method, is_active, created_at, updated_at) VALUES ('t-old', 'org-a',"
        " 'old', 'sip.example.com', 5060, 'user', 'outbound', 'udp', 'digest', 'bridge', 1,"
        " 'x', 'x')");
    sqlite3_close(db);

    auto opened = open_sqlite_store(old_file);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ((*opened)->schema_version(), static_cast<int>(migrations.size()));
    const auto trunk = (*opened)->get_trunk("org-a", "t-old");
    ASSERT_TRUE(trunk) << trunk.error().message;
    EXPECT_EQ(trunk->username, "user");
    EXPECT_FALSE(trunk->from_user);
    EXPECT_FALSE(trunk->auth_username);
    EXPECT_FALSE(trunk->send_pai);
    EXPECT_FALSE(trunk->max_concurrent_calls);
    EXPECT_FALSE(trunk->max_calls_per_second);
    // And the new columns take values.
    auto changed = *trunk;
    changed.max_calls_per_second = 0.1;
    changed.max_concurrent_calls = 10000;
    changed.send_pai = true;
    ASSERT_TRUE((*opened)->update_trunk(changed));
    expect_same((*opened)->get_trunk("org-a", "t-old").value(), changed);
}

TEST_F(SqliteStoreTest, OpeningANewerSchemaFailsClearly) {
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_file_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'x')", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto opened = open_sqlite_store(db_file_);
    ASSERT_FALSE(opened);
    EXPECT_NE(opened.error().message.find("999"), std::string::npos);
}

TEST_F(SqliteStoreTest, DatabaseFileNeverHoldsSealedPlaintext) {
    constexpr std::string_view kPlain = "Pl4intext-Trunk-Passw0rd!";
    const auto box = SecretBox::from_keys({SecretBox::parse_key(std::string(64, 'a')).value()});
    ASSERT_TRUE(box);
    SipTrunk trunk = full_trunk("t1", kOrgA);
    trunk.password_sealed = box->seal(kPlain);
    trunk.inbound_password_sealed = box->seal(kPlain);
    ASSERT_TRUE(store_->create_trunk(trunk));
    EXPECT_EQ(box->unseal(store_->get_trunk(kOrgA, "t1").value().password_sealed.value()).value(),
              kPlain);
    store_.reset();  // closing the last connection checkpoints the WAL into the main file

    std::string bytes;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        const fs::path file = db_file_.string() + suffix;
        if (fs::exists(file)) bytes += read_bytes(file);
    }
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(bytes.find(kPlain), std::string::npos);
    // The scan is meaningful: the sealed value itself is in the file.
    EXPECT_NE(bytes.find(*trunk.password_sealed), std::string::npos);
}

TEST_F(SqliteStoreTest, UsesWalMode) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_file_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

// --- Call listing -------------------------------------------------------------------------------

}  // namespace
}  // namespace tl::store
