#!/usr/bin/env bash
# Control-plane API benchmark (not a test). See docs/benchmarks.md for the method.
#
# Starts `trunkline serve` on a temporary data dir and a loopback ephemeral port, pinned to its own
# core(s) with taskset, and drives it with wrk pinned to the other core(s):
#   1. GET /health                (baseline: the HTTP stack ceiling, no auth, no store)
#   2. GET /api/v1/numbers        (100 numbers created first; auth + rate limit + store + JSON)
#   3. POST /api/v1/assistants    (validation + sealing + insert; body in bench/lua/post_assistant.lua)
# and prints requests/s and latency percentiles per scenario, and each scenario's ratio against
# the baseline measured in the same run.
#
# Environment (all optional):
#   TRUNKLINE_BIN        binary (default build/src/app/trunkline)
#   BENCH_DURATION       measured wrk run per scenario (default 10s)
#   BENCH_WARMUP         unmeasured wrk run before each scenario (default 2s; 0 to skip)
#   BENCH_CONNECTIONS    wrk connections (default 32)
#   BENCH_SERVER_CPUS    taskset CPU list for the server (default: first half of the CPUs)
#   BENCH_WRK_CPUS       taskset CPU list for wrk (default: second half)
#   BENCH_LOG_LEVEL      server --log-level during the run (default warn)
#   BENCH_STRICT=1       exit 1 when a target is missed (default: report only)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${TRUNKLINE_BIN:-$repo/build/src/app/trunkline}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
connections=${BENCH_CONNECTIONS:-32}
log_level=${BENCH_LOG_LEVEL:-warn}
numbers_to_create=100

# Targets (docs/benchmarks.md).
target_get_rps=20000
target_post_rps=5000
target_p99_ms=5

die() {
    echo "bench: $*" >&2
    exit 1
}

for tool in wrk taskset curl python3 awk; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run: scripts/install-deps.sh --bench)"
done
[[ -x "$bin" ]] || die "binary '$bin' not found or not executable (run: make build)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# --- CPU split: the server and wrk never share a core.
ncpu=$(nproc)
if ((ncpu < 2)); then
    die "needs at least 2 CPUs so that the server and wrk run on different cores"
fi
half=$((ncpu / 2))
server_cpus=${BENCH_SERVER_CPUS:-$([[ $half -eq 1 ]] && echo 0 || echo "0-$((half - 1))")}
wrk_cpus=${BENCH_WRK_CPUS:-$([[ $half -eq $((ncpu - 1)) ]] && echo "$half" || echo "$half-$((ncpu - 1))")}
# wrk threads = CPUs in its list (expand "a-b,c" ranges).
wrk_threads=$(python3 -c '
import sys
n = 0
for part in sys.argv[1].split(","):
    lo, _, hi = part.partition("-")
    n += int(hi or lo) - int(lo) + 1
print(n)' "$wrk_cpus")

# --- temporary data dir and server; both cleaned up on any exit.
data_dir=$(mktemp -d -t trunkline-bench.XXXXXX)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$data_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

api_key=$("$bin" keys create --data-dir "$data_dir" --org bench | tr -d '[:space:]')
[[ -n "$api_key" ]] || die "trunkline keys create printed no key"

# taskset execs the server, so $! is the server's own pid.
taskset -c "$server_cpus" "$bin" serve \
    --data-dir "$data_dir" \
    --api-listen 127.0.0.1:0 \
    --sip-listen 127.0.0.1:0 \
    --api-rate-limit 100000000 \
    --log-level "$log_level" \
    >"$data_dir/server.out" 2>"$data_dir/server.err" &
server_pid=$!

base=""
for _ in $(seq 1 150); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$data_dir/server.err" >&2 || true
        die "the server exited during start-up"
    fi
    line=$(grep -m1 -oE 'trunkline: api listening on http://[^[:space:]]+' "$data_dir/server.out" || true)
    if [[ -n "$line" ]]; then
        base=${line#trunkline: api listening on }
        break
    fi
    sleep 0.1
done
[[ -n "$base" ]] || die "no 'trunkline: api listening on http://HOST:PORT' line on stdout within 15 s"

auth=(-H "Authorization: Bearer $api_key")
curl -fsS "$base/health" >/dev/null || die "GET $base/health failed"

# --- fixtures: 100 numbers.
for i in $(seq 1 "$numbers_to_create"); do
    number=$(printf '+3185%07d' "$i")
    status=$(curl -sS -o "$data_dir/last-response.json" -w '%{http_code}' "${auth[@]}" \
        -H 'Content-Type: application/json' \
        -d "{\"phone_number\":\"$number\",\"name\":\"Bench line $i\"}" "$base/api/v1/numbers")
    [[ "$status" == 201 ]] || die "POST /api/v1/numbers answered $status: $(cat "$data_dir/last-response.json")"
done
listed=$(curl -fsS "${auth[@]}" "$base/api/v1/numbers" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["numbers"]))')
[[ "$listed" == "$numbers_to_create" ]] || die "GET /api/v1/numbers listed $listed numbers, expected $numbers_to_create"

# --- scenarios
export TL_BENCH_LUA_DIR="$repo/bench/lua"
declare -A rps p50 p90 p99 maxlat non2xx sockerr

# run_scenario NAME SCRIPT URL [wrk args...]
run_scenario() {
    local name=$1 script=$2 url=$3
    shift 3
    local out="$data_dir/wrk-$name.txt"
    if [[ "$warmup" != 0 && "$warmup" != 0s ]]; then
        taskset -c "$wrk_cpus" wrk -t"$wrk_threads" -c"$connections" -d"$warmup" \
            -s "$script" "$@" "$url" >/dev/null
    fi
    taskset -c "$wrk_cpus" wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency \
        -s "$script" "$@" "$url" >"$out"
    local result
    result=$(grep -m1 '^TL_RESULT ' "$out") || die "wrk printed no result for $name: $(cat "$out")"
    local kv
    for kv in ${result#TL_RESULT }; do
        case "$kv" in
            rps=*) rps[$name]=${kv#rps=} ;;
            p50_us=*) p50[$name]=${kv#p50_us=} ;;
            p90_us=*) p90[$name]=${kv#p90_us=} ;;
            p99_us=*) p99[$name]=${kv#p99_us=} ;;
            max_us=*) maxlat[$name]=${kv#max_us=} ;;
            non2xx=*) non2xx[$name]=${kv#non2xx=} ;;
            socket_errors=*) sockerr[$name]=${kv#socket_errors=} ;;
        esac
    done
}

echo "trunkline API benchmark"
echo "  date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  host:        $(uname -sr), $ncpu CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown CPU)"
echo "  server:      $("$bin" --version 2>/dev/null || echo "$bin") on CPUs $server_cpus, $base, log level $log_level"
echo "  load:        $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}') on CPUs $wrk_cpus, $wrk_threads thread(s), $connections connections, ${duration} per scenario (warm-up $warmup)"
echo

run_scenario health "$TL_BENCH_LUA_DIR/get.lua" "$base/health"
run_scenario numbers_get "$TL_BENCH_LUA_DIR/get.lua" "$base/api/v1/numbers" "${auth[@]}"
run_scenario assistants_post "$TL_BENCH_LUA_DIR/post_assistant.lua" "$base/api/v1/assistants" "${auth[@]}"

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
meets() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "MISSED" }'; }

printf '%-26s %12s %9s %9s %9s %9s %8s %7s\n' scenario requests/s p50_ms p90_ms p99_ms max_ms non-2xx errors
for name in health numbers_get assistants_post; do
    case $name in
        health) label="health GET (baseline)" ;;
        numbers_get) label="numbers GET ($numbers_to_create numbers)" ;;
        assistants_post) label="assistants POST" ;;
    esac
    printf '%-26s %12s %9s %9s %9s %9s %8s %7s\n' "$label" "${rps[$name]}" "$(ms "${p50[$name]}")" \
        "$(ms "${p90[$name]}")" "$(ms "${p99[$name]}")" "$(ms "${maxlat[$name]}")" \
        "${non2xx[$name]}" "${sockerr[$name]}"
done
echo
echo "numbers GET / health GET ratio: $(ratio "${rps[numbers_get]}" "${rps[health]}")"
echo "assistants POST / health GET ratio: $(ratio "${rps[assistants_post]}" "${rps[health]}")"
echo

results=(
    "numbers GET >= $target_get_rps/s: $(meets "${rps[numbers_get]}" "$target_get_rps" ">=")"
    "assistants POST >= $target_post_rps/s: $(meets "${rps[assistants_post]}" "$target_post_rps" ">=")"
    "numbers GET p99 < $target_p99_ms ms: $(meets "$(ms "${p99[numbers_get]}")" "$target_p99_ms" "<")"
    "assistants POST p99 < $target_p99_ms ms: $(meets "$(ms "${p99[assistants_post]}")" "$target_p99_ms" "<")"
)
echo "targets:"
printf '  %s\n' "${results[@]}"

status=0
for name in health numbers_get assistants_post; do
    if ((non2xx[$name] > 0 || sockerr[$name] > 0)); then
        echo "bench: $name had ${non2xx[$name]} non-2xx responses and ${sockerr[$name]} socket" \
            "errors, so its figures are not valid; server stderr (last lines):" >&2
        tail -n 20 "$data_dir/server.err" >&2 || true
        status=1
    fi
done
if [[ "${BENCH_STRICT:-0}" == 1 ]] && printf '%s\n' "${results[@]}" | grep -q MISSED; then
    status=1
fi
exit "$status"
