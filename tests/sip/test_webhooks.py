"""Webhooks of a real call: status-update (in-progress, ended) and end-of-call-report are delivered
in order, signed with the documented scheme (api-contract.md §5.2), from the durable outbox."""

import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

from sip_harness import DID, SipServerTestCase

SECRET = "whsec_test_secret_12345"


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/gone":
                    self.send_response(404)  # a receiver that rejects: dead letter at once
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with outer.lock:
                    outer.requests.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class TestCallWebhooks(SipServerTestCase):

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
        cls.receiver.shutdown()
        super().tearDownClass()

    def test_events_of_a_call_arrive_signed_and_in_order(self):
        self.sipp("call_hangup.xml")
        got = self.wait_for(lambda: len(self.receiver.requests) >= 3 and self.receiver.requests,
                            timeout=15, what="three webhook deliveries")
        events = []
        for headers, body in got:
            ts = headers["X-Webhook-Timestamp"]
            expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
            self.assertTrue(hmac.compare_digest(headers["X-Webhook-Signature"], expected))
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertIn("User-Agent", headers)
            message = json.loads(body)["message"]
            self.assertEqual(headers["X-Webhook-Event"], message["type"])
            events.append(message)
            self.assertNotIn(SECRET, body.decode())
            self.assertNotIn("_sealed", body.decode())
        self.assertEqual([(e["type"], e["call"]["status"]) for e in events],
                         [("status-update", "in-progress"), ("status-update", "ended"),
                          ("end-of-call-report", "ended")])
        report = events[2]
        self.assertEqual(report["end_reason"], "user_hangup")
        self.assertGreaterEqual(report["duration_seconds"], 1)
        self.assertEqual(report["phone_number"]["number"], DID)
        self.assertEqual(report["customer"]["number"], "+31612345678")
        self.assertEqual(report["call"]["type"], "inbound_phone_call")
        self.assertEqual(len({e["call"]["id"] for e in events}), 1)

        # The outbox as the API shows it.
        call_id = events[0]["call"]["id"]
        r = self.server.api("GET", f"/webhook-deliveries?call_id={call_id}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["pagination"]["total"], 3)
        self.assertEqual({d["status"] for d in r.body["deliveries"]}, {"delivered"})
        self.assertTrue(all(d["signed"] for d in r.body["deliveries"]))
        one = self.server.api("GET", f"/webhook-deliveries/{r.body['deliveries'][0]['id']}")
        self.assertEqual(one.status, 200)
        self.assertIn("message", one.body["payload"])
        self.assertNotIn(SECRET, json.dumps(one.body))
        again = self.server.api("POST", f"/webhook-deliveries/{one.body['id']}/retry")
        self.assertEqual(again.status, 409)  # only dead letters are retried
        self.assertEqual(self.server.api("GET", "/webhook-deliveries?status=lost").status, 400)
        self.assertEqual(self.server.api("GET", "/webhook-deliveries/" + "0" * 8 + "-0000-4000-8000-"
                                         + "0" * 12).status, 404)

    def test_rejected_deliveries_become_dead_letters_that_can_be_retried(self):
        url = f"http://127.0.0.1:{self.receiver.server_address[1]}/gone"
        r = self.server.api("PATCH", f"/assistants/{self.assistant_id}", {"webhook_url": url})
        self.assertEqual(r.status, 200)
        try:
            self.sipp("call_hangup.xml")
            dead = self.wait_for(
                lambda: (lambda b: b["deliveries"] if b["pagination"]["total"] >= 3 else None)(
                    self.server.api("GET", "/webhook-deliveries?status=dead").body),
                timeout=15, what="three dead letters")
            self.assertEqual(dead[0]["last_status_code"], 404)
            retried = self.server.api("POST", f"/webhook-deliveries/{dead[0]['id']}/retry")
            self.assertEqual(retried.status, 200, retried)
            self.assertIn(retried.body["delivery"]["status"], ("pending", "delivering", "dead"))
        finally:
            self.server.api("PATCH", f"/assistants/{self.assistant_id}", {
                "webhook_url": f"http://127.0.0.1:{self.receiver.server_address[1]}/hooks"})


class TestEndedWithError(SipServerTestCase):
    """A call that ends because something failed (here: the caller's RTP stopped) is reported
    with status-update `ended-with-error` carrying the `error`."""
    extra_args = ("--rtp-timeout", "2")

    @classmethod
    def setUpServer(cls):
        cls.receiver = Receiver()
        super().setUpServer()
        url = f"http://127.0.0.1:{cls.receiver.server_address[1]}/hooks"
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {"webhook_url": url})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.receiver.shutdown()
        super().tearDownClass()

    def test_rtp_timeout_is_reported_as_ended_with_error(self):
        self.sipp("wait_for_bye.xml")  # sends no RTP: the server hangs up after 2 s
        got = self.wait_for(lambda: len(self.receiver.requests) >= 3 and self.receiver.requests,
                            timeout=15, what="three webhook deliveries")
        messages = [json.loads(body)["message"] for _, body in got]
        ended = [m for m in messages if m["type"] == "status-update"][-1]
        self.assertEqual(ended["call"]["status"], "ended-with-error")
        self.assertEqual(ended["end_reason"], "rtp_timeout")
        self.assertIn("RTP", ended["error"])
        report = next(m for m in messages if m["type"] == "end-of-call-report")
        self.assertEqual(report["call"]["status"], "ended-with-error")
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()


class TestOrganizationWebhookFallback(SipServerTestCase):
    """No webhook_url on the assistant: events go to the organization's webhook, filtered by its
    webhook_events and signed with its secret."""

    @classmethod
    def setUpServer(cls):
        cls.receiver = Receiver()
        super().setUpServer()
        url = f"http://127.0.0.1:{cls.receiver.server_address[1]}/org"
        r = cls.server.api("PATCH", "/organizations", {"webhook_url": url, "webhook_secret": SECRET,
                                                        "webhook_events": ["end-of-call-report"]})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.receiver.shutdown()
        super().tearDownClass()

    def test_end_of_call_report_goes_to_the_organization(self):
        self.sipp("call_hangup.xml")
        got = self.wait_for(lambda: self.receiver.requests, timeout=15, what="a delivery")
        time.sleep(1)  # nothing else may follow: status updates are filtered out
        self.assertEqual(len(self.receiver.requests), 1)
        headers, body = got[0]
        self.assertEqual(headers["X-Webhook-Event"], "end-of-call-report")
        expected = "sha256=" + hmac.new(SECRET.encode(),
                                        headers["X-Webhook-Timestamp"].encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        self.assertEqual(headers["X-Webhook-Signature"], expected)
