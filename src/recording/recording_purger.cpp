#include "recording/recording_purger.hpp"

#include <spdlog/spdlog.h>

#include "common/clock.hpp"

namespace tl::recording {

RecordingPurger::RecordingPurger(const RecordingFiles& files,
                                 int retention_days,
                                 Clock clock,
                                 std::chrono::milliseconds interval)
    : files_(files),
      retention_(std::chrono::hours(24) * retention_days),
      clock_(std::move(clock)),
      interval_(interval) {
    thread_ = std::thread([this] { run(); });
}

RecordingPurger::~RecordingPurger() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

int RecordingPurger::runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

void RecordingPurger::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const auto now = clock_();
        const auto cutoff = now - retention_;
        if (auto purged = files_.purge_before(cutoff, now); !purged) {
            spdlog::warn("cannot purge old recordings: {}", purged.error().message);
        } else if (*purged > 0) {
            spdlog::info("purged {} recording files written before {}", *purged,
                         format_iso8601(cutoff));
        }
        lock.lock();
        ++runs_;
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
}

}  // namespace tl::recording
