#include "store/sqlite/connection_pool.hpp"

#include <algorithm>

namespace tl::store::detail {

Result<Statement> Connection::prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        StmtHandle stmt(raw);
        if (rc != SQLITE_OK) return sqlite_error(db_.get(), rc, "prepare a statement");
        if (!stmt) return make_error(Errc::kInternal, "prepared an empty SQL statement");
        it = statements_.emplace(std::string(sql), std::move(stmt)).first;
    }
    return Statement(db_.get(), it->second.get());
}

Result<std::unique_ptr<ConnectionPool>> ConnectionPool::open(const std::filesystem::path& file,
                                                             std::size_t size) {
    auto pool = std::make_unique<ConnectionPool>();
    size = std::max<std::size_t>(size, 1);
    pool->idle_.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
        auto db = open_database(file);
        if (!db) return db.error();
        pool->idle_.push_back(std::make_unique<Connection>(std::move(*db)));
    }
    return pool;
}

ConnectionPool::Lease ConnectionPool::checkout() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty(); });
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return {*this, std::move(conn)};
}

void ConnectionPool::give_back(std::unique_ptr<Connection> conn) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(conn));
    }
    available_.notify_one();
}

Result<Transaction> Transaction::begin(Connection& conn, Mode mode) {
    // Writers take the write lock up front (IMMEDIATE): a deferred transaction that later tries
    // to upgrade can fail with SQLITE_BUSY at once, without the busy timeout being honoured.
    const char* sql = mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN";
    if (sqlite3_get_autocommit(conn.db()) == 0) {
        // A transaction left open by a failed rollback must not swallow this call's work.
        if (auto done = exec(conn.db(), "ROLLBACK", "roll back a stale transaction"); !done) {
            return done.error();
        }
    }
    auto stmt = conn.prepare(sql);
    if (!stmt) return stmt.error();
    if (auto done = stmt->run("begin a transaction"); !done) return done.error();
    return Transaction(conn);
}

Transaction::~Transaction() {
    // Some errors (SQLITE_FULL, IOERR, ...) already rolled the transaction back; then
    // autocommit is on again and there is nothing left to undo.
    if (conn_ == nullptr || sqlite3_get_autocommit(conn_->db()) != 0) return;
    if (auto stmt = conn_->prepare("ROLLBACK")) {
        // A failed rollback leaves the connection in a transaction; SQLite rolls back at the next
        // BEGIN failure or at close, so there is nothing better to do here than to try.
        (void)stmt->run("roll back a transaction");
    }
}

Status Transaction::commit() {
    auto stmt = conn_->prepare("COMMIT");
    if (!stmt) return stmt.error();
    if (auto done = stmt->run("commit a transaction"); !done) return done.error();
    conn_ = nullptr;
    return {};
}

}  // namespace tl::store::detail
