// BYOK provider keys of the SQLite store (store.hpp, api-contract.md §4.12).

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "store/json_merge_patch.hpp"
#include "store/sqlite/sqlite_store_impl.hpp"

namespace tl::store::detail {
namespace {

namespace json = boost::json;

// Listings read every column but the sealed key, so a listing can never carry it anywhere.
constexpr const char* kListByok =
    "SELECT org_id, provider, secret_id, config_json, created_at, updated_at"
    " FROM byok_keys WHERE org_id = ? ORDER BY provider";
constexpr const char* kSelectByok =
    "SELECT org_id, provider, secret_id, config_json, created_at, updated_at, key_sealed"
    " FROM byok_keys WHERE org_id = ? AND provider = ?";
// A replacement keeps created_at and config_json: the provider's settings outlive a key rotation.
constexpr const char* kUpsertByok =
    "INSERT INTO byok_keys (org_id, provider, secret_id, key_sealed, config_json, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (org_id, provider) DO UPDATE SET secret_id = excluded.secret_id,"
    " key_sealed = excluded.key_sealed, updated_at = excluded.updated_at";

ByokKey read_byok(const Statement& row, bool with_key) {
    ByokKey k;
    k.org_id = row.text(0);
    k.provider = row.text(1);
    k.secret_id = row.text(2);
    k.config_json = row.text(3);
    k.created_at = row.text(4);
    k.updated_at = row.text(5);
    if (with_key) k.key_sealed = row.text(6);
    return k;
}

Error no_key(const std::string& provider) {
    return make_error(Errc::kNotFound, "no BYOK key is stored for provider " + provider,
                      "provider");
}

// A JSON object, or nullopt.
std::optional<json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.get_object());
}

}  // namespace

Status SqliteStore::upsert_byok_key(const ByokKey& key) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare(kUpsertByok);
        if (!stmt) return stmt.error();
        stmt->bind_all(key.org_id, key.provider, key.secret_id, key.key_sealed, key.config_json,
                       key.created_at, key.updated_at);
        if (auto done = stmt->run("store byok key"); !done) {
            // Only the organization's foreign key or a reused secret_id can fail here.
            return insert_error(done.error(), "a byok key (secret_id)");
        }
        return {};
    });
}

Status SqliteStore::delete_byok_key(const std::string& org_id, const std::string& provider) {
    return write([&](Connection& conn) -> Status {
        auto stmt = conn.prepare("DELETE FROM byok_keys WHERE org_id = ? AND provider = ?");
        if (!stmt) return stmt.error();
        stmt->bind_all(org_id, provider);
        if (auto done = stmt->run("delete byok key"); !done) return done.error();
        if (stmt->changes() == 0) return no_key(provider);
        return {};
    });
}

Result<std::vector<ByokKey>> SqliteStore::list_byok_keys(const std::string& org_id) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kListByok);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id);
    std::vector<ByokKey> keys;
    while (true) {
        auto row = stmt->step("list byok keys");
        if (!row) return row.error();
        if (!*row) break;
        keys.push_back(read_byok(*stmt, false));
    }
    return keys;
}

Result<ByokKey> SqliteStore::get_byok_key(const std::string& org_id, const std::string& provider) {
    auto conn = pool_->checkout();
    auto stmt = conn->prepare(kSelectByok);
    if (!stmt) return stmt.error();
    stmt->bind_all(org_id, provider);
    auto row = stmt->step("read byok key");
    if (!row) return row.error();
    if (!*row) return no_key(provider);
    return read_byok(*stmt, true);
}

Result<ByokKey> SqliteStore::update_byok_config(const std::string& org_id,
                                                const std::string& provider,
                                                const std::string& config_patch_json,
                                                const std::string& updated_at) {
    const auto patch = parse_object(config_patch_json);
    if (!patch) return make_error(Errc::kInvalidRequest, "config must be a JSON object", "config");
    // Read, merge and write under the write lock, so concurrent patches never lose each other.
    return write([&](Connection& conn) -> Result<ByokKey> {
        ByokKey key;
        {
            auto select = conn.prepare(kSelectByok);
            if (!select) return select.error();
            select->bind_all(org_id, provider);
            auto row = select->step("read byok config");
            if (!row) return row.error();
            if (!*row) return no_key(provider);
            key = read_byok(*select, false);
        }  // the select is reset before the row is written
        const auto stored = parse_object(key.config_json);
        if (!stored) {
            return make_error(Errc::kInternal, "stored byok_keys.config_json is not a JSON object");
        }
        const auto merged = json::serialize(json_merge_patch(*stored, *patch));
        if (merged.size() > kMaxByokConfigBytes) {
            return make_error(
                Errc::kInvalidRequest,
                "config would exceed " + std::to_string(kMaxByokConfigBytes) + " bytes once merged",
                "config");
        }
        auto update = conn.prepare(
            "UPDATE byok_keys SET config_json = ?, updated_at = ? WHERE org_id = ? AND provider = "
            "?");
        if (!update) return update.error();
        update->bind_all(merged, updated_at, org_id, provider);
        if (auto done = update->run("update byok config"); !done) return done.error();
        key.config_json = merged;
        key.updated_at = updated_at;
        return key;
    });
}

}  // namespace tl::store::detail
