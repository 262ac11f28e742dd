#include "common/metrics.hpp"

#include <gtest/gtest.h>

namespace tl::metrics {
namespace {

TEST(Metrics, RendersCountersGaugesAndCumulativeHistograms) {
    Registry registry;
    registry.counter("t_requests_total", "Requests.", {{"route", "/a"}, {"status", "200"}}).inc(3);
    registry.gauge("t_active", "Active.").set(2);
    auto& h = registry.histogram("t_latency_seconds", "Latency.", {0.1, 1.0});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const auto text = registry.render_prometheus();
    EXPECT_NE(text.find("# TYPE t_requests_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("t_requests_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("t_active 2\n"), std::string::npos);
    EXPECT_NE(text.find("t_latency_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("t_latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("t_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("t_latency_seconds_count 3\n"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsTheSameMetric) {
    Registry registry;
    auto& a = registry.counter("x_total", "X.", {{"k", "v"}});
    auto& b = registry.counter("x_total", "X.", {{"k", "v"}});
    EXPECT_EQ(&a, &b);
    EXPECT_THROW(registry.gauge("x_total", "X."), std::logic_error);
}

TEST(Metrics, EscapesLabelValues) {
    EXPECT_EQ(render_labels({{"a", "q\"b\\"}}), "{a=\"q\\\"b\\\\\"}");
}

}  // namespace
}  // namespace tl::metrics
