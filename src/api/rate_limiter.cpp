#include "api/rate_limiter.hpp"

#include <algorithm>

namespace tl::api {

RateLimiter::RateLimiter(std::int64_t limit, std::chrono::seconds window, Clock clock)
    : limit_(limit), window_seconds_(window.count()), clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

RateDecision RateLimiter::check(const std::string& key) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         clock_().time_since_epoch())
                         .count();
    const auto window_start = now - now % window_seconds_;
    std::lock_guard lock(mutex_);
    // Forget idle keys once per window so the map does not grow with every key ever seen.
    if (window_start != last_sweep_) {
        std::erase_if(windows_, [&](const auto& kv) { return kv.second.start < window_start; });
        last_sweep_ = window_start;
    }
    auto& w = windows_[key];
    if (w.start != window_start) {
        w.start = window_start;
        w.count = 0;
    }
    RateDecision d;
    d.limit = limit_;
    d.reset_epoch_seconds = window_start + window_seconds_;
    if (w.count >= limit_) {
        d.allowed = false;
        d.remaining = 0;
        d.retry_after_seconds = std::max<std::int64_t>(1, d.reset_epoch_seconds - now);
        return d;
    }
    ++w.count;
    d.remaining = limit_ - w.count;
    return d;
}

}  // namespace tl::api
