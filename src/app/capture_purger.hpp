#pragma once
// Deletes calls' SIP captures older than the retention (--sip-capture-retention-days): at start,
// then hourly, on its own thread so a large purge never holds an io thread.
//
// Thread-safety: construct and destroy on one thread; the purge runs on the purger's thread.

#include "store/store.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tl::app {

class CapturePurger {
public:
    CapturePurger(store::Store& store, int retention_days);
    ~CapturePurger();  // stops and joins
    CapturePurger(const CapturePurger&) = delete;
    CapturePurger& operator=(const CapturePurger&) = delete;

private:
    void run();

    store::Store& store_;
    std::chrono::hours retention_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tl::app
