"""Driver of bench/outbound.sh: see the header there."""

import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "api"))
sys.path.insert(0, os.path.join(REPO, "tests", "sip"))

import harness  # noqa: E402
from sip_harness import SCENARIOS, SIPP, free_udp_port, rtp_range  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "500"))
CPS = float(os.environ.get("BENCH_CPS", "50"))


def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run(cps):
    srv = harness.Server(extra_args=["--rtp-ports", rtp_range(), "--log-level", "warn"])
    srv.start()
    log = tempfile.mkdtemp(prefix="tl-outbound-bench-")
    port = free_udp_port()
    carrier = subprocess.Popen(
        [SIPP, "-sf", os.path.join(SCENARIOS, "uas_busy.xml"), "-i", "127.0.0.1", "-p", str(port), "-m", str(CALLS), "-timeout", "300s"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=log)
    try:
        trunk = {"name": "carrier", "direction": "outbound", "host": "127.0.0.1", "port": port,
                 "auth_type": "ip", "caller_id": "+31850835037"}
        if cps:
            trunk["max_calls_per_second"] = cps
        trunk_id = srv.api("POST", "/sip-trunks", trunk).body["trunk"]["id"]
        assistant_id = srv.api("POST", "/assistants", {"name": "bench"}).body["assistant"]["id"]
        sent = {}
        retries = 0
        for i in range(CALLS):
            while True:
                started = time.time()
                r = srv.api("POST", "/calls/outbound", {
                    "destination": f"+3161{i:07d}", "assistant_id": assistant_id,
                    "trunk_id": trunk_id})
                if r.status == 429:
                    retries += 1
                    time.sleep(1)
                    continue
                assert r.status == 200, r
                sent[r.body["call_id"]] = started
                break
        invites = {}
        deadline = time.time() + 120
        while len(invites) < len(sent) and time.time() < deadline:
            for call_id in sent:
                if call_id in invites:
                    continue
                call = srv.api("GET", f"/calls/{call_id}").body
                event = next((e for e in call["events"] if e["type"] == "sip.invite"), None)
                if event:
                    invites[call_id] = ts(event["created_at"])
            time.sleep(0.5)
        return sent, invites, retries
    finally:
        carrier.kill()
        carrier.wait()
        srv.stop()
        srv.cleanup()


def main():
    sent, invites, retries = run(CPS)
    times = sorted(invites.values())
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0
    print(f"paced: {len(invites)}/{CALLS} INVITEs sent, configured {CPS:g}/s, achieved "
          f"{achieved:.1f}/s, ratio {achieved / CPS:.3f}; {retries} requests answered 429 and "
          f"retried")
    sent, invites, _ = run(0)
    latencies = sorted((invites[c] - sent[c]) * 1000 for c in invites)
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    print(f"unpaced: API request -> INVITE over {len(latencies)} calls: "
          f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms "
          "(event times have 1 ms resolution; the request clock is the driver's)")


if __name__ == "__main__":
    main()
