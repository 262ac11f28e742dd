"""A conversation never fails silently (docs/conversation.md "When a provider fails"): when the
language model fails mid-call (an OpenAI-compatible server answering 500, or no server at all),
the caller hears an apology and then, without waiting for a silence timeout, the assistant's
fallback: a transfer to its first transfer_call destination (a sipp PBX), or a goodbye and the
end of the call (end_reason assistant_error). Both are on the call's timeline
(conversation.llm_error, then conversation.fallback), in its messages, and in an in-progress
status-update carrying the error."""

import http.server
import json
import socket
import threading
import unittest

from sip_harness import Uac, transcribe
from test_conversation import GREETING, ConversationTestCase, speech

APOLOGY = "Sorry, I had a problem answering."
GOODBYE = "We are having trouble right now, please call back later. Goodbye."


class BrokenChatServer(http.server.ThreadingHTTPServer):
    """An OpenAI-compatible server that answers every request with 500 (and records the paths)."""

    def __init__(self):
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.paths.append(self.path)
                body = json.dumps({"error": {"message": "the model is on fire"}}).encode()
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def refused_port():
    """A loopback TCP port nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FallbackTestCase(ConversationTestCase):

    def check_failure_recorded(self, call, action):
        types = [e["type"] for e in call["events"]]
        self.assertIn("conversation.llm_error", types, call["events"])
        self.assertIn("conversation.fallback", types, call["events"])
        self.assertLess(types.index("conversation.llm_error"), types.index("conversation.fallback"))
        fallback = next(e["data"] for e in call["events"] if e["type"] == "conversation.fallback")
        self.assertEqual(fallback["action"], action, fallback)
        self.assertEqual(fallback["provider"], "llm", fallback)
        self.assertTrue(fallback["error"], fallback)
        # No dead air: the fallback followed the apology, not a silence timeout.
        self.assertNotIn("conversation.silence_prompt", types)
        said = [(m["role"], m["content"]) for m in call["messages"]]
        self.assertEqual(said[0], ("assistant", GREETING), said)
        self.assertEqual(said[1][0], "user", said)
        self.assertEqual(said[2], ("assistant", APOLOGY), said)
        return said

    def check_status_update_with_error(self, call):
        deliveries = self.server.api(
            "GET", f"/webhook-deliveries?call_id={call['id']}&event=status-update").body["deliveries"]
        payloads = [self.server.api("GET", f"/webhook-deliveries/{d['id']}").body["payload"]["message"]
                    for d in deliveries]
        in_progress = [p for p in payloads if p["call"]["status"] == "in-progress" and "error" in p]
        self.assertEqual(len(in_progress), 1, payloads)
        self.assertTrue(in_progress[0]["error"].startswith("llm: "), in_progress[0])


class TestLlmFailureTransfersToAPerson(FallbackTestCase):
    """No `fallback` field: the first transfer_call destination takes the caller."""

    @classmethod
    def setUpServer(cls):
        cls.chat = BrokenChatServer()
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "webhook_url": f"http://127.0.0.1:{cls.chat.server_address[1]}/hooks"})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.chat.shutdown()
        super().tearDownClass()

    @classmethod
    def llm_config(cls, sales_uri):
        return {
            "provider": "openai_compatible", "model": "fake-model",
            "base_url": f"http://127.0.0.1:{cls.chat.server_address[1]}/v1",
            "tools": [{"type": "transfer_call", "destinations": [
                {"type": "sip", "sip_uri": sales_uri, "description": "sales"}]}]}

    def test_apology_then_transfer(self):
        uac, call = self.converse("I want to talk to sales please", seconds=16)
        self.assertIn("/v1/chat/completions", self.chat.paths)
        said = self.check_failure_recorded(call, "transfer")
        self.assertIsNotNone(call["transfer"], call["events"])
        self.assertEqual(call["transfer"]["destination"], f"sip:sales@127.0.0.1:{self.pbx_port}")
        self.assertEqual(call["transfer"]["status"], "connected", call["events"])
        self.assertTrue(self.wait_for(self.pbx_saw_invite, what="the PBX to see the INVITE"))
        heard = transcribe(uac.pcm(), GREETING.lower().replace(",", "").replace("?", "")
                           .replace(".", "").split() + ["sorry", "i", "had", "a", "problem",
                                                        "answering"])
        self.assertTrue({"sorry", "problem", "answering"} & set(heard.split()), heard)
        self.assertEqual(len(said), 3, said)
        self.check_status_update_with_error(call)
        self.assertGaugesReturnToZero()


class TestLlmFailureEndsTheCall(FallbackTestCase):
    """`fallback: {"action": "end_call", "message": ...}` and a model nobody answers for."""

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "fallback": {"action": "end_call", "message": GOODBYE}})
        assert r.status == 200, r

    @classmethod
    def llm_config(cls, sales_uri):
        return {
            "provider": "openai_compatible", "model": "fake-model",
            "base_url": f"http://127.0.0.1:{refused_port()}/v1",
            "tools": [{"type": "transfer_call", "destinations": [
                {"type": "sip", "sip_uri": sales_uri, "description": "sales"}]}]}

    def test_apology_then_goodbye_then_bye(self):
        uac, call = self.converse("I want to talk to sales please", seconds=25)
        self.assertTrue(uac.hung_up_by_far_end, "the assistant did not hang up")
        self.assertEqual(call["end_reason"], "assistant_error", call["events"])
        self.assertTrue(call["error"].startswith("llm: "), call)
        self.assertIsNone(call["transfer"], call["events"])
        said = self.check_failure_recorded(call, "end_call")
        self.assertEqual(said[3:], [("assistant", GOODBYE)], said)
        heard = transcribe(uac.pcm(), GREETING.lower().replace(",", "").replace("?", "")
                           .replace(".", "").split()
                           + APOLOGY.lower().replace(",", "").replace(".", "").split()
                           + GOODBYE.lower().replace(",", "").replace(".", "").split())
        words = set(heard.split())
        self.assertTrue({"sorry", "problem", "answering"} & words, heard)
        self.assertTrue({"trouble", "call", "back", "later", "goodbye"} & words, heard)
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
