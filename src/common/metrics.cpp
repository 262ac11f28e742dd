#include "common/metrics.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace tl::metrics {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double value) {
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<double> default_latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

std::string render_labels(const Labels& labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out += ',';
        out += labels[i].first;
        out += "=\"";
        for (const char c : labels[i].second) {
            if (c == '\\' || c == '"') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else {
                out += c;
            }
        }
        out += '"';
    }
    out += '}';
    return out;
}

Registry::Family& Registry::family(const std::string& name, Kind kind, const std::string& help) {
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.kind = kind;
        it->second.help = help;
    } else if (it->second.kind != kind) {
        throw std::logic_error("metric " + name + " registered with two kinds");
    }
    return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, Kind::kCounter, help).counters[render_labels(labels)];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, Kind::kGauge, help).gauges[render_labels(labels)];
    if (!slot) slot = std::make_unique<Gauge>();
    return *slot;
}

Histogram& Registry::histogram(const std::string& name,
                               const std::string& help,
                               const std::vector<double>& upper_bounds,
                               const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, Kind::kHistogram, help).histograms[render_labels(labels)];
    if (!slot) slot = std::make_unique<Histogram>(upper_bounds);
    return *slot;
}

namespace {

// Inserts `extra` (e.g. le="0.5") into an already rendered label set.
std::string with_label(const std::string& rendered, const std::string& extra) {
    if (rendered.empty()) return "{" + extra + "}";
    return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

void Registry::declare_counter(const std::string& name, const std::string& help) {
    std::lock_guard lock(mutex_);
    family(name, Kind::kCounter, help);
}

void Registry::declare_histogram(const std::string& name, const std::string& help) {
    std::lock_guard lock(mutex_);
    family(name, Kind::kHistogram, help);
}

std::string Registry::render_prometheus() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, fam] : families_) {
        const char* type = fam.kind == Kind::kCounter ? "counter"
                           : fam.kind == Kind::kGauge ? "gauge"
                                                      : "histogram";
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name, type);
        for (const auto& [labels, c] : fam.counters) {
            out += fmt::format("{}{} {}\n", name, labels, c->value());
        }
        for (const auto& [labels, g] : fam.gauges) {
            out += fmt::format("{}{} {}\n", name, labels, g->value());
        }
        for (const auto& [labels, h] : fam.histograms) {
            std::uint64_t cumulative = 0;
            const auto& bounds = h->upper_bounds();
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                cumulative += h->bucket_count(i);
                out += fmt::format("{}_bucket{} {}\n", name,
                                   with_label(labels, fmt::format("le=\"{}\"", bounds[i])),
                                   cumulative);
            }
            cumulative += h->bucket_count(bounds.size());
            out += fmt::format("{}_bucket{} {}\n", name, with_label(labels, "le=\"+Inf\""),
                               cumulative);
            out += fmt::format("{}_sum{} {}\n", name, labels, h->sum());
            out += fmt::format("{}_count{} {}\n", name, labels, h->count());
        }
    }
    return out;
}

}  // namespace tl::metrics
