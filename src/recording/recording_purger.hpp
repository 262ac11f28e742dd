#pragma once
// Deletes recordings older than the retention (--recording-retention-days): at start, then every
// `interval` (an hour), on its own thread so a large purge never holds an io thread. The clock is
// injected so a test can move time forward.
//
// Thread-safety: construct and destroy on one thread; the purge runs on the purger's thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "recording/recording_files.hpp"

namespace tl::recording {

class RecordingPurger {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    RecordingPurger(
        const RecordingFiles& files,
        int retention_days,
        Clock clock = [] { return std::chrono::system_clock::now(); },
        std::chrono::milliseconds interval = std::chrono::hours(1));
    ~RecordingPurger();  // stops and joins
    RecordingPurger(const RecordingPurger&) = delete;
    RecordingPurger& operator=(const RecordingPurger&) = delete;

    // Purges done so far (the first runs at start).
    int runs() const;

private:
    void run();

    const RecordingFiles& files_;
    std::chrono::hours retention_;
    Clock clock_;
    std::chrono::milliseconds interval_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    int runs_ = 0;
    std::thread thread_;
};

}  // namespace tl::recording
