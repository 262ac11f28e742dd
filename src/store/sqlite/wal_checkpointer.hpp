#pragma once
// Checkpoints the SQLite write-ahead log on a background thread. SQLite's automatic checkpoint
// runs inside whichever commit crosses the threshold and includes the fsync, so one API request in
// a thousand paid several milliseconds for everyone's writes (measured: POST p99 14 ms). Passive
// checkpoints here never block writers or readers; the pool's connections have
// wal_autocheckpoint=0.

#include "common/error.hpp"
#include "store/sqlite/sqlite_handle.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

namespace tl::store::detail {

class WalCheckpointer {
public:
    static Result<std::unique_ptr<WalCheckpointer>> start(const std::filesystem::path& file,
                                                          std::chrono::milliseconds interval);
    ~WalCheckpointer();  // stops the thread after one last checkpoint

    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

private:
    WalCheckpointer(DbHandle db, std::chrono::milliseconds interval);
    void run();

    DbHandle db_;
    std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace tl::store::detail
