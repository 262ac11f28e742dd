#!/usr/bin/env bash
# Outbound call benchmark (not a test; issue 7). See docs/benchmarks.md.
#
# BENCH_CALLS outbound calls (default 500) through one outbound trunk with max_calls_per_second
# BENCH_CPS (default 50) to a sipp UAS that answers 486 (so calls end at once and only the pace
# limits the rate). The driver POSTs /calls/outbound as fast as the API accepts (a 429 is retried
# after its Retry-After). Printed: the achieved INVITE rate against the configured one (ratio),
# and the API-request-to-INVITE latency p50/p99 of a second run without a pace limit (the
# server's own path: request parsing, call record, RTP lease, SDP, SIP stack).
#
# Environment: TRUNKLINE_BIN, BENCH_CALLS, BENCH_CPS.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TRUNKLINE_BIN=${TRUNKLINE_BIN:-$repo/build/src/app/trunkline}
export BENCH_CALLS=${BENCH_CALLS:-500}
export BENCH_CPS=${BENCH_CPS:-50}
for tool in python3 sipp; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: '$tool' not found" >&2; exit 1; }
done
[[ -x "$TRUNKLINE_BIN" ]] || { echo "bench: $TRUNKLINE_BIN not built (make build)" >&2; exit 1; }
exec python3 "$repo/bench/outbound_bench.py"
