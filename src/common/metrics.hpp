#pragma once
// Typed metrics exported in Prometheus text format (exposition format 0.0.4).
// Metrics are created once (at start-up, or once per label set) and then updated lock-free;
// the hot path keeps the returned reference instead of looking the metric up again.
//
// Thread-safety: Registry methods lock; Counter/Gauge/Histogram updates are atomic.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tl::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
    void set(std::int64_t n) { value_.store(n, std::memory_order_relaxed); }
    std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> value_{0};
};

class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);

    const std::vector<double>& upper_bounds() const { return bounds_; }
    // Non-cumulative count of bucket `i` (i == bounds.size() is +Inf).
    std::uint64_t bucket_count(std::size_t i) const { return counts_[i].load(); }
    std::uint64_t count() const { return count_.load(); }
    double sum() const { return sum_.load(); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0.0};
};

// Latency buckets (seconds) suited to an API answering in well under a millisecond.
std::vector<double> default_latency_buckets();

class Registry {
public:
    // Returns the metric for (name, labels), creating it on first use. References stay valid for
    // the registry's lifetime. Reusing a name with another kind is a programming error.
    Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& histogram(const std::string& name,
                         const std::string& help,
                         const std::vector<double>& upper_bounds,
                         const Labels& labels = {});

    // A labelled family that has no series yet still shows its HELP and TYPE, so dashboards and
    // alerts can be checked against /metrics before the first event.
    void declare_counter(const std::string& name, const std::string& help);
    void declare_histogram(const std::string& name, const std::string& help);

    std::string render_prometheus() const;

private:
    enum class Kind { kCounter, kGauge, kHistogram };
    struct Family {
        Kind kind;
        std::string help;
        std::map<std::string, std::unique_ptr<Counter>> counters;  // key: rendered label set
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family& family(const std::string& name, Kind kind, const std::string& help);

    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

// Renders `{a="x",b="y"}` with Prometheus escaping; empty labels render as "".
std::string render_labels(const Labels& labels);

}  // namespace tl::metrics
