#!/usr/bin/env bash
# Installs the Debian 12 packages Trunkline needs to build, test and run; only those that are
# missing. Idempotent: when everything is present it changes nothing and does not touch the network.
#
#   scripts/install-deps.sh           build + test + run dependencies
#   scripts/install-deps.sh --bench   also the benchmark tools (wrk, taskset from util-linux)
#
# Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config
    # Rebuilds (CI's clone, the sanitizer build) reuse what was compiled before.
    ccache
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libsqlite3-dev sqlite3 libsodium-dev libsofia-sip-ua-dev
    # HTTPS client (src/net); the openssl CLI makes the TLS tests' certificates.
    libssl-dev openssl
    libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
    libespeak-ng-dev espeak-ng-data
    # The espeak-ng command speaks callers' phrases in the conversation tests.
    espeak-ng
    libgtest-dev libgmock-dev
    curl python3
    # Test peers and checks: sipp, PocketSphinx (transcribes what a caller hears), sox, flite (callers' voices).
    sip-tester libpocketsphinx-dev libsphinxbase-dev pocketsphinx pocketsphinx-en-us sox flite
    # Real softphones for the interop matrix (tests/interop): baresip 1.0 and linphone 5.1's
    # console client (linphonec).
    baresip linphone-cli
    # Reads the pcap of a call's SIP capture back (tests of GET /calls/{id}/sip?format=pcap).
    tshark
    # Call recordings as Opus in Ogg (src/recording); opusdec decodes them back in the tests.
    libopus-dev libogg-dev opus-tools
)
bench_packages=(wrk util-linux)

usage() {
    echo "usage: $0 [--bench]" >&2
}

for arg in "$@"; do
    case "$arg" in
        --bench) packages+=("${bench_packages[@]}") ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "install-deps: unknown option '$arg'" >&2
            usage
            exit 2
            ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: this script needs a Debian-based system (dpkg-query and apt-get)" >&2
    exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
    # "install ok installed" only; "deinstall ok config-files" (removed) counts as missing.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
