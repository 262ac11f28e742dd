#pragma once
// Fixed-window rate limiting (api-contract.md §1.4: "100 requests/minute per API key"; a fixed
// window is what X-RateLimit-Reset as one Unix timestamp describes). Thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tl::api {

struct RateDecision {
    bool allowed = true;
    std::int64_t limit = 0;
    std::int64_t remaining = 0;
    std::int64_t reset_epoch_seconds = 0;  // when the current window ends
    std::int64_t retry_after_seconds = 0;  // only meaningful when !allowed
};

class RateLimiter {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    RateLimiter(std::int64_t limit, std::chrono::seconds window, Clock clock = {});

    // Counts one request for `key` and says whether it may proceed.
    RateDecision check(const std::string& key);

private:
    struct Window {
        std::int64_t start = 0;  // epoch seconds
        std::int64_t count = 0;
    };

    std::int64_t limit_;
    std::int64_t window_seconds_;
    Clock clock_;
    std::mutex mutex_;
    std::unordered_map<std::string, Window> windows_;
    std::int64_t last_sweep_ = 0;
};

}  // namespace tl::api
