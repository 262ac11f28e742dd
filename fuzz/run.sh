#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and fuzzes each one for a
# while, starting from its committed corpus (docs/fuzzing.md).
#
#   fuzz/run.sh [--time SECONDS] [--merge] [--jobs N] [TARGET...]
#
#   --time S   seconds per target (default 60)
#   --merge    afterwards, merge the inputs that found new coverage into fuzz/corpus/<target>/
#              (libFuzzer -merge=1: only inputs that add coverage are copied)
#   --jobs N   ninja jobs for the build (default 1)
#   TARGET     fuzz_validation, fuzz_api_request, fuzz_config_json, fuzz_sdp, fuzz_sip_auth,
#              fuzz_rtp, fuzz_sip_capture, fuzz_dns_answer (default: all)
#
# New inputs go to build-fuzz/fuzz/new-corpus/<target>/, crashes to build-fuzz/fuzz/crashes/; the
# committed corpus changes only with --merge. A crash stops that target's run and makes the
# script exit non-zero: reproduce with `build-fuzz/fuzz/<target> <crash file>`, and once fixed,
# commit the input as fuzz/corpus/<target>/crash-<what-it-was>.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
seconds=60
merge=0
jobs=1
targets=()
all_targets=(fuzz_validation fuzz_api_request fuzz_config_json fuzz_sdp fuzz_sip_auth fuzz_rtp
             fuzz_sip_capture fuzz_dns_answer)

while [[ $# -gt 0 ]]; do
    case $1 in
        --time) seconds=$2; shift 2 ;;
        --merge) merge=1; shift ;;
        --jobs) jobs=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        fuzz_*) targets+=("$1"); shift ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

if ! command -v clang++ >/dev/null; then
    echo "clang++ is needed for libFuzzer (apt-get install clang)" >&2
    exit 1
fi

cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DTL_FUZZ=ON -DTL_BUILD_TESTS=ON >/dev/null
ninja -C "$build" -j "$jobs" "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for target in "${targets[@]}"; do
    corpus=$root/fuzz/corpus/$target
    new=$build/fuzz/new-corpus/$target
    crashes=$build/fuzz/crashes/$target
    mkdir -p "$new" "$crashes"
    echo "== $target: ${seconds}s from $corpus"
    if ! "$build/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$new" "$corpus"; then
        echo "== $target: CRASH, see $crashes/" >&2
        status=1
        continue
    fi
    if [[ $merge == 1 ]]; then
        before=$(ls "$corpus" | wc -l)
        "$build/fuzz/$target" -merge=1 "$corpus" "$new" 2>/dev/null
        echo "== $target: corpus $before -> $(ls "$corpus" | wc -l) files"
    fi
done
exit $status
