#include "store/sqlite/wal_checkpointer.hpp"

#include <sqlite3.h>

namespace tl::store::detail {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::filesystem::path& file,
                                                                std::chrono::milliseconds interval) {
    auto db = open_database(file);
    if (!db) return db.error();
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(*db), interval));
}

WalCheckpointer::WalCheckpointer(DbHandle db, std::chrono::milliseconds interval)
    : db_(std::move(db)), interval_(interval), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void WalCheckpointer::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        const bool stopping = cv_.wait_for(lock, interval_, [this] { return stop_; });
        lock.unlock();
        int log_frames = 0;
        int checkpointed = 0;
        // PASSIVE copies what no reader still needs and never waits; what it leaves is taken by
        // a later round. Failures (a busy database) are retried on the next tick by design.
        sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                  &checkpointed);
        if (stopping) return;
        lock.lock();
    }
}

}  // namespace tl::store::detail
