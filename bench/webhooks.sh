#!/usr/bin/env bash
# Webhook delivery benchmark (not a test). See docs/benchmarks.md for the method.
#
# Builds bench/webhook_bench.cpp (CMake target tl_webhook_bench, configured only with
# -DTL_BUILD_BENCH=ON) and runs it: 10,000 events through the real SQLite outbox and the real
# webhook dispatcher to a loopback receiver, and the same receiver hit by a plain keep-alive
# HttpClient loop with no store (the baseline, same run). Prints deliveries/s, enqueue-to-delivery
# latency p50/p99, and the ratio to the baseline.
#
# Environment (all optional):
#   BENCH_BUILD_DIR      CMake build directory (default build); TL_BUILD_BENCH=ON is set in it
#   BENCH_EVENTS         events per phase (default 10000)
#   BENCH_RATE           events/s of the paced phase (default 1000)
#   BENCH_CONCURRENCY    deliveries in flight (default 8, the dispatcher's default)
#   BENCH_POLL_MS        dispatcher poll interval (default 200, the default)
#   BENCH_SENDER_CPU     CPU of the dispatcher, the enqueuer and the baseline client (default 0)
#   BENCH_RECEIVER_CPU   CPU of the receiver (default 1; -1 with a single CPU: no pinning)
#   BENCH_STRICT=1       exit 1 when the 2,000 deliveries/s target is missed
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BENCH_BUILD_DIR:-$repo/build}
events=${BENCH_EVENTS:-10000}
rate=${BENCH_RATE:-1000}
concurrency=${BENCH_CONCURRENCY:-8}
poll_ms=${BENCH_POLL_MS:-200}

die() {
    echo "bench: $*" >&2
    exit 1
}

command -v cmake >/dev/null 2>&1 || die "cmake not found (run: scripts/install-deps.sh)"
if (($(nproc) >= 2)); then
    sender_cpu=${BENCH_SENDER_CPU:-0}
    receiver_cpu=${BENCH_RECEIVER_CPU:-1}
else
    sender_cpu=${BENCH_SENDER_CPU:--1}
    receiver_cpu=${BENCH_RECEIVER_CPU:--1}
fi

if [[ -f "$build_dir/CMakeCache.txt" ]]; then
    cmake -B "$build_dir" -DTL_BUILD_BENCH=ON >/dev/null
else
    cmake -G Ninja -B "$build_dir" -S "$repo" -DCMAKE_BUILD_TYPE=Release -DTL_BUILD_BENCH=ON >/dev/null
fi
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build_dir/CMakeCache.txt" ||
    echo "bench: warning: $build_dir is not a Release build; figures will be low" >&2
cmake --build "$build_dir" --target tl_webhook_bench >/dev/null ||
    die "building tl_webhook_bench failed (cmake --build $build_dir --target tl_webhook_bench)"

echo "commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
    "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
out=$(mktemp -t tl-webhook-bench.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
"$build_dir/bench/tl_webhook_bench" --events "$events" --rate "$rate" \
    --concurrency "$concurrency" --poll-interval-ms "$poll_ms" \
    --sender-cpu "$sender_cpu" --receiver-cpu "$receiver_cpu" >"$out" || status=$?
cat "$out"
((status == 0)) || die "the driver reported errors (exit $status): the figures are not valid"
if [[ "${BENCH_STRICT:-0}" == 1 ]] && grep -q MISSED "$out"; then
    exit 1
fi
