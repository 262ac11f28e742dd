#include "app/capture_purger.hpp"

#include "common/clock.hpp"

#include <spdlog/spdlog.h>

namespace tl::app {

CapturePurger::CapturePurger(store::Store& store, int retention_days)
    : store_(store), retention_(std::chrono::hours(24) * retention_days) {
    thread_ = std::thread([this] { run(); });
}

CapturePurger::~CapturePurger() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void CapturePurger::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const auto cutoff = format_iso8601(std::chrono::system_clock::now() - retention_);
        if (auto purged = store_.purge_call_captures(cutoff); !purged) {
            spdlog::warn("cannot purge old SIP captures: {}", purged.error().message);
        } else if (*purged > 0) {
            spdlog::info("purged {} SIP captures stored before {}", *purged, cutoff);
        }
        lock.lock();
        wake_.wait_for(lock, std::chrono::hours(1), [this] { return stopping_; });
    }
}

}  // namespace tl::app
