#pragma once
// Per-trunk series in /metrics, labelled trunk_id (docs/operations.md "Metrics"):
//   trunkline_trunk_calls_total{trunk_id, direction, outcome}  calls that ended, by end_reason
//     (direction inbound | outbound | transfer; outcome the end_reason, or for transfers
//     connected | the failure reason)
//   trunkline_trunk_auth_failures_total{trunk_id}  inbound digest failures with the trunk's
//     username, and outbound challenges our credentials did not satisfy
//   trunkline_trunk_options_rtt_seconds{trunk_id}  OPTIONS round trips (keep-alive, doctor)
// deploy/grafana/trunkline-trunks.json charts them.
//
// Thread-safety: every method may be called from any thread (the registry locks).

#include "common/metrics.hpp"

#include <string>

namespace tl::sip {

class TrunkMetrics {
public:
    explicit TrunkMetrics(metrics::Registry& registry);

    void call_ended(const std::string& trunk_id,
                    const std::string& direction,
                    const std::string& outcome);
    void auth_failure(const std::string& trunk_id);
    void options_round_trip(const std::string& trunk_id, double seconds);

private:
    metrics::Registry& registry_;
};

}  // namespace tl::sip
