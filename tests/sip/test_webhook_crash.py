"""Webhook deliveries survive a crash of the real binary: with the receiver answering 503, real
calls (sipp) leave at least 50 deliveries pending in the outbox; the server is SIGKILLed and
started again on the same data dir with the receiver answering 200, and every one of those
deliveries arrives, signed (api-contract.md §5.2), in per-call order (in-progress, ended,
end-of-call-report)."""

import hashlib
import hmac
import http.server
import json
import signal
import threading
import unittest

from sip_harness import SipServerTestCase

SECRET = "whsec_crash_test_secret"
CALLS = 20  # three deliveries each
EVENTS = [("status-update", "in-progress"), ("status-update", "ended"),
          ("end-of-call-report", "ended")]


class Receiver(http.server.ThreadingHTTPServer):
    """Answers 503 while `up` is False, 200 after; logs every request in arrival order."""

    daemon_threads = True

    def __init__(self):
        self.up = False
        self.log = []  # (headers, body, status answered)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    status = 200 if outer.up else 503
                    outer.log.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def entries(self):
        with self.lock:
            return list(self.log)


def signature_ok(headers, body):
    expected = "sha256=" + hmac.new(SECRET.encode(),
                                    headers["X-Webhook-Timestamp"].encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Webhook-Signature", ""), expected)


def event_of(body):
    """(call id, index in EVENTS) of a delivered payload."""
    message = json.loads(body)["message"]
    return message["call"]["id"], EVENTS.index((message["type"], message["call"]["status"]))


class TestWebhookCrashRecovery(SipServerTestCase):
    # Retries every 20-300 ms while the receiver is down, so that the deliveries are due again
    # right after the restart (the default back-off grows to minutes).
    extra_args = ("--webhook-retry-base-ms", "20", "--webhook-retry-max-ms", "300")

    @classmethod
    def setUpServer(cls):
        cls.receiver = Receiver()
        super().setUpServer()
        url = f"http://127.0.0.1:{cls.receiver.server_address[1]}/hooks"
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}",
                           {"webhook_url": url, "webhook_secret": SECRET,
                            "webhook_events": ["status-update", "end-of-call-report"]})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()  # the server first: it may still be sending
        finally:
            cls.receiver.shutdown()
            cls.receiver.server_close()

    def deliveries(self, status=None):
        query = "?limit=1000" + (f"&status={status}" if status else "")
        r = self.server.api("GET", "/webhook-deliveries" + query)
        self.assertEqual(r.status, 200, r)
        return r.body

    def kill_server(self):
        """SIGKILL: no shutdown, no flush; whatever was `delivering` stays so in the database."""
        server = self.server
        server.close_connection()
        proc, server.proc = server.proc, None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        server._finish_reader()
        self.assertEqual(proc.returncode, -signal.SIGKILL)

    def test_pending_deliveries_survive_sigkill_and_arrive_in_order(self):
        # 1. Calls while the receiver answers 503: everything stays in the outbox.
        self.sipp("call_hangup.xml", args=("-m", str(CALLS), "-l", str(CALLS), "-r", "10"),
                  timeout=60)
        self.wait_for(lambda: self.deliveries()["pagination"]["total"] == 3 * CALLS,
                      timeout=20, what=f"{3 * CALLS} deliveries in the outbox")
        # Held in the outbox: pending, or claimed by a dispatcher retrying right now (one read).
        listed = self.deliveries()["deliveries"]
        held = [d for d in listed if d["status"] in ("pending", "delivering")]
        self.assertGreaterEqual(len(held), 50)
        self.assertEqual({d["status"] for d in listed} - {"pending", "delivering"}, set(),
                         "nothing may be delivered or dead while the receiver answers 503")
        self.wait_for(lambda: len(self.receiver.entries()) >= CALLS, timeout=20,
                      what="the dispatcher retrying against the 503s")
        expected = set()
        for d in listed:
            one = self.server.api("GET", f"/webhook-deliveries/{d['id']}")
            self.assertEqual(one.status, 200, one)
            message = one.body["payload"]["message"]
            self.assertEqual(message["call"]["id"], d["call_id"])
            expected.add((d["call_id"], EVENTS.index((message["type"],
                                                      message["call"]["status"]))))
        self.assertEqual(len(expected), 3 * CALLS)
        self.assertEqual(len({call for call, _ in expected}), CALLS)

        # 2. Crash, receiver back, same data dir.
        self.kill_server()
        with self.receiver.lock:
            self.receiver.up = True
        self.server.start()

        # 3. Every one of them arrives (at least once).
        def arrived():
            return {event_of(body) for _, body, status in self.receiver.entries()
                    if status == 200}
        self.wait_for(lambda: expected <= arrived(), timeout=60,
                      what=f"all {len(expected)} deliveries after the restart "
                           f"(missing: {sorted(expected - arrived())[:5]}...)")
        self.assertEqual(arrived(), expected)

        log = self.receiver.entries()
        for headers, body, status in log:
            self.assertTrue(signature_ok(headers, body), headers)
            self.assertEqual(headers["X-Webhook-Event"], json.loads(body)["message"]["type"])

        # Per-call order: no event of a call reached the receiver, not even as an attempt that
        # got a 503, before the previous event of that call had been acknowledged with a 200.
        acknowledged = {}
        for _, body, status in log:
            call, index = event_of(body)
            done = acknowledged.get(call, -1)
            self.assertLessEqual(index, done + 1,
                                 f"call {call}: event {EVENTS[index]} sent before "
                                 f"{EVENTS[done + 1]} was acknowledged")
            if status == 200:
                acknowledged[call] = max(done, index)
        self.assertEqual(set(acknowledged.values()), {len(EVENTS) - 1})

        # The outbox agrees: all delivered, nothing pending, the gauge back to 0.
        self.wait_for(lambda: self.deliveries("delivered")["pagination"]["total"] == 3 * CALLS,
                      timeout=10, what="every delivery recorded as delivered")
        self.assertEqual(self.deliveries("pending")["pagination"]["total"], 0)
        self.wait_for(lambda: self.metric("trunkline_webhook_pending") == 0, timeout=10,
                      what="trunkline_webhook_pending back to 0")


if __name__ == "__main__":
    unittest.main()
