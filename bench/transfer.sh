#!/usr/bin/env bash
# Transfer benchmark (not a test). See docs/benchmarks.md.
#
# N concurrent inbound calls (sipp UAC, no media from the caller) are each transferred by API
# (no message) to a sipp "PBX" that answers with PCMA and echoes RTP (-rtp_echo), so every call ends
# up bridged with media both ways. Prints:
#   - time from the control request to the destination INVITE leaving Trunkline, p50/p99, taken from
#     the call's own events (transfer.requested -> transfer.invite), so it excludes the network;
#   - server CPU per bridged call (from /proc/PID/stat over the hold) and RSS.
# Targets (issue 4): p99 < 20 ms excluding the spoken message; 500 bridged calls under one core.
#
# Environment: TRUNKLINE_BIN, BENCH_CALLS (default 200), BENCH_HOLD (seconds bridged, default 15),
# BENCH_SERVER_CPUS (default 0), BENCH_SIPP_CPUS (default 1).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TRUNKLINE_BIN=${TRUNKLINE_BIN:-$repo/build/src/app/trunkline}
export BENCH_CALLS=${BENCH_CALLS:-200}
export BENCH_HOLD=${BENCH_HOLD:-15}
export BENCH_SERVER_CPUS=${BENCH_SERVER_CPUS:-0}
export BENCH_SIPP_CPUS=${BENCH_SIPP_CPUS:-1}
export BENCH_REPO=$repo
for tool in sipp taskset python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: '$tool' not found" >&2; exit 1; }
done
[[ -x "$TRUNKLINE_BIN" ]] || { echo "bench: $TRUNKLINE_BIN not built (make build)" >&2; exit 1; }
exec python3 "$repo/bench/transfer_bench.py"
