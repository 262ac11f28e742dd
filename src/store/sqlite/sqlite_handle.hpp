#pragma once
// RAII owners of the SQLite C handles and the one place SQLite return codes become tl::Error.
// Everything here is used by one thread at a time (a pooled connection is checked out whole).

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.hpp"

namespace tl::store::detail {

struct DbCloser {
    void operator()(sqlite3* db) const noexcept;
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Maps a failed SQLite call to an Error. `context` names the operation ("create sip trunk"); the
// message carries SQLite's generic text for the code, never bound values (they may be secrets).
// UNIQUE/PRIMARY KEY -> kConflict, FOREIGN KEY -> kInvalidRequest, BUSY/LOCKED -> kUnavailable,
// anything else kInternal.
Error sqlite_error(sqlite3* db, int rc, std::string_view context);

// Opens (creating if needed) a database file in multi-thread mode with the per-connection
// settings every Trunkline connection needs (foreign keys, busy timeout, WAL).
Result<DbHandle> open_database(const std::filesystem::path& file);

// Runs SQL without results (may hold several statements). For schema and transaction control.
Status exec(sqlite3* db, const char* sql, std::string_view context);

// A prepared statement borrowed from a connection's cache. Binding is 1-based like SQLite's.
// The destructor resets the statement and clears its bindings, so a cached statement never keeps
// a read transaction open or leaks a bound secret into the next use.
class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    Statement(Statement&& other) noexcept
        : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    void bind(int index, std::string_view value);
    void bind(int index, const std::string& value) { bind(index, std::string_view(value)); }
    void bind(int index, const char* value) { bind(index, std::string_view(value)); }
    void bind(int index, const std::optional<std::string>& value);
    void bind(int index, std::int64_t value);
    void bind(int index, int value) { bind(index, static_cast<std::int64_t>(value)); }
    void bind(int index, bool value) { bind(index, static_cast<std::int64_t>(value ? 1 : 0)); }
    void bind(int index, const std::optional<long long>& value);
    void bind(int index, const std::optional<int>& value);
    void bind(int index, double value);
    void bind(int index, const std::optional<double>& value);
    void bind(int index, std::nullptr_t);

    template <class... Args>
    void bind_all(const Args&... args) {
        int index = 1;
        (bind(index++, args), ...);
    }

    // True when a row is available, false when done; an error otherwise. A bind failure (only
    // possible for out-of-range indices or out of memory) surfaces here.
    Result<bool> step(std::string_view context);
    // Steps a statement that returns no rows.
    Status run(std::string_view context);

    std::string text(int column) const;
    std::optional<std::string> opt_text(int column) const;
    std::int64_t int64(int column) const;
    std::optional<long long> opt_int64(int column) const;
    std::optional<double> opt_double(int column) const;
    bool boolean(int column) const { return int64(column) != 0; }

    // Rows changed by the last run() on this connection.
    int changes() const { return sqlite3_changes(db_); }

private:
    void note_bind(int rc) {
        if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_;
    int bind_rc_ = SQLITE_OK;
};

}  // namespace tl::store::detail
