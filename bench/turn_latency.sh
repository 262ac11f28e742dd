#!/usr/bin/env bash
# Turn latency benchmark (not a test; issue 6). See docs/benchmarks.md.
#
# One call; the caller (a UDP/RTP UAC in bench/turn_latency_bench.py) says a short phrase,
# BENCH_TURNS times. For each turn: the time from the caller's last voiced RTP packet to the first
# packet of the assistant's answer. Printed p50/p99, minus the endpointing delay
# (speech_config.turn_taking.endpointing_min_delay, set to 0.1 s): what Trunkline itself adds.
# Two runs side by side:
#   - zero-delay fake providers (OpenAI-compatible STT and chat servers on loopback answering at
#     once), so the figure is Trunkline's own pipeline: VAD/turn end, STT round trip, LLM stream,
#     first sentence synthesised by espeak-ng, paced out on the next 20 ms tick;
#   - the embedded providers (PocketSphinx + scripted rules), the offline default.
# Target (issue 6): p99 under 50 ms beyond the endpointing delay with the zero-delay providers.
#
# Environment: TRUNKLINE_BIN, BENCH_TURNS (default 30).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TRUNKLINE_BIN=${TRUNKLINE_BIN:-$repo/build/src/app/trunkline}
export BENCH_TURNS=${BENCH_TURNS:-30}
for tool in python3 espeak-ng sox; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: '$tool' not found" >&2; exit 1; }
done
[[ -x "$TRUNKLINE_BIN" ]] || { echo "bench: $TRUNKLINE_BIN not built (make build)" >&2; exit 1; }
exec python3 "$repo/bench/turn_latency_bench.py"
