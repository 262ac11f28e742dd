"""The operator's CLI beside a running server: `trunkline calls sip` prints a finished call's
ladder, JSON or pcap from the data dir; `trunkline trunk test` runs the trunk doctor with its own
SIP stack and exits 1 when a step fails. And captures older than --sip-capture-retention-days
are purged (at start-up, then hourly)."""

import json
import socket
import sqlite3
import subprocess
import tempfile
import unittest

from sip_harness import SipServerTestCase, free_udp_port


class TestDiagnoseCli(SipServerTestCase):

    def ended_call(self):
        self.sipp("call_hangup.xml")
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"),
                                          None), what="an ended call")
        # Stored two seconds after the end, with its last messages.
        self.wait_for(lambda: self.server.cli("calls", "sip", call["id"], "--data-dir",
                                              self.server.data_dir, check=False).returncode == 0,
                      timeout=10, what="the capture stored")
        return call

    def test_calls_sip_prints_the_stored_capture(self):
        call = self.ended_call()
        ladder = self.server.cli("calls", "sip", call["id"], "--data-dir",
                                 self.server.data_dir).stdout
        self.assertIn("trunkline", ladder)
        self.assertRegex(ladder, r"<-+INVITE-+\|")
        self.assertIn("200 OK (BYE)", ladder)
        doc = json.loads(self.server.cli("calls", "sip", call["id"], "--format", "json",
                                         "--data-dir", self.server.data_dir).stdout)
        self.assertEqual(doc, self.server.api("GET", f"/calls/{call['id']}/sip").body)
        pcap = subprocess.run([self.server_bin(), "calls", "sip", call["id"], "--format", "pcap",
                               "--data-dir", self.server.data_dir], capture_output=True,
                              check=True).stdout
        self.assertEqual(pcap[:4], bytes.fromhex("d4c3b2a1"))  # little-endian pcap magic
        with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
            f.write(pcap)
            f.flush()
            methods = subprocess.run(
                ["tshark", "-r", f.name, "-d", f"udp.port=={self.server.sip_port},sip", "-T",
                 "fields", "-e", "sip.Method"], capture_output=True, text=True, check=True).stdout
        self.assertIn("INVITE", methods.split())
        missing = self.server.cli("calls", "sip", "00000000-0000-4000-8000-000000000000",
                                  "--data-dir", self.server.data_dir, check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no SIP capture stored", missing.stderr)

    def test_trunk_test_exit_status_follows_the_result(self):
        good = self.server.api("POST", "/sip-trunks", {
            "name": "ourselves", "host": "127.0.0.1", "port": self.server.sip_port,
            "auth_type": "ip"}).body["trunk"]["id"]
        bad = self.server.api("POST", "/sip-trunks", {
            "name": "nobody", "host": "127.0.0.1", "port": free_udp_port(),
            "transport": "tcp", "auth_type": "ip"}).body["trunk"]["id"]
        ok = self.server.cli("trunk", "test", good, "--data-dir", self.server.data_dir,
                             check=False)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("result: pass", ok.stdout)
        self.assertRegex(ok.stdout, r"\[pass\] options: .* answered 200 OK")
        failed = self.server.cli("trunk", "test", bad, "--json", "--data-dir",
                                 self.server.data_dir, check=False)
        self.assertEqual(failed.returncode, 1, failed.stdout + failed.stderr)
        report = json.loads(failed.stdout)
        self.assertEqual(report["result"], "fail")
        self.assertEqual([(s["name"], s["status"]) for s in report["steps"]],
                         [("dns", "pass"), ("connect", "fail")])
        # The inbound trunk's report names the endpoint the server announced.
        inbound = next(t for t in self.server.api("GET", "/sip-trunks").body["trunks"]
                       if t["direction"] == "inbound")
        out = self.server.cli("trunk", "test", inbound["id"], "--json", "--data-dir",
                              self.server.data_dir).stdout
        self.assertIn(str(self.server.sip_port), json.loads(out)["inbound"]["endpoint"])
        unknown = self.server.cli("trunk", "test", "00000000-0000-4000-8000-000000000000",
                                  "--data-dir", self.server.data_dir, check=False)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("no SIP trunk", unknown.stderr)

    def test_old_captures_are_purged(self):
        call = self.ended_call()
        self.assertEqual(self.server.api("GET", f"/calls/{call['id']}/sip").status, 200)
        with sqlite3.connect(self.server.db_path) as db:
            db.execute("UPDATE call_sip_captures SET stored_at = '2020-01-01T00:00:00.000Z'"
                       " WHERE call_id = ?", (call["id"],))
        self.server.restart()
        r = self.wait_for(lambda: (lambda r: r if r.status == 404 else None)(
            self.server.api("GET", f"/calls/{call['id']}/sip")), what="the capture purged")
        self.assertIn("retention", r.body["message"])
        # The call itself stays.
        self.assertEqual(self.server.api("GET", f"/calls/{call['id']}").status, 200)

    def server_bin(self):
        import harness
        return harness.BIN


if __name__ == "__main__":
    unittest.main()
