"""The trunk doctor, POST /sip-trunks/{id}/test, against real peers: a carrier that answers
OPTIONS, one that challenges and accepts (or refuses) our credentials, one that never answers,
closed UDP and TCP ports; and an inbound trunk's report of its recent calls."""

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from sip_harness import SCENARIOS, SIPP, SipServerTestCase, free_udp_port, wait_until_bound

USERNAME = "trunkline-out"  # what uas_options_digest.xml expects
PASSWORD = "Carrier-Secret-1"
STEP_TIMEOUT = 5  # the doctor's per-step timeout, seconds


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestTrunkDoctor(SipServerTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tl-doctor-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def carrier(self, scenario):
        """A sipp carrier for one OPTIONS exchange; returns (port, process)."""
        return self.sipp_peer(scenario, self.tmp, timeout="30s")

    def examine(self, port, **fields):
        """Creates an outbound trunk to 127.0.0.1:`port` and tests it: (report, seconds)."""
        body = {"name": f"carrier {port}", "direction": "outbound", "host": "127.0.0.1",
                "port": port, "auth_type": "ip", **fields}
        r = self.server.api("POST", "/sip-trunks", body)
        self.assertEqual(r.status, 201, r)
        started = time.monotonic()
        report = self.server.api("POST", f"/sip-trunks/{r.body['trunk']['id']}/test")
        elapsed = time.monotonic() - started
        self.assertEqual(report.status, 200, report)
        for step in report.body["steps"]:
            self.assertIn(step["status"], ("pass", "warn", "fail"), step)
            self.assertIsInstance(step["hint"], str, step)
            self.assertTrue(step["hint"], step)
        return report.body, elapsed

    def steps(self, report):
        return {s["name"]: s for s in report["steps"]}

    def assertStepOrder(self, report, names):
        self.assertEqual([s["name"] for s in report["steps"]], names, report)

    def test_carrier_answering_options_passes_with_a_round_trip_time(self):
        port, carrier = self.carrier("uas_options_ok.xml")
        report, _ = self.examine(port)
        self.assertEqual(report["result"], "pass", report)
        self.assertStepOrder(report, ["dns", "options"])
        options = self.steps(report)["options"]
        self.assertEqual(options["status"], "pass", options)
        self.assertIsInstance(options["rtt_ms"], (int, float), options)
        self.assertGreaterEqual(options["rtt_ms"], 0)
        self.assertLess(options["rtt_ms"], STEP_TIMEOUT * 1000)
        self.assertIn("OPTIONS sip:", options["exchange"], options)
        self.assertIn("200 OK", options["exchange"], options)
        self.assertIsNone(report["inbound"])
        _, err = carrier.communicate(timeout=10)
        self.assertEqual(carrier.returncode, 0, err.decode(errors="replace"))

    def test_credentials_accepted_after_a_challenge_pass(self):
        port, carrier = self.carrier("uas_options_digest.xml")
        report, _ = self.examine(port, auth_type="digest", username=USERNAME, password=PASSWORD)
        self.assertEqual(report["result"], "pass", report)
        self.assertStepOrder(report, ["dns", "options", "credentials"])
        steps = self.steps(report)
        self.assertEqual(steps["options"]["status"], "pass", steps["options"])
        self.assertIn("401", steps["options"]["hint"])
        self.assertIsInstance(steps["options"]["rtt_ms"], (int, float), steps["options"])
        self.assertEqual(steps["credentials"]["status"], "pass", steps["credentials"])
        self.assertIn(USERNAME, steps["credentials"]["hint"])
        self.assertNotIn(PASSWORD, str(report))
        # The carrier checked the digest against its own copy of the password.
        _, err = carrier.communicate(timeout=10)
        self.assertEqual(carrier.returncode, 0, err.decode(errors="replace"))

    def test_credentials_refused_after_a_challenge_fail(self):
        port, _ = self.carrier("uas_options_digest.xml")
        report, _ = self.examine(port, auth_type="digest", username=USERNAME,
                                 password="Not-The-Password-2")
        self.assertEqual(report["result"], "fail", report)
        credentials = self.steps(report)["credentials"]
        self.assertEqual(credentials["status"], "fail", credentials)
        self.assertIn(USERNAME, credentials["hint"])
        self.assertIn("403", credentials["hint"])
        self.assertNotIn("Not-The-Password-2", str(report))

    def test_peer_that_never_answers_fails_options_after_the_step_timeout(self):
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # takes OPTIONS, says nothing
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        report, elapsed = self.examine(silent.getsockname()[1])
        self.assertEqual(report["result"], "fail", report)
        self.assertStepOrder(report, ["dns", "options"])
        options = self.steps(report)["options"]
        self.assertEqual(options["status"], "fail", options)
        self.assertNotIn("rtt_ms", options)
        self.assertGreaterEqual(elapsed, STEP_TIMEOUT - 0.5)
        self.assertLess(elapsed, STEP_TIMEOUT + 3)
        silent.settimeout(0)
        self.assertTrue(silent.recv(65535).startswith(b"OPTIONS "), "no OPTIONS arrived")

    def test_api_keeps_answering_while_a_test_waits(self):
        # The doctor waits seconds on the network: off the io threads, which carry calls and
        # every other request. Two runs at once (as many as there are io threads here) must not
        # hold up /health.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        ids = []
        for _ in range(2):
            r = self.server.api("POST", "/sip-trunks", {
                "name": "silent", "host": "127.0.0.1", "port": silent.getsockname()[1],
                "auth_type": "ip"})
            ids.append(r.body["trunk"]["id"])
        results = []

        def run(trunk_id):
            conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
            conn.request("POST", f"/api/v1/sip-trunks/{trunk_id}/test",
                         headers={"Authorization": f"Bearer {self.server.key_a}"})
            results.append(conn.getresponse().status)
            conn.close()
        runners = [threading.Thread(target=run, args=(i,)) for i in ids]
        for t in runners:
            t.start()
        time.sleep(0.5)
        started = time.monotonic()
        health = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        health.request("GET", "/health")
        self.assertEqual(health.getresponse().status, 200)
        self.assertLess(time.monotonic() - started, 1.0, "an io thread waited on the doctor")
        health.close()
        for t in runners:
            t.join()
        self.assertEqual(results, [200, 200])

    def test_closed_udp_port_fails_options(self):
        report, elapsed = self.examine(free_udp_port())
        self.assertEqual(report["result"], "fail", report)
        self.assertStepOrder(report, ["dns", "options"])
        self.assertEqual(self.steps(report)["options"]["status"], "fail", report)
        self.assertLess(elapsed, STEP_TIMEOUT + 3)

    def test_closed_tcp_port_fails_connect_and_stops_there(self):
        port = free_tcp_port()
        report, _ = self.examine(port, transport="tcp")
        self.assertEqual(report["result"], "fail", report)
        self.assertStepOrder(report, ["dns", "connect"])
        connect = self.steps(report)["connect"]
        self.assertEqual(connect["status"], "fail", connect)
        self.assertIn(str(port), connect["hint"])

    def test_inbound_trunk_reports_its_recent_attempts(self):
        trunk = next(t for t in self.server.api("GET", "/sip-trunks").body["trunks"]
                     if t["direction"] == "inbound")
        before = self.server.api("POST", f"/sip-trunks/{trunk['id']}/test")
        self.assertEqual(before.status, 200, before)
        self.assertEqual(before.body["inbound"]["recent_attempts"], [], before.body)
        self.sipp("call_hangup.xml")
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"),
                                          None), what="the ended call")
        r = self.server.api("POST", f"/sip-trunks/{trunk['id']}/test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["steps"], [], r.body)  # nothing of ours to reach
        inbound = r.body["inbound"]
        self.assertIn(str(self.server.sip_port), inbound["endpoint"])
        self.assertTrue(inbound["instructions"], inbound)
        # The trunk lists no numbers of its own: the organization's numbers may all arrive.
        self.assertEqual(trunk["numbers"], [])
        owned = sorted(n["phone_number"] for n in self.server.api("GET", "/numbers").body["numbers"])
        self.assertEqual(sorted(inbound["numbers"]), owned)
        attempts = inbound["recent_attempts"]
        self.assertEqual(len(attempts), 1, attempts)
        self.assertEqual(attempts[0]["call_id"], call["id"])
        self.assertEqual(attempts[0]["status"], "ended")
        self.assertEqual(attempts[0]["end_reason"], "user_hangup")
        self.assertIn("sip_code", attempts[0])
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
