#pragma once
// A fixed pool of SQLite connections, each with its own cache of prepared statements, plus the
// transaction guard every store call uses.
//
// Thread-safety: ConnectionPool is thread-safe; a checked-out Connection belongs to one thread
// until its Lease is destroyed.

#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "store/sqlite/sqlite_handle.hpp"

namespace tl::store::detail {

class Connection {
public:
    explicit Connection(DbHandle db) : db_(std::move(db)) {}

    // A statement for `sql`, prepared on first use and reused afterwards: the hot read paths never
    // parse SQL again.
    Result<Statement> prepare(std::string_view sql);

    sqlite3* db() const { return db_.get(); }

private:
    struct SqlHash {
        using is_transparent = void;  // NOLINT(readability-identifier-naming): std name
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    // Declared before the cache so statements are finalized before the connection closes.
    DbHandle db_;
    std::unordered_map<std::string, StmtHandle, SqlHash, std::equal_to<>> statements_;
};

class ConnectionPool {
public:
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> conn)
            : pool_(&pool), conn_(std::move(conn)) {}
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease() {
            if (conn_) pool_->give_back(std::move(conn_));
        }
        Connection& operator*() const { return *conn_; }
        Connection* operator->() const { return conn_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Connection> conn_;
    };

    // Opens `size` connections to `file` (at least one).
    static Result<std::unique_ptr<ConnectionPool>> open(const std::filesystem::path& file,
                                                        std::size_t size);

    // Blocks until a connection is free.
    Lease checkout();

    // Held by every write transaction: writers of this process queue here in FIFO-ish order
    // instead of spinning in SQLite's busy handler (which sleeps in growing steps).
    std::mutex& write_mutex() { return write_mutex_; }

private:
    void give_back(std::unique_ptr<Connection> conn);

    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::mutex write_mutex_;
};

// One store call = one transaction. Rolls back unless commit() succeeded.
class Transaction {
public:
    enum class Mode { kRead, kWrite };

    static Result<Transaction> begin(Connection& conn, Mode mode);

    Transaction(Transaction&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();

    Status commit();

private:
    explicit Transaction(Connection& conn) : conn_(&conn) {}
    Connection* conn_;
};

}  // namespace tl::store::detail
