#include "store/sqlite/sqlite_handle.hpp"

namespace tl::store::detail {
namespace {

// Writers wait this long for the write lock of another process before giving up with kUnavailable.
constexpr int kBusyTimeoutMs = 5000;

}  // namespace

void DbCloser::operator()(sqlite3* db) const noexcept {
    // close_v2 defers the close if a statement were somehow still alive instead of leaking the
    // handle; by construction every cached statement is finalized before its connection.
    sqlite3_close_v2(db);
}

void StmtFinalizer::operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }

Error sqlite_error(sqlite3* db, int rc, std::string_view context) {
    const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    // The extended code is only meaningful when it refines `rc`.
    const int code = (extended & 0xff) == (rc & 0xff) ? extended : rc;
    std::string message =
        "storage error while trying to " + std::string(context) + ": " + sqlite3_errstr(code);
    switch (code) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            return make_error(Errc::kConflict, std::move(message));
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return make_error(Errc::kInvalidRequest, std::move(message));
        default:
            break;
    }
    switch (code & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return make_error(Errc::kUnavailable, std::move(message));
        default:
            return make_error(Errc::kInternal, std::move(message));
    }
}

Result<DbHandle> open_database(const std::filesystem::path& file) {
    sqlite3* raw = nullptr;
    // NOMUTEX: a connection is only ever used by the thread that checked it out of the pool.
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
    DbHandle db(raw);  // owns the handle even when open failed
    if (rc != SQLITE_OK) {
        Error error = sqlite_error(db.get(), rc, "open database " + file.string());
        error.code = Errc::kInternal;
        return error;
    }
    if (const int busy = sqlite3_busy_timeout(db.get(), kBusyTimeoutMs); busy != SQLITE_OK) {
        return sqlite_error(db.get(), busy, "set busy timeout");
    }
    sqlite3_extended_result_codes(db.get(), 1);
    // WAL lets readers run beside the single writer. synchronous=NORMAL is durable against
    // process crashes and cannot corrupt in WAL mode; only a power cut may lose the last commits.
    constexpr const char* kPragmas =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        // Checkpoints run on a background thread (wal_checkpointer.hpp), not inside commits.
        "PRAGMA wal_autocheckpoint=0;"
        "PRAGMA foreign_keys=ON;";
    if (auto done = exec(db.get(), kPragmas, "configure database"); !done) return done.error();
    return db;
}

Status exec(sqlite3* db, const char* sql, std::string_view context) {
    char* raw_message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &raw_message);
    sqlite3_free(raw_message);  // schema/transaction SQL only; the generic text is enough
    if (rc != SQLITE_OK) return sqlite_error(db, rc, context);
    return {};
}

Statement::~Statement() {
    if (stmt_ == nullptr) return;
    // reset() repeats the last step's error code, which was already reported; nothing to check.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

void Statement::bind(int index, std::string_view value) {
    note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                  SQLITE_UTF8));
}

void Statement::bind(int index, const std::optional<std::string>& value) {
    if (value) {
        bind(index, std::string_view(*value));
    } else {
        bind(index, nullptr);
    }
}

void Statement::bind(int index, std::int64_t value) {
    note_bind(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::bind(int index, const std::optional<long long>& value) {
    if (value) {
        bind(index, static_cast<std::int64_t>(*value));
    } else {
        bind(index, nullptr);
    }
}

void Statement::bind(int index, const std::optional<int>& value) {
    if (value) {
        bind(index, static_cast<std::int64_t>(*value));
    } else {
        bind(index, nullptr);
    }
}

void Statement::bind(int index, double value) {
    note_bind(sqlite3_bind_double(stmt_, index, value));
}

void Statement::bind(int index, const std::optional<double>& value) {
    if (value) {
        bind(index, *value);
    } else {
        bind(index, nullptr);
    }
}

void Statement::bind(int index, std::nullptr_t) { note_bind(sqlite3_bind_null(stmt_, index)); }

Result<bool> Statement::step(std::string_view context) {
    if (bind_rc_ != SQLITE_OK) return sqlite_error(db_, bind_rc_, context);
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(db_, rc, context);
}

Status Statement::run(std::string_view context) {
    auto row = step(context);
    if (!row) return row.error();
    return {};
}

std::string Statement::text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    if (data == nullptr) return {};
    const int size = sqlite3_column_bytes(stmt_, column);
    return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::optional<std::string> Statement::opt_text(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return text(column);
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::optional<long long> Statement::opt_int64(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return static_cast<long long>(sqlite3_column_int64(stmt_, column));
}

std::optional<double> Statement::opt_double(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt_, column);
}

}  // namespace tl::store::detail
