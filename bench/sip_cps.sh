#!/usr/bin/env bash
# SIP call-rate and concurrent-calls benchmark (not a test). See docs/benchmarks.md for the method.
#
# 1. Call-rate ramp. sipp (bench/sipp/uac_pcmu.xml: INVITE with a PCMU offer, 200, ACK, hold,
#    BYE, 200; UDP retransmissions on) places calls at a rising rate, each step BENCH_STEP_SECONDS
#    long, first against `sipp -sn uas` (the baseline: sipp's own UAS, which allocates no media)
#    and then against `trunkline serve` (which routes the call, allocates an RTP port pair, stores
#    a call record and plays the assistant's greeting). Each ramp stops at the first step with a
#    failed call, a retransmission or a rate the generator could not reach. Printed: the highest
#    clean calls/s of each target and their ratio, with the target's CPU and peak RSS per step.
# 2. Concurrent calls. A fresh server; BENCH_CONCURRENT calls set up at BENCH_CONCURRENT_RATE and
#    all held together for BENCH_HOLD seconds, RTP both ways (the server sends 50 packets/s per call
#    from answer; sipp's -rtp_echo sends them back). Printed: the server's RSS and CPU idle and with
#    every call up, memory and CPU per active call, and whether the trunkline_active_calls gauge
#    reached the call count and returned to 0.
#
# The server (and the baseline UAS) run pinned with taskset to BENCH_SERVER_CPUS, sipp's UAC to
# BENCH_SIPP_CPUS. Figures are reported, never judged: the exit status is non-zero only when the
# benchmark could not be set up.
#
# Environment (all optional):
#   TRUNKLINE_BIN          binary (default build/src/app/trunkline)
#   BENCH_PARTS            which parts to run: ramp,concurrent (default both)
#   BENCH_RATES            call-rate steps in calls/s (default 50,100,200,400,600,800,1000,1200)
#   BENCH_STEP_SECONDS     seconds of new calls per step (default 10)
#   BENCH_CALL_HOLD_MS     how long each ramp call stays up before the BYE (default 1000)
#   BENCH_SETTLE_SECONDS   pause between ramp steps (default 2)
#   BENCH_CONCURRENT       concurrent calls in part 2 (default 1000)
#   BENCH_HOLD             seconds every one of them is up together (default 30)
#   BENCH_CONCURRENT_RATE  calls/s at which part 2 sets them up (default 200)
#   BENCH_RTP_TIMEOUT      part 2 server --rtp-timeout in seconds (default 5; proves RTP comes back)
#   BENCH_RTP_PORTS        server --rtp-ports (default 10000-19999)
#   BENCH_SERVER_CPUS      taskset CPU list for the server and the baseline UAS (default: first half)
#   BENCH_SIPP_CPUS        taskset CPU list for the sipp UAC (default: second half)
#   BENCH_LOG_LEVEL        server --log-level (default warn)
#   BENCH_KEEP=1           keep the temporary directory (sipp screens, CSVs, server logs)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${TRUNKLINE_BIN:-$repo/build/src/app/trunkline}
scenario=$repo/bench/sipp/uac_pcmu.xml
parts=${BENCH_PARTS:-ramp,concurrent}
rates_list=${BENCH_RATES:-50,100,200,400,600,800,1000,1200}
step_seconds=${BENCH_STEP_SECONDS:-10}
call_hold_ms=${BENCH_CALL_HOLD_MS:-1000}
settle_seconds=${BENCH_SETTLE_SECONDS:-2}
concurrent=${BENCH_CONCURRENT:-1000}
hold=${BENCH_HOLD:-30}
concurrent_rate=${BENCH_CONCURRENT_RATE:-200}
rtp_timeout=${BENCH_RTP_TIMEOUT:-5}
log_level=${BENCH_LOG_LEVEL:-warn}
did=+31850835037
greeting="Welcome to Acme support."

# Targets (docs/benchmarks.md, issue 3).
target_cps=1000
target_kib_per_call=200

die() {
    echo "bench: $*" >&2
    exit 1
}

for tool in sipp taskset curl python3 awk getconf; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run: scripts/install-deps.sh --bench)"
done
[[ -x "$bin" ]] || die "binary '$bin' not found or not executable (run: make build)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[[ -f "$scenario" ]] || die "scenario '$scenario' not found"

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
for knob in step_seconds call_hold_ms settle_seconds concurrent hold concurrent_rate rtp_timeout; do
    is_uint "${!knob}" || die "$knob must be a non-negative integer, got '${!knob}'"
done
((step_seconds > 0 && concurrent > 0 && hold > 0 && concurrent_rate > 0)) ||
    die "BENCH_STEP_SECONDS, BENCH_CONCURRENT, BENCH_HOLD and BENCH_CONCURRENT_RATE must be > 0"
IFS=, read -r -a rates <<<"$rates_list"
((${#rates[@]} > 0)) || die "BENCH_RATES is empty"
for rate in "${rates[@]}"; do
    if ! is_uint "$rate" || ((rate == 0)); then die "BENCH_RATES: '$rate' is not a positive integer"; fi
done
run_ramp=0
run_concurrent=0
IFS=, read -r -a part_list <<<"$parts"
for part in "${part_list[@]}"; do
    case $part in
        ramp) run_ramp=1 ;;
        concurrent) run_concurrent=1 ;;
        *) die "BENCH_PARTS: unknown part '$part' (ramp, concurrent)" ;;
    esac
done

# --- CPU split: the server and the sipp UAC never share a core.
ncpu=$(nproc)
if ((ncpu < 2)); then
    die "needs at least 2 CPUs so that the server and sipp run on different cores"
fi
half=$((ncpu / 2))
server_cpus=${BENCH_SERVER_CPUS:-$([[ $half -eq 1 ]] && echo 0 || echo "0-$((half - 1))")}
sipp_cpus=${BENCH_SIPP_CPUS:-$([[ $half -eq $((ncpu - 1)) ]] && echo "$half" || echo "$half-$((ncpu - 1))")}
# Cores in the server's list (expand "a-b,c" ranges): CPU above 90 % of them is saturation.
server_ncpu=$(python3 -c '
import sys
n = 0
for part in sys.argv[1].split(","):
    lo, _, hi = part.partition("-")
    n += int(hi or lo) - int(lo) + 1
print(n)' "$server_cpus") || die "BENCH_SERVER_CPUS: cannot read '$server_cpus'"
saturated() { calc "exit !($1 >= 90 * $server_ncpu)"; }

# --- ports. A leased RTP pair already bound by another process costs the server a retry, and
# four in a row a 503 (another server's whole range inside ours does that), so its range
# (default 10000-19999: 5000 pairs) stays clear of the kernel's ephemeral range, where sipp's and
# every other UDP socket get their ports, and of 20000-60999, where the test suite (tests/sip)
# starts its servers' 1000-port RTP ranges.
rtp_ports=${BENCH_RTP_PORTS:-10000-19999}
[[ "$rtp_ports" =~ ^([0-9]+)-([0-9]+)$ ]] || die "BENCH_RTP_PORTS must be LO-HI, got '$rtp_ports'"
rtp_pairs=$(((BASH_REMATCH[2] - BASH_REMATCH[1] + 1) / 2))

# free_udp_ports SPAN: an even port P in 61000-65499 (above the ephemeral range and the test
# suite's RTP ranges) with P..P+SPAN-1 free on 127.0.0.1, for sipp's SIP and media sockets.
free_udp_ports() {
    python3 - "$1" 61000 65499 <<'EOF'
import random, socket, sys
span, lo, hi = (int(a) for a in sys.argv[1:4])
for _ in range(500):
    base = random.randrange(lo + lo % 2, hi - span, 2)
    socks = []
    try:
        for p in range(base, base + span):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("no free UDP port range")
EOF
}

clk_tck=$(getconf CLK_TCK)
# nap SECONDS: a sleep the INT/TERM trap interrupts (bash runs traps only between commands, and a
# `wait` is interrupted where a foreground sleep is not).
nap() {
    sleep "$1" &
    wait $!
}
now() { date +%s.%N; }
# CPU ticks (utime + stime, all threads) of PID; fields after "pid (comm) ".
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# proc_kib PID FIELD: VmRSS / VmHWM in KiB.
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
calc() { awk "BEGIN { $1 }"; }
mib() { calc "printf \"%.1f\", $1 / 1024"; }

# --- temporary directory; every process started is in started_pids and stopped on any exit.
work_dir=$(mktemp -d -t trunkline-sip-bench.XXXXXX)
started_pids=()
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${started_pids[@]}"; do
        stop_pid "$pid"
    done
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        echo "bench: kept $work_dir" >&2
    else
        rm -rf "$work_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the server
server_pid=""
api_base=""
sip_target=""
api_key=""

api_post() { # PATH JSON -> response body (dies unless 201)
    local status
    status=$(curl -sS -o "$work_dir/last-response.json" -w '%{http_code}' \
        -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
        -d "$2" "$api_base/api/v1$1") || die "POST /api/v1$1 failed"
    [[ "$status" == 201 ]] || die "POST /api/v1$1 answered $status: $(cat "$work_dir/last-response.json")"
    cat "$work_dir/last-response.json"
}

# metric NAME: its value in /metrics (empty when absent or unreachable).
metric() {
    curl -fsS --max-time 5 "$api_base/metrics" 2>/dev/null | awk -v n="$1" '$1 == n { print $2; exit }' || true
}

# start_server DIR: a server on a fresh data dir, configured with an IP-authenticated inbound
# trunk for 127.0.0.1, an assistant with a greeting and the number $did assigned to it.
start_server() {
    local dir=$1 line
    shift
    mkdir -p "$dir"
    api_key=$("$bin" keys create --data-dir "$dir" --org bench | tr -d '[:space:]')
    [[ -n "$api_key" ]] || die "trunkline keys create printed no key"
    # taskset execs the server, so $! is the server's own pid.
    taskset -c "$server_cpus" "$bin" serve \
        --data-dir "$dir" \
        --api-listen 127.0.0.1:0 \
        --sip-listen 127.0.0.1:0 \
        --rtp-ports "$rtp_ports" \
        --max-calls 100000 \
        --max-cps 100000 \
        --api-rate-limit 100000000 \
        --log-level "$log_level" \
        "$@" \
        >"$dir/server.out" 2>"$dir/server.err" &
    server_pid=$!
    started_pids+=("$server_pid")
    api_base=""
    sip_target=""
    for _ in $(seq 1 150); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$dir/server.err" >&2 || true
            die "the server exited during start-up"
        fi
        line=$(grep -m1 -oE 'trunkline: api listening on http://[^[:space:]]+' "$dir/server.out" || true)
        [[ -n "$line" ]] && api_base=${line#trunkline: api listening on }
        line=$(grep -m1 -oE 'trunkline: sip listening on sip:[^[:space:]]+' "$dir/server.out" || true)
        [[ -n "$line" ]] && sip_target=${line#trunkline: sip listening on sip:}
        [[ -n "$api_base" && -n "$sip_target" ]] && break
        sleep 0.1
    done
    [[ -n "$api_base" ]] || die "no 'trunkline: api listening on http://HOST:PORT' line on stdout within 15 s"
    [[ -n "$sip_target" ]] || die "no 'trunkline: sip listening on sip:HOST:PORT' line on stdout within 15 s"
    curl -fsS "$api_base/health" >/dev/null || die "GET $api_base/health failed"

    api_post /sip-trunks '{"name":"bench","direction":"inbound","auth_type":"ip","allowed_addresses":["127.0.0.1"]}' >/dev/null
    local assistant_id
    assistant_id=$(api_post /assistants "{\"name\":\"Bench\",\"first_message\":\"$greeting\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["assistant"]["id"])')
    api_post /numbers "{\"phone_number\":\"$did\",\"assistant_id\":\"$assistant_id\"}" >/dev/null
}

stop_server() {
    [[ -n "$server_pid" ]] && stop_pid "$server_pid"
    server_pid=""
}

# wait_gauges_zero TIMEOUT_S: wait for the call gauges to return to 0; prints their last values.
gauges() {
    echo "active_calls=$(metric trunkline_active_calls) sip_dialogs=$(metric trunkline_sip_dialogs)" \
        "rtp_ports_in_use=$(metric trunkline_rtp_ports_in_use)"
}
wait_gauges_zero() {
    local deadline=$((SECONDS + $1)) g
    while :; do
        g=$(gauges)
        if [[ "$g" == "active_calls=0 sip_dialogs=0 rtp_ports_in_use=0" ]] || ((SECONDS >= deadline)); then
            echo "$g"
            return 0
        fi
        sleep 0.2
    done
}

# call_summary: the server's call records tallied by status and end reason, "ended/user_hangup x60".
call_summary() {
    python3 - "$api_base" "$api_key" <<'EOF' || echo "n/a"
import collections, json, sys, urllib.request
base, key = sys.argv[1], sys.argv[2]
tally, offset = collections.Counter(), 0
while True:
    req = urllib.request.Request(f"{base}/api/v1/calls?limit=1000&offset={offset}",
                                 headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        page = json.load(r)
    for c in page["calls"]:
        tally[f"{c.get('status')}/{c.get('end_reason')}"] += 1
    offset += len(page["calls"])
    if not page["calls"] or offset >= page["pagination"]["total"]:
        break
print(" ".join(f"{k} x{v}" for k, v in tally.most_common()) or "none")
EOF
}

# --- sipp
uac_pid=""
uac_t0=""
# start_uac OUT_DIR TARGET RATE CALLS HOLD_MS TIMEOUT_S [sipp args...]: a sipp UAC in the
# background, pinned to the sipp CPUs, writing stat.csv, screen.log and its error logs in OUT_DIR.
start_uac() {
    local out=$1 target=$2 rate=$3 calls=$4 hold_ms=$5 timeout_s=$6 port media_port
    shift 6
    mkdir -p "$out"
    port=$(free_udp_ports 1) || die "no free UDP port for sipp"
    media_port=$(free_udp_ports 4) || die "no free UDP ports for sipp's media"
    uac_t0=$(now)
    (
        cd "$out"
        exec taskset -c "$sipp_cpus" sipp "$target" -sf "$scenario" -s "$did" \
            -i 127.0.0.1 -p "$port" -mp "$media_port" \
            -r "$rate" -rp 1000 -m "$calls" -l "$calls" -d "$hold_ms" -timeout "${timeout_s}s" \
            -nostdin -buff_size 4194304 -max_recv_loops 10000 -max_sched_loops 10000 \
            -trace_stat -stf stat.csv -fd 1 -trace_screen -screen_file screen.log \
            -trace_err -error_file errors.log -trace_error_codes "$@" \
            >/dev/null 2>sipp.err
    ) &
    uac_pid=$!
    started_pids+=("$uac_pid")
}

# sipp_stat FILE COLUMN: COLUMN of the last row of a sipp -trace_stat CSV (empty when absent).
sipp_stat() {
    [[ -f "$1" ]] || return 0
    awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        { v = $c } END { if (c) print v }' "$1"
}
# sipp_rt_max FILE: the slowest INVITE -> 200 bucket of the response-time repartition ("<10ms",
# ">=500ms"; the buckets are the scenario's ResponseTimeRepartition). sipp's average response time
# has a 1 ms resolution, too coarse on loopback.
sipp_rt_max() {
    [[ -f "$1" ]] || { echo n/a; return 0; }
    awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^ResponseTimeRepartition1_/) { c[i] = $i; sub(/^ResponseTimeRepartition1_/, "", c[i]) } next }
        { last = ""; for (i = 1; i <= NF; i++) if ((i in c) && $i > 0) last = c[i] }
        END { print (last == "" ? "n/a" : last "ms") }' "$1"
}
# Unexpected response codes seen by sipp (from -trace_error_codes), "503x12 408x1".
error_codes() {
    local f
    f=$(find "$1" -maxdepth 1 -name '*_error_codes.csv' -print -quit)
    [[ -n "$f" ]] || return 0
    # Rows: "date time epoch;elapsed;code;code;..." (separators ';' or ',').
    awk -F';' '{ for (i = 3; i <= NF; i++) { n = split($i, a, /[, ]+/)
                     for (j = 1; j <= n; j++) if (a[j] ~ /^[1-6][0-9][0-9]$/) c[a[j]]++ } }
        END { for (k in c) { printf "%s%sx%s", sep, k, c[k]; sep = " " } if (sep) print "" }' "$f"
}

# ------------------------------------------------------------------------------ header
echo "trunkline SIP benchmark"
echo "  date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  host:        $(uname -sr), $ncpu CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown CPU), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  server:      $("$bin" --version 2>/dev/null || echo "$bin") on CPUs $server_cpus, log level $log_level, --rtp-ports $rtp_ports ($rtp_pairs pairs), --max-calls/--max-cps 100000"
sipp_version=$(sipp -v 2>&1 || true)
sipp_version=$(grep -m1 -oE 'SIPp v[^ ]+[^. ]' <<<"$sipp_version" || echo sipp)
echo "  load:        $sipp_version on CPUs $sipp_cpus, scenario bench/sipp/uac_pcmu.xml over UDP"
echo "  baseline:    sipp -sn uas on CPUs $server_cpus"
if ((run_ramp)); then
    echo "  ramp:        ${rates[*]} calls/s, ${step_seconds} s of new calls per step, each call held ${call_hold_ms} ms"
fi
if ((run_concurrent)); then
    echo "  concurrent:  $concurrent calls set up at $concurrent_rate calls/s, held together ${hold} s, RTP both ways (sipp -rtp_echo)"
fi
echo

anomalies=()
hold_s=$(calc "printf \"%.3f\", $call_hold_ms / 1000")

# ------------------------------------------------------------------------------ 1. ramp
declare -A best_rate best_step
# ramp NAME TARGET_PID SIP_TARGET: run the steps against one target until the first unclean one.
ramp() {
    local name=$1 pid=$2 target=$3 rate calls dir t0 t1 k0 k1 tw0 tw1 wall rc
    local ok failed retrans achieved rtt cpu cpu_ms hwm verdict codes rejected0 rejected1 rejected g
    best_rate[$name]=0
    best_step[$name]=none
    for rate in "${rates[@]}"; do
        calls=$((rate * step_seconds))
        dir="$work_dir/ramp-$name-$rate"
        rejected0=""
        [[ "$name" == trunkline ]] && rejected0=$(metric trunkline_calls_rejected_overload_total)
        start_uac "$dir" "$target" "$rate" "$calls" "$call_hold_ms" $((step_seconds + 60))
        t0=$uac_t0
        # CPU over the steady state: from one hold time in (calls end as fast as they start) to
        # the end of the new calls; the whole run when the step is not longer than the hold.
        if calc "exit !($step_seconds > $hold_s + 0.5)"; then
            nap "$hold_s"
            tw0=$(now)
            k0=$(proc_ticks "$pid")
            nap "$(calc "print $step_seconds - $hold_s")"
            k1=$(proc_ticks "$pid")
            tw1=$(now)
        else
            tw0=$t0
            k0=$(proc_ticks "$pid")
        fi
        rc=0
        wait "$uac_pid" || rc=$?
        t1=$(now)
        if ! calc "exit !($step_seconds > $hold_s + 0.5)"; then
            k1=$(proc_ticks "$pid")
            tw1=$t1
        fi
        kill -0 "$pid" 2>/dev/null || die "$name exited during the $rate calls/s step"
        ok=$(sipp_stat "$dir/stat.csv" 'SuccessfulCall(C)')
        failed=$(sipp_stat "$dir/stat.csv" 'FailedCall(C)')
        retrans=$(sipp_stat "$dir/stat.csv" 'Retransmissions(C)')
        rtt=$(sipp_rt_max "$dir/stat.csv")
        if [[ -z "$ok" || -z "$failed" || -z "$retrans" ]]; then
            echo "bench: sipp (exit $rc) wrote no statistics for $name at $rate calls/s:" >&2
            cat "$dir/sipp.err" >&2 || true
            die "sipp did not run"
        fi
        # Calls sipp never finished (global timeout) count as failed.
        if ((calls - ok - failed > 0)); then failed=$((calls - ok)); fi
        wall=$(calc "print $t1 - $t0")
        achieved=$(calc "printf \"%.1f\", $calls / ($wall - $hold_s)")
        cpu=$(calc "printf \"%.1f\", ($k1 - $k0) / $clk_tck / ($tw1 - $tw0) * 100")
        cpu_ms=$(calc "printf \"%.3f\", ($k1 - $k0) / $clk_tck * 1000 / ($rate * ($tw1 - $tw0))")
        hwm=$(mib "$(proc_kib "$pid" VmHWM)")
        rejected="-"
        if [[ "$name" == trunkline ]]; then
            rejected1=$(metric trunkline_calls_rejected_overload_total)
            rejected=$((${rejected1:-0} - ${rejected0:-0}))
        fi
        verdict=clean
        if ((failed > 0 || retrans > 0)); then
            verdict=UNCLEAN
        elif calc "exit !($achieved < 0.9 * $rate)"; then
            verdict="RATE NOT REACHED"
        fi
        codes=$(error_codes "$dir")
        [[ -n "$codes" ]] && verdict="$verdict (unexpected: $codes)"
        printf '%-9s %6s %8s %7s %7s %6s %9s %10s %7s %9s %8s  %s\n' "$name" "$rate" "$ok" "$failed" \
            "$retrans" "$rejected" "$achieved" "$rtt" "$cpu" "$cpu_ms" "$hwm" "$verdict"
        if [[ "$name" == trunkline ]]; then
            g=$(wait_gauges_zero 15)
            if [[ "$g" != "active_calls=0 sip_dialogs=0 rtp_ports_in_use=0" ]]; then
                anomalies+=("trunkline, $rate calls/s step: gauges not back to 0 15 s after the step: $g")
            fi
            if [[ "$rejected" != 0 ]]; then
                anomalies+=("trunkline, $rate calls/s step: $rejected INVITEs answered 503 by the overload limits")
            fi
        fi
        if saturated "$cpu"; then
            anomalies+=("$name, $rate calls/s step: CPU $cpu % on $server_ncpu core(s), saturated")
        fi
        if [[ "$verdict" != clean ]]; then
            if [[ "$verdict" == UNCLEAN* ]]; then
                anomalies+=("$name, $rate calls/s step: $failed failed calls, $retrans retransmissions${codes:+, unexpected responses $codes}")
            fi
            break
        fi
        best_rate[$name]=$achieved
        best_step[$name]=$rate
        nap "$settle_seconds"
    done
}

if ((run_ramp)); then
    echo "== 1. call-rate ramp (stops at the first failed call, retransmission or unreached rate)"
    # Baseline: sipp's own UAS, pinned like the server.
    uas_port=$(free_udp_ports 1) || die "no free UDP port for the baseline UAS"
    uas_media=$(free_udp_ports 4) || die "no free UDP ports for the baseline UAS's media"
    mkdir -p "$work_dir/uas"
    (
        cd "$work_dir/uas"
        exec taskset -c "$server_cpus" sipp -sn uas -i 127.0.0.1 -p "$uas_port" -mp "$uas_media" \
            -nostdin -buff_size 4194304 -max_recv_loops 10000 -max_sched_loops 10000 \
            >/dev/null 2>sipp.err
    ) &
    uas_pid=$!
    started_pids+=("$uas_pid")
    sleep 0.5
    kill -0 "$uas_pid" 2>/dev/null || die "sipp -sn uas exited: $(cat "$work_dir/uas/sipp.err")"
    printf '%-9s %6s %8s %7s %7s %6s %9s %10s %7s %9s %8s  %s\n' target step calls_ok failed retrans \
        503s achieved inv200_max cpu_% cpu_ms/cl hwm_MiB verdict
    ramp baseline "$uas_pid" "127.0.0.1:$uas_port"
    stop_pid "$uas_pid"

    start_server "$work_dir/server-ramp"
    ramp trunkline "$server_pid" "$sip_target"
    ramp_calls=$(call_summary)
    stop_server
    echo
    last_rate=${rates[${#rates[@]} - 1]}
    for name in baseline trunkline; do
        label=$([[ $name == baseline ]] && echo "sipp -sn uas (baseline)" || echo "trunkline serve")
        note=""
        [[ "${best_step[$name]}" == "$last_rate" ]] && note=" (every step clean: the ramp's ceiling, not the target's; raise BENCH_RATES)"
        echo "highest clean rate, $label: ${best_rate[$name]} calls/s (step ${best_step[$name]})$note"
    done
    echo "trunkline call records (status/end reason): $ramp_calls"
    echo "trunkline / baseline ratio: $(calc "if (${best_rate[baseline]} > 0) printf \"%.3f\", ${best_rate[trunkline]} / ${best_rate[baseline]}; else print \"n/a\"")"
    echo
fi

# ------------------------------------------------------------------------------ 2. concurrent
if ((run_concurrent)); then
    echo "== 2. $concurrent concurrent calls held ${hold} s, RTP both ways"
    ((concurrent <= rtp_pairs)) || die "BENCH_RTP_PORTS has $rtp_pairs pairs, fewer than $concurrent calls"
    # A short RTP inactivity timeout: a call whose RTP does not come back is ended by the server
    # (end reason rtp_timeout, a BYE sipp does not expect), so the run shows RTP flowing both ways.
    start_server "$work_dir/server-concurrent" --rtp-timeout "$rtp_timeout"

    # Warm-up (not measured): the first calls synthesise and cache the greeting and grow the
    # stack's pools, which would otherwise be charged to the calls under test.
    start_uac "$work_dir/warmup" "$sip_target" 10 10 200 60
    wait "$uac_pid" || true
    g=$(wait_gauges_zero 15)
    [[ "$(sipp_stat "$work_dir/warmup/stat.csv" 'SuccessfulCall(C)')" == 10 ]] ||
        anomalies+=("warm-up: only $(sipp_stat "$work_dir/warmup/stat.csv" 'SuccessfulCall(C)') of 10 calls succeeded")

    nap 1
    rss_idle=$(proc_kib "$server_pid" VmRSS)
    t0=$(now)
    k0=$(proc_ticks "$server_pid")
    nap 3
    k1=$(proc_ticks "$server_pid")
    t1=$(now)
    cpu_idle=$(calc "printf \"%.2f\", ($k1 - $k0) / $clk_tck / ($t1 - $t0) * 100")

    # Every call is held long enough that all of them are up together for $hold seconds.
    setup_s=$(((concurrent + concurrent_rate - 1) / concurrent_rate))
    call_ms=$(((hold + setup_s + 2) * 1000))
    dir="$work_dir/concurrent"
    start_uac "$dir" "$sip_target" "$concurrent_rate" "$concurrent" "$call_ms" \
        $((setup_s + hold + 90)) -rtp_echo
    reached=""
    deadline=$((SECONDS + setup_s + 20))
    peak_active=0
    while ((SECONDS < deadline)) && kill -0 "$uac_pid" 2>/dev/null; do
        active=$(metric trunkline_active_calls)
        active=${active%.*}
        ((${active:-0} > peak_active)) && peak_active=${active:-0}
        if ((${active:-0} >= concurrent)); then
            reached=yes
            break
        fi
        sleep 0.2
    done
    [[ -n "$reached" ]] || anomalies+=("trunkline_active_calls peaked at $peak_active, never reached $concurrent during set-up")

    # Measure while every call is up (one second of margin before the first BYE).
    window=$((hold - 1 > 0 ? hold - 1 : 1))
    rss_peak=0
    min_active=""
    t0=$(now)
    k0=$(proc_ticks "$server_pid")
    for _ in $(seq 1 "$window"); do
        nap 1
        rss=$(proc_kib "$server_pid" VmRSS)
        ((rss > rss_peak)) && rss_peak=$rss
        active=$(metric trunkline_active_calls)
        active=${active%.*}
        ((${active:-0} > peak_active)) && peak_active=${active:-0}
        if [[ -z "$min_active" ]] || ((${active:-0} < min_active)); then min_active=${active:-0}; fi
    done
    k1=$(proc_ticks "$server_pid")
    t1=$(now)
    cpu_calls=$(calc "printf \"%.2f\", ($k1 - $k0) / $clk_tck / ($t1 - $t0) * 100")
    rtp_ports_up=$(metric trunkline_rtp_ports_in_use)

    rc=0
    wait "$uac_pid" || rc=$?
    ok=$(sipp_stat "$dir/stat.csv" 'SuccessfulCall(C)')
    failed=$(sipp_stat "$dir/stat.csv" 'FailedCall(C)')
    retrans=$(sipp_stat "$dir/stat.csv" 'Retransmissions(C)')
    [[ -n "$ok" ]] || die "sipp (exit $rc) wrote no statistics for the concurrent calls: $(cat "$dir/sipp.err")"
    g=$(wait_gauges_zero 30)
    concurrent_calls=$(call_summary)
    nap 1
    rss_after=$(proc_kib "$server_pid" VmRSS)
    hwm=$(proc_kib "$server_pid" VmHWM)
    codes=$(error_codes "$dir")
    stop_server

    per_call_kib=$(calc "printf \"%.1f\", ($rss_peak - $rss_idle) / $concurrent")
    per_call_cpu=$(calc "printf \"%.4f\", ($cpu_calls - $cpu_idle) / $concurrent")
    printf '%-44s %s\n' \
        "calls (sipp):" "$ok ok, $failed failed, $retrans retransmissions${codes:+, unexpected responses $codes}" \
        "trunkline_active_calls during the hold:" "min $min_active, peak $peak_active (expected $concurrent)" \
        "trunkline_rtp_ports_in_use during the hold:" "$rtp_ports_up (expected $((concurrent * 2)))" \
        "call records (status/end reason):" "$concurrent_calls (includes the 10 warm-up calls)" \
        "gauges after the calls:" "$g" \
        "server RSS idle (after warm-up):" "$(mib "$rss_idle") MiB" \
        "server RSS with $concurrent calls up (peak):" "$(mib "$rss_peak") MiB" \
        "server RSS after the calls ended:" "$(mib "$rss_after") MiB (VmHWM $(mib "$hwm") MiB)" \
        "memory per active call:" "$per_call_kib KiB" \
        "server CPU idle:" "$cpu_idle % of a core" \
        "server CPU with $concurrent calls up:" "$cpu_calls % of a core (over ${window} s)" \
        "CPU per active call:" "$per_call_cpu % of a core"
    echo
    if ((failed > 0 || retrans > 0)); then
        anomalies+=("concurrent calls: $failed failed, $retrans retransmissions${codes:+, unexpected responses $codes}")
    fi
    if saturated "$cpu_calls"; then
        anomalies+=("concurrent calls: server CPU $cpu_calls % on $server_ncpu core(s) is saturated: the per-call CPU is a lower bound and RTP pacing may have slipped")
    fi
    if ((${min_active:-0} < concurrent)); then
        anomalies+=("concurrent calls: trunkline_active_calls fell to $min_active during the hold, so the per-call figures are not for $concurrent calls")
    fi
    if [[ "$g" != "active_calls=0 sip_dialogs=0 rtp_ports_in_use=0" ]]; then
        anomalies+=("concurrent calls: gauges not back to 0 30 s after the calls ended: $g")
    fi
fi

# ------------------------------------------------------------------------------ summary
meets() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "MISSED" }'; }
results=()
if ((run_ramp)); then
    verdict=$(meets "${best_rate[trunkline]}" "$target_cps" ">=")
    if [[ "$verdict" == MISSED && "${best_step[trunkline]}" == "$last_rate" ]]; then
        verdict="not determined (every step up to $last_rate calls/s was clean)"
    fi
    results+=("trunkline clean calls/s >= $target_cps: $verdict")
fi
((run_concurrent)) && results+=("memory per active call < $target_kib_per_call KiB: $(meets "$per_call_kib" "$target_kib_per_call" "<")")
echo "targets (reported, not enforced):"
printf '  %s\n' "${results[@]}"
if ((${#anomalies[@]} > 0)); then
    echo
    echo "observed:"
    printf '  %s\n' "${anomalies[@]}"
fi
exit 0
