"""Driver of bench/transfer.sh: see the header there. Starts and stops everything it uses."""

import concurrent.futures
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.environ["TRUNKLINE_BIN"]
REPO = os.environ["BENCH_REPO"]
CALLS = int(os.environ["BENCH_CALLS"])
HOLD = int(os.environ["BENCH_HOLD"])
SERVER_CPUS = os.environ["BENCH_SERVER_CPUS"]
SIPP_CPUS = os.environ["BENCH_SIPP_CPUS"]
DID = "+31850835037"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def main():
    work = tempfile.mkdtemp(prefix="tl-transfer-bench-")
    procs = []
    try:
        key = subprocess.run([BIN, "keys", "create", "--data-dir", work, "--org", "bench"],
                             capture_output=True, text=True, check=True).stdout.strip()
        server = subprocess.Popen(
            ["taskset", "-c", SERVER_CPUS, BIN, "serve", "--data-dir", work, "--api-listen",
             "127.0.0.1:0", "--sip-listen", "127.0.0.1:0", "--rtp-ports", "10000-19999",
             "--max-calls", "100000", "--max-cps", "100000", "--api-rate-limit", "100000000",
             "--rtp-timeout", "600", "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(server)
        api = sip = None
        while api is None:
            line = server.stdout.readline()
            if not line:
                sys.exit("bench: server did not start")
            if m := re.search(r"sip listening on sip:([\d.]+):(\d+)", line):
                sip = (m.group(1), int(m.group(2)))
            if m := re.search(r"api listening on (http://\S+)", line):
                api = m.group(1) + "/api/v1"

        def call_api(method, path, body=None):
            req = urllib.request.Request(api + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Bearer {key}",
                                                  "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"{}")

        call_api("POST", "/sip-trunks", {"name": "bench", "direction": "inbound", "auth_type": "ip",
                                         "allowed_addresses": ["127.0.0.1"]})
        a = call_api("POST", "/assistants", {"name": "Bench", "first_message": "Hello."})
        call_api("POST", "/numbers", {"phone_number": DID, "assistant_id": a["assistant"]["id"]})

        pbx_port = free_port()
        pbx = subprocess.Popen(
            ["taskset", "-c", SIPP_CPUS, "sipp", "-sf", f"{REPO}/tests/sipp/uas_answer_echo.xml",
             "-i", "127.0.0.1", "-p", str(pbx_port), "-mp", str(free_port()), "-rtp_echo",
             "-m", str(CALLS), "-bg"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(pbx)
        uac = subprocess.Popen(
            ["taskset", "-c", SIPP_CPUS, "sipp", f"{sip[0]}:{sip[1]}", "-sf",
             f"{REPO}/bench/sipp/uac_wait_bye.xml", "-s", DID, "-i", "127.0.0.1",
             "-p", str(free_port()), "-r", "100", "-m", str(CALLS), "-l", str(CALLS),
             "-d", "600000", "-bg"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(uac)

        deadline = time.time() + 60
        while True:
            live = [c for c in call_api("GET", f"/calls?limit=1000&status=in-progress")["calls"]]
            if len(live) >= CALLS or time.time() > deadline:
                break
            time.sleep(0.5)
        print(f"calls in progress: {len(live)} of {CALLS}")
        time.sleep(2)
        idle_cpu0 = cpu_seconds(server.pid)
        time.sleep(3)
        answered_cpu = (cpu_seconds(server.pid) - idle_cpu0) / 3
        rss_before = rss_mib(server.pid)

        def transfer(call):
            return call_api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": f"sip:agent@127.0.0.1:{pbx_port}"})
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(transfer, live))
        deadline = time.time() + 60
        while True:
            ended = call_api("GET", "/calls?limit=1000")["calls"]
            bridged = 0
            for c in ended:
                one = call_api("GET", f"/calls/{c['id']}")
                bridged += bool(one["transfer"] and one["transfer"]["status"] == "connected")
            if bridged >= len(live) or time.time() > deadline:
                break
            time.sleep(1)
        outcomes = {}
        for c in ended:
            t = call_api("GET", f"/calls/{c['id']}")["transfer"] or {}
            k = f"{t.get('status')}/{t.get('reason')}/{t.get('sip_code')}"
            outcomes[k] = outcomes.get(k, 0) + 1
        print(f"bridged: {bridged} of {len(live)}; transfer outcomes: {outcomes}")
        cpu0 = cpu_seconds(server.pid)
        time.sleep(HOLD)
        bridged_cpu = (cpu_seconds(server.pid) - cpu0) / HOLD
        rss_bridged = rss_mib(server.pid)

        latencies = []
        for c in ended:
            events = call_api("GET", f"/calls/{c['id']}")["events"]
            t = {e["type"]: e["created_at"] for e in events}
            if "transfer.requested" in t and "transfer.invite" in t:
                a_ = datetime.datetime.fromisoformat(t["transfer.requested"].replace("Z", "+00:00"))
                b_ = datetime.datetime.fromisoformat(t["transfer.invite"].replace("Z", "+00:00"))
                latencies.append((b_ - a_).total_seconds() * 1000)
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
        print(f"control request -> destination INVITE: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms "
              f"(n={len(latencies)}, event timestamps have 1 ms resolution)")
        print(f"server CPU with {len(live)} answered calls (silence out, nothing in): "
              f"{answered_cpu * 100:.1f} % of a core")
        print(f"server CPU with {bridged} bridged calls (media both ways, relayed): "
              f"{bridged_cpu * 100:.1f} % of a core = {bridged_cpu * 100 / max(bridged, 1):.3f} % per call")
        print(f"server RSS: {rss_before:.1f} MiB answered, {rss_bridged:.1f} MiB bridged")
        print(f"targets: p99 < 20 ms: {'met' if p(0.99) < 20 else 'MISSED'}; "
              f"500 bridged calls under one core (extrapolated): "
              f"{'met' if bridged_cpu / max(bridged, 1) * 500 < 1 else 'MISSED'}")
    finally:
        for proc in reversed(procs):
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
            except Exception:
                proc.kill()
        subprocess.run(["pkill", "-f", "uac_wait_bye.xml"], check=False)
        subprocess.run(["pkill", "-f", "uas_answer_echo.xml"], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
