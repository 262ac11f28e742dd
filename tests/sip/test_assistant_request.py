"""The assistant-request webhook (api-contract.md §5.4) against a real local receiver: sent while
the call rings, signed; its answer can override the assistant for this call (heard by the caller,
metadata echoed in later events), cap the call's duration, or refuse the call with a message the
caller hears in early media; a timeout or a garbage answer falls back to the number's assistant,
and a number without one gets 480."""

import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

from sip_harness import DID, DID_UNASSIGNED, SipServerTestCase, Uac, transcribe

SECRET = "whsec_assistant_request_secret"
OVERRIDE_GREETING = "Hello, this is the billing team."


class AnsweringReceiver(http.server.ThreadingHTTPServer):
    """Answers assistant-request with whatever `self.answer` says: ("json", object),
    ("raw", bytes) or ("sleep", seconds); records every request."""

    def __init__(self):
        self.requests = []
        self.answer = ("json", {})
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.requests.append((dict(self.headers), body))
                kind, value = outer.answer
                if self.headers.get("X-Webhook-Event") != "assistant-request":
                    kind, value = "json", {}
                if kind == "sleep":
                    time.sleep(value)
                    kind, value = "json", {}
                payload = value if kind == "raw" else json.dumps(value).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the server gave up waiting

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def assistant_requests(self):
        with self.lock:
            return [(h, b) for h, b in self.requests if h.get("X-Webhook-Event") == "assistant-request"]

    def reports(self):
        with self.lock:
            return [json.loads(b)["message"] for h, b in self.requests
                    if h.get("X-Webhook-Event") == "end-of-call-report"]


class AssistantRequestTestCase(SipServerTestCase):
    @classmethod
    def setUpServer(cls):
        cls.receiver = AnsweringReceiver()
        super().setUpServer()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.shutdown()
        super().tearDownClass()

    def setUp(self):
        with self.receiver.lock:
            self.receiver.requests.clear()

    def call_once(self, seconds, dialled=DID):
        before = {c["id"] for c in self.calls()}
        uac = Uac(self.server.sip_host, self.server.sip_port, dialled=dialled)
        status = uac.call(seconds)
        uac.close()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["id"] not in before
                                           and c["status"] in ("ended", "failed")), None),
                             what="the call record to end")
        call = self.server.api("GET", f"/calls/{call['id']}").body
        return uac, status, call


class TestAssistantRequestOnTheAssistantsWebhook(AssistantRequestTestCase):

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "webhook_url": cls.receiver.url(), "webhook_secret": SECRET,
            "webhook_events": ["assistant-request", "end-of-call-report"]})
        assert r.status == 200, r

    def test_override_is_used_for_this_call_and_metadata_echoed(self):
        self.receiver.answer = ("json", {"assistant": {"first_message": OVERRIDE_GREETING,
                                                       "metadata": {"crm_id": "A17"}}})
        uac, status, call = self.call_once(6)
        self.assertEqual(status, 200)
        (headers, body), = self.receiver.assistant_requests()
        ts = headers["X-Webhook-Timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(headers["X-Webhook-Signature"], expected))
        message = json.loads(body)["message"]
        self.assertEqual(message["type"], "assistant-request")
        self.assertEqual(message["call"]["status"], "ringing")
        self.assertEqual(message["phone_number"]["number"], DID)
        self.assertEqual(message["customer"]["number"], "+31612345678")
        said = [e["data"]["text"] for e in call["events"] if e["type"] == "assistant.say"]
        self.assertEqual(said, [OVERRIDE_GREETING])
        heard = transcribe(uac.pcm(), ["hello", "this", "is", "the", "billing", "team", "welcome",
                                       "acme", "support", "how", "can", "help", "you"])
        self.assertIn("billing", heard.split(), heard)
        # This call's report: another test's call may end (and report) while this one runs.
        report = self.wait_for(lambda: [r for r in self.receiver.reports()
                                        if r["call"]["id"] == call["id"]],
                               what="the end-of-call-report")[0]
        self.assertEqual(report["assistant"]["metadata"], {"crm_id": "A17"})
        self.assertGaugesReturnToZero()

    def test_error_answer_is_spoken_then_the_call_is_refused(self):
        self.receiver.answer = ("json", {"error": "Sorry, we are closed today. Goodbye."})
        uac, status, call = self.call_once(8)
        self.assertEqual(status, 603)
        self.assertEqual(call["status"], "failed")
        self.assertEqual(call["end_reason"], "rejected")
        self.assertIn("webhook.assistant_request_refused", [e["type"] for e in call["events"]])
        heard = transcribe(uac.pcm(), ["sorry", "we", "are", "closed", "today", "goodbye",
                                       "welcome", "acme", "support"])
        self.assertTrue({"closed", "today", "goodbye", "sorry"} & set(heard.split()), heard)
        self.assertGaugesReturnToZero()

    def test_timeout_falls_back_to_the_numbers_assistant(self):
        self.receiver.answer = ("sleep", 7)
        started = time.monotonic()
        uac, status, call = self.call_once(4)
        self.assertEqual(status, 200)
        self.assertGreater(time.monotonic() - started, 5 + 4 - 0.5, "answered before the 5 s timeout")
        failed = [e["data"] for e in call["events"] if e["type"] == "webhook.assistant_request_failed"]
        self.assertEqual(len(failed), 1)
        self.assertIn("timed out", failed[0]["error"].lower())
        said = [e["data"]["text"] for e in call["events"] if e["type"] == "assistant.say"]
        self.assertTrue(said and said[0].startswith("Welcome to Acme"), said)
        self.assertGaugesReturnToZero()

    def test_garbage_answer_falls_back_to_the_numbers_assistant(self):
        for garbage in (b"this is not json", b'["an", "array"]', b'{"assistant": "sales"}'):
            self.receiver.answer = ("raw", garbage)
            uac, status, call = self.call_once(2)
            self.assertEqual(status, 200, garbage)
            types = [e["type"] for e in call["events"]]
            self.assertIn("webhook.assistant_request_failed", types, garbage)
            said = [e["data"]["text"] for e in call["events"] if e["type"] == "assistant.say"]
            self.assertTrue(said and said[0].startswith("Welcome to Acme"), said)
        self.assertGaugesReturnToZero()

    def test_max_duration_from_the_answer_ends_the_call(self):
        self.receiver.answer = ("json", {"max_duration_seconds": 10})
        uac, status, call = self.call_once(14)
        self.assertEqual(status, 200)
        self.assertEqual(call["end_reason"], "max_duration")
        self.assertIn("call.max_duration", [e["type"] for e in call["events"]])
        self.assertGaugesReturnToZero()


class TestNumberWithoutAssistantAsksTheOrganization(AssistantRequestTestCase):

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", "/organizations", {"webhook_url": cls.receiver.url()})
        assert r.status == 200, r

    def test_the_organizations_webhook_supplies_the_assistant(self):
        self.receiver.answer = ("json", {"assistant": {"name": "Night line",
                                                       "first_message": OVERRIDE_GREETING}})
        uac, status, call = self.call_once(5, dialled=DID_UNASSIGNED)
        self.assertEqual(status, 200)
        self.assertIsNone(call["assistant_id"])
        said = [e["data"]["text"] for e in call["events"] if e["type"] == "assistant.say"]
        self.assertEqual(said, [OVERRIDE_GREETING])
        # The number that has an assistant is not held up: the organization did not ask for
        # assistant-request explicitly.
        self.receiver.requests.clear()
        uac, status, call = self.call_once(2)
        self.assertEqual(status, 200)
        self.assertEqual(self.receiver.assistant_requests(), [])
        self.assertGaugesReturnToZero()

    def test_no_usable_answer_and_no_assistant_is_480(self):
        self.receiver.answer = ("raw", b"garbage")
        uac, status, call = self.call_once(2, dialled=DID_UNASSIGNED)
        self.assertEqual(status, 480)
        self.assertEqual(call["status"], "failed")
        self.assertEqual(call["end_reason"], "no_assistant")
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
