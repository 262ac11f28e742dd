#include "sip/trunk_metrics.hpp"

namespace tl::sip {
namespace {

constexpr const char* kCalls = "trunkline_trunk_calls_total";
constexpr const char* kCallsHelp =
    "Calls through the trunk that ended, by direction (inbound, outbound, transfer) and outcome "
    "(the end reason, or the transfer's result).";
constexpr const char* kAuthFailures = "trunkline_trunk_auth_failures_total";
constexpr const char* kAuthFailuresHelp =
    "Failed digest authentications: inbound INVITEs with the trunk's username and a wrong "
    "password, and outbound challenges our credentials did not satisfy.";
constexpr const char* kOptionsRtt = "trunkline_trunk_options_rtt_seconds";
constexpr const char* kOptionsRttHelp =
    "Round trip of OPTIONS to the trunk (keep-alive and trunk tests) that got an answer.";

std::vector<double> rtt_buckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

}  // namespace

TrunkMetrics::TrunkMetrics(metrics::Registry& registry) : registry_(registry) {
    registry_.declare_counter(kCalls, kCallsHelp);
    registry_.declare_counter(kAuthFailures, kAuthFailuresHelp);
    registry_.declare_histogram(kOptionsRtt, kOptionsRttHelp);
}

void TrunkMetrics::call_ended(const std::string& trunk_id,
                              const std::string& direction,
                              const std::string& outcome) {
    if (trunk_id.empty()) return;
    registry_
        .counter(kCalls, kCallsHelp,
                 {{"trunk_id", trunk_id}, {"direction", direction}, {"outcome", outcome}})
        .inc();
}

void TrunkMetrics::auth_failure(const std::string& trunk_id) {
    if (trunk_id.empty()) return;
    registry_.counter(kAuthFailures, kAuthFailuresHelp, {{"trunk_id", trunk_id}}).inc();
}

void TrunkMetrics::options_round_trip(const std::string& trunk_id, double seconds) {
    if (trunk_id.empty()) return;
    registry_.histogram(kOptionsRtt, kOptionsRttHelp, rtt_buckets(), {{"trunk_id", trunk_id}})
        .observe(seconds);
}

}  // namespace tl::sip
