#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <string>
#include <system_error>
#include <thread>

#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_store_impl.hpp"
#include "store/sqlite/wal_checkpointer.hpp"

namespace tl::store {

Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& db_file) {
    std::error_code ec;
    if (db_file.has_parent_path()) std::filesystem::create_directories(db_file.parent_path(), ec);
    if (ec) {
        return make_error(Errc::kInternal, "cannot create the directory of database " +
                                               db_file.string() + ": " + ec.message());
    }
    // One connection per hardware thread lets every API thread read at once; two at least, so a
    // long write never blocks all readers.
    const std::size_t size = std::max(2u, std::thread::hardware_concurrency());
    auto pool = detail::ConnectionPool::open(db_file, size);
    if (!pool) return pool.error();
    int version = 0;
    {
        auto conn = (*pool)->checkout();
        auto migrated = detail::run_migrations(*conn);
        if (!migrated) return migrated.error();
        version = *migrated;
    }
    auto checkpointer = detail::WalCheckpointer::start(db_file, std::chrono::milliseconds(250));
    if (!checkpointer) return checkpointer.error();
    return std::unique_ptr<Store>(std::make_unique<detail::SqliteStore>(
        std::move(*pool), version, std::move(*checkpointer)));
}

}  // namespace tl::store

namespace tl::store::detail {
namespace {

constexpr std::string_view kOrgColumns =
    "id, name, created_at, revision, webhook_url, webhook_secret_sealed, webhook_events";
constexpr std::string_view kKeyColumns = "id, org_id, prefix, hash, created_at, revoked_at";

const std::string kSelectOrg =
    "SELECT " + std::string(kOrgColumns) + " FROM organizations WHERE id = ?";
const std::string kSelectOrgByName = "SELECT " + std::string(kOrgColumns) +
                                     " FROM organizations WHERE name = ?"
                                     " ORDER BY created_at, id LIMIT 1";
const std::string kListOrgs =
    "SELECT " + std::string(kOrgColumns) + " FROM organizations ORDER BY created_at, id";
const std::string kListKeys = "SELECT " + std::string(kKeyColumns) +
                              " FROM api_keys WHERE (?1 IS NULL OR org_id = ?1)"
                              " ORDER BY created_at, id";

Organization read_org(const Statement& row, int first = 0) {
    return Organization{row.text(first),          row.text(first + 1),
                        row.text(first + 2),      row.int64(first + 3),
                        row.opt_text(first + 4),  row.opt_text(first + 5),
                        row.opt_text(first + 6)};
}

ApiKey read_key(const Statement& row) {
    return ApiKey{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.opt_text(5)};
}

}  // namespace

Error insert_error(Error error, std::string_view what) {
    if (error.code == Errc::kConflict) {
        return make_error(Errc::kConflict, std::string(what) + " with this id already exists",
                          "id");
    }
    if (error.code == Errc::kInvalidRequest) {
        return make_error(Errc::kInvalidRequest, "organization does not exist", "org_id");
    }
    return error;
}

Status run_on_one_row(Statement& stmt, std::string_view context, std::string_view what) {
    if (auto done = stmt.run(context); !done) return done.error();
    if (stmt.changes() == 0) return make_error(Errc::kNotFound, std::string(what) + " not found");
    return {};
}

// --- Organizations ------------------------------------------------------------------------------

Result<Organization> SqliteStore::create_organization(const Organization& org) {
    return write([&](Connection& conn) -> Result<Organization> {
        auto stmt =
            conn.prepare("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)");
        if (!stmt) return stmt.error();
        stmt->bind_all(org.id, org.name, org.created_at);
        if (auto done = stmt->run("create organization"); !done) {
            return insert_error(done.error(), "an organization");
        }
        return org;
    });
}

Result<Organization> SqliteStore::get_organization(const std::string& id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectOrg);
    if (!stmt) return stmt.error();
    stmt->bind_all(id);
    auto row = stmt->step("read organization");
    if (!row) return row.error();
    if (!*row) return make_error(Errc::kNotFound, "organization not found");
    return read_org(*stmt);
}

Status SqliteStore::update_organization_webhook(const Organization& org) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "UPDATE organizations SET webhook_url = ?, webhook_secret_sealed = ?,"
            " webhook_events = ?, revision = revision + 1 WHERE id = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(org.webhook_url, org.webhook_secret_sealed, org.webhook_events_json, org.id);
        return run_on_one_row(*stmt, "update organization webhook", "organization");
    });
}

Result<std::optional<Organization>> SqliteStore::find_organization_by_name(
    const std::string& name) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectOrgByName);
    if (!stmt) return stmt.error();
    stmt->bind_all(name);
    auto row = stmt->step("find organization");
    if (!row) return row.error();
    if (!*row) return std::optional<Organization>();
    return std::optional<Organization>(read_org(*stmt));
}

Result<std::vector<Organization>> SqliteStore::list_organizations() {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListOrgs);
    if (!stmt) return stmt.error();
    std::vector<Organization> orgs;
    while (true) {
        auto row = stmt->step("list organizations");
        if (!row) return row.error();
        if (!*row) break;
        orgs.push_back(read_org(*stmt));
    }
    return orgs;
}

// --- API keys -----------------------------------------------------------------------------------

Status SqliteStore::create_api_key(const ApiKey& key) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(
            "INSERT INTO api_keys (id, org_id, prefix, hash, created_at, revoked_at)"
            " VALUES (?, ?, ?, ?, ?, ?)");
        if (!stmt) return stmt.error();
        stmt->bind_all(key.id, key.org_id, key.prefix, key.hash, key.created_at, key.revoked_at);
        if (auto done = stmt->run("create api key"); !done) {
            return insert_error(done.error(), "an api key (or the same key hash)");
        }
        return {};
    });
}

Result<std::optional<ApiKeyIdentity>> SqliteStore::find_api_key_by_hash(const std::string& hash) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(
        "SELECT k.id, k.org_id, k.prefix, k.hash, k.created_at, k.revoked_at,"
        " o.id, o.name, o.created_at, o.revision, o.webhook_url, o.webhook_secret_sealed,"
        " o.webhook_events"
        " FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.hash = ?");
    if (!stmt) return stmt.error();
    stmt->bind_all(hash);
    auto row = stmt->step("find api key");
    if (!row) return row.error();
    if (!*row) return std::optional<ApiKeyIdentity>();
    return std::optional<ApiKeyIdentity>(ApiKeyIdentity{read_key(*stmt), read_org(*stmt, 6)});
}

Result<std::vector<ApiKey>> SqliteStore::list_api_keys(const std::optional<std::string>& org_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListKeys);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id);
    std::vector<ApiKey> keys;
    while (true) {
        auto row = stmt->step("list api keys");
        if (!row) return row.error();
        if (!*row) break;
        keys.push_back(read_key(*stmt));
    }
    return keys;
}

Status SqliteStore::revoke_api_key(const std::string& id_or_prefix, const std::string& revoked_at) {
    return write([&](Connection& conn) -> Status {
        // An id names one key; a prefix is short and may be shared, and revoking several keys
        // by accident locks out clients, so an ambiguous prefix is refused.
        auto count = conn.prepare(
            "SELECT (SELECT COUNT(*) FROM api_keys WHERE id = ?1),"
            " (SELECT COUNT(*) FROM api_keys WHERE prefix = ?1)");
        if (!count) return count.error();
        count->bind_all(id_or_prefix);
        auto row = count->step("find api key to revoke");
        if (!row) return row.error();
        const bool by_id = count->int64(0) > 0;
        const std::int64_t by_prefix = count->int64(1);
        if (!by_id && by_prefix == 0) return make_error(Errc::kNotFound, "api key not found");
        if (!by_id && by_prefix > 1) {
            return make_error(
                Errc::kConflict,
                "prefix matches " + std::to_string(by_prefix) + " api keys; revoke by id instead",
                "prefix");
        }
        // Revoking twice keeps the first revocation time.
        auto update = conn.prepare(by_id ? "UPDATE api_keys SET revoked_at ="
                                           " COALESCE(revoked_at, ?1) WHERE id = ?2"
                                         : "UPDATE api_keys SET revoked_at ="
                                           " COALESCE(revoked_at, ?1) WHERE prefix = ?2");
        if (!update) return update.error();
        update->bind_all(revoked_at, id_or_prefix);
        return run_on_one_row(*update, "revoke api key", "api key");
    });
}

}  // namespace tl::store::detail
