"""The assistant converses, with no network: PocketSphinx hears the caller, the `scripted`
language model decides, espeak-ng answers; and the same with an OpenAI-compatible fake server
(streamed chat completions with a tool call) deciding. A caller who says "I want to talk to sales
please" is transferred to the sales destination (a sipp PBX whose INVITE the test sees); one who
says "goodbye" is let go; one who talks over the greeting stops it (barge-in)."""

import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from sip_harness import SCENARIOS, SIPP, SipServerTestCase, Uac, free_udp_port

GREETING = "Hello, you are speaking with the Acme assistant. How can I help you today?"


def speech(text):
    """`text` spoken by espeak-ng, as 8 kHz 16-bit PCM (a caller's recording)."""
    with tempfile.TemporaryDirectory() as d:
        wav = os.path.join(d, "say.wav")
        raw = os.path.join(d, "say.raw")
        # The voice the recogniser was measured with (docs/listening.md): en-us, klatt4.
        subprocess.run(["espeak-ng", "-v", "en-us+klatt4", "-w", wav, text], check=True)
        subprocess.run(["sox", wav, "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", "-t", "raw",
                        raw], check=True)
        with open(raw, "rb") as f:
            return f.read()


def rms_windows(pcm, window=800):
    """RMS of each 100 ms window of 16-bit PCM."""
    import audioop
    return [audioop.rms(pcm[i:i + window * 2], 2) for i in range(0, len(pcm) - window * 2, window * 2)]


class ConversationTestCase(SipServerTestCase):
    """A sipp PBX answers for "sales"; the assistant's llm_config comes from llm_config()."""

    @classmethod
    def llm_config(cls, sales_uri):
        raise NotImplementedError

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        cls.pbx_port = free_udp_port()
        cls.pbx_log = tempfile.mkdtemp(prefix="sipp-pbx-")
        cls.pbx = subprocess.Popen(
            [SIPP, "-sf", os.path.join(SCENARIOS, "uas_answer_echo.xml"), "-i", "127.0.0.1",
             "-p", str(cls.pbx_port), "-m", "1", "-timeout", "90s", "-trace_msg",
             "-message_file", os.path.join(cls.pbx_log, "messages.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        sales = f"sip:sales@127.0.0.1:{cls.pbx_port}"
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "first_message": GREETING, "end_call_message": "Thank you for calling, goodbye.",
            "llm_config": cls.llm_config(sales)})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.pbx.kill()
        cls.pbx.wait()
        super().tearDownClass()

    def converse(self, text, seconds, at=7.0, then=None):
        """Says `text` `at` s into the call; `then` 3 s after it (the answer to a question)."""
        before = {c["id"] for c in self.calls()}
        uac = Uac(self.server.sip_host, self.server.sip_port)
        pcm = speech(text)
        if then:
            pcm += b"\0" * (3 * 8000 * 2) + speech(then)
        status = uac.call(seconds, say=(at, pcm))
        uac.close()
        self.assertEqual(status, 200)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["id"] not in before
                                           and c["status"] == "ended"), None),
                             timeout=20, what="the call to end")
        return uac, self.server.api("GET", f"/calls/{call['id']}").body

    def pbx_saw_invite(self):
        path = os.path.join(self.pbx_log, "messages.log")
        return os.path.exists(path) and "INVITE sip:sales@" in open(path, errors="replace").read()

    def check_transferred_to_sales(self, call):
        types = [e["type"] for e in call["events"]]
        self.assertIn("conversation.started", types, call["events"])
        heard = [e["data"]["text"] for e in call["events"] if e["type"] == "conversation.user"]
        self.assertTrue(any("sales" in h for h in heard), call["events"])
        self.assertIsNotNone(call["transfer"], call["events"])
        self.assertEqual(call["transfer"]["destination"], f"sip:sales@127.0.0.1:{self.pbx_port}")
        self.assertEqual(call["transfer"]["status"], "connected", call["events"])
        self.assertTrue(self.wait_for(self.pbx_saw_invite, what="the PBX to see the INVITE"))
        roles = [m["role"] for m in call["messages"]]
        self.assertEqual(roles[:2], ["assistant", "user"], call["messages"])
        self.assertGaugesReturnToZero()


class TestScriptedConversation(ConversationTestCase):

    @classmethod
    def llm_config(cls, sales_uri):
        return {
            "provider": "scripted",
            "tools": [
                {"type": "transfer_call", "destinations": [
                    {"type": "sip", "sip_uri": sales_uri, "description": "sales"}]},
                {"type": "end_call"}],
            "rules": [
                {"when": ["sales"], "reply": "Connecting you to sales.",
                 "tool": {"name": "transfer_call", "destination": "sales"}},
                {"when": ["goodbye"], "tool": {"name": "end_call"}}],
            "default_reply": "Sorry, could you say that again?"}

    def test_1_caller_asking_for_sales_is_transferred_there(self):
        # The embedded recogniser's words are a guess until the caller confirms them.
        uac, call = self.converse("I want to talk to sales please", seconds=22, then="yes")
        self.check_transferred_to_sales(call)
        types = [e["type"] for e in call["events"]]
        self.assertIn("conversation.confirmation_asked", types, call["events"])
        self.assertIn("conversation.confirmed", types, call["events"])
        said = [(m["role"], m["content"]) for m in call["messages"]]
        self.assertIn(("assistant", "Sales, is that right?"), said, call["messages"])
        self.assertIn(("assistant", "Connecting you to sales."), said, call["messages"])
        self.assertLess(said.index(("assistant", "Sales, is that right?")),
                        said.index(("assistant", "Connecting you to sales.")), call["messages"])

    def test_2_goodbye_ends_the_call(self):
        uac, call = self.converse("goodbye", seconds=20, then="yes")
        self.assertEqual(call["end_reason"], "assistant_ended", call["events"])
        self.assertTrue(uac.hung_up_by_far_end, "the assistant did not hang up")
        self.assertIn("tool.end_call", [e["type"] for e in call["events"]])
        said = [(m["role"], m["content"]) for m in call["messages"]]
        # The greeting first; the caller's words; the question and its answer (a hang-up on one
        # word is confirmed); the end_call tool's message last.
        self.assertEqual(said, [("assistant", GREETING), ("user", "goodbye"),
                                ("assistant", "Do you want to end the call?"), ("user", "yes"),
                                ("assistant", "Thank you for calling, goodbye.")], call["messages"])
        seconds = [m["seconds_from_start"] for m in call["messages"]]
        self.assertEqual(seconds, sorted(seconds), call["messages"])
        self.assertGaugesReturnToZero()

    def test_2b_no_is_not_a_hang_up(self):
        uac, call = self.converse("goodbye", seconds=16, then="no")
        self.assertEqual(call["end_reason"], "user_hangup", call["events"])
        self.assertIn("conversation.not_confirmed", [e["type"] for e in call["events"]],
                      call["events"])
        self.assertNotIn("tool.end_call", [e["type"] for e in call["events"]])
        self.assertGaugesReturnToZero()

    def test_3_talking_over_the_greeting_stops_it(self):
        uac, call = self.converse("goodbye", seconds=10, at=1.5)
        self.assertIn("conversation.barge_in", [e["type"] for e in call["events"]], call["events"])
        # When the greeting's audio stopped, measured on the caller's recording: it would run
        # about 5 s; it must end soon after the caller started talking (0.3 s to decide that it
        # is speech, then at most a few packets in flight).
        pcm = uac.pcm()
        windows = rms_windows(pcm)
        start = next(i for i, r in enumerate(windows) if r > 300)  # the greeting begins
        stop = next(i for i in range(start, len(windows)) if max(windows[i:i + 5]) < 100)
        spoke_at = 1.5 - (start * 0.1 - 0.0)  # the caller's speech, relative to the greeting
        self.assertLess((stop - start) * 0.1, spoke_at + 0.3 + 0.4 + 0.5,
                        f"greeting kept playing: {windows}")
        self.assertGaugesReturnToZero()


def wav_tone(hz, seconds, rate=16000):
    import io
    import math
    import struct
    import wave
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
                               for i in range(int(seconds * rate))))
    return out.getvalue()


def tone_share(pcm, hz, rate=8000):
    """The share of the energy of 16-bit PCM at `hz` (Goertzel)."""
    import math
    samples = [int.from_bytes(pcm[i:i + 2], "little", signed=True) for i in range(0, len(pcm) - 1, 2)]
    n = len(samples)
    if n == 0:
        return 0.0
    k = round(n * hz / rate)
    coeff = 2 * math.cos(2 * math.pi * k / n)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    total = sum(x * x for x in samples) * n / 2
    return power / total if total else 0.0


class FakeChatServer(http.server.ThreadingHTTPServer):
    """Speaks OpenAI's streamed chat completions: asked about sales, it calls transfer_call with
    the destination split over several SSE chunks; otherwise it answers with text."""

    def __init__(self):
        self.requests = []
        self.tool_calls = []
        self.voice_broken = False  # /audio/speech answers 503
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.endswith("/audio/transcriptions"):  # multipart: the caller's WAV
                    text = json.dumps({"text": "where is my order"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                body = json.loads(raw)
                outer.requests.append((dict(self.headers), body))
                if self.path.endswith("/tools"):
                    # The customer's tool server (tool-calls webhook, api-contract.md §5.5).
                    call = body["message"]["tool_call_list"][0]
                    outer.tool_calls.append(body)
                    text = json.dumps({"results": [{"tool_call_id": call["id"],
                                                    "result": "order A17 shipped on Monday"}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                if self.path.endswith("/audio/speech") and outer.voice_broken:
                    text = b'{"error": {"message": "voice server overloaded"}}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                if self.path.endswith("/audio/speech"):
                    # The "voice": a 600 Hz tone as long as the text, so the caller can tell it
                    # from espeak-ng by its frequency.
                    audio = wav_tone(600, 0.06 * len(body["input"]))
                    self.send_response(200)
                    self.send_header("Content-Type", "audio/wav")
                    self.send_header("Content-Length", str(len(audio)))
                    self.end_headers()
                    self.wfile.write(audio)
                    return
                last = next((m for m in reversed(body["messages"]) if m["role"] == "user"), {})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def event(obj):
                    data = f"data: {json.dumps(obj)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()

                def chunk(delta, finish=None):
                    event({"id": "c1", "object": "chat.completion.chunk", "model": "fake",
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

                if body["messages"][-1]["role"] == "tool":
                    chunk({"role": "assistant",
                           "content": "Your order shipped on Monday."}, "stop")
                elif "order" in last.get("content", "") and body["messages"][-1]["role"] == "user":
                    args = json.dumps({"order": "A17"})
                    chunk({"tool_calls": [{"index": 0, "id": "call_7", "type": "function",
                                           "function": {"name": "lookup_order",
                                                        "arguments": args}}]})
                    chunk({}, "tool_calls")
                elif "sales" in last.get("content", "") and body["messages"][-1]["role"] == "user":
                    destination = json.dumps({"destination": outer.sales_uri})
                    chunk({"role": "assistant", "content": "One moment."})
                    chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                           "function": {"name": "transfer_call", "arguments": ""}}]})
                    for i in range(0, len(destination), 7):
                        chunk({"tool_calls": [{"index": 0,
                                               "function": {"arguments": destination[i:i + 7]}}]})
                    chunk({}, "tool_calls")
                else:
                    chunk({"role": "assistant", "content": "I can help "})
                    chunk({"content": "with that."}, None)
                    chunk({}, "stop")
                data = b"data: [DONE]\n\n"
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
                self.wfile.flush()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class TestOpenAiCompatibleConversation(ConversationTestCase):

    @classmethod
    def setUpServer(cls):
        cls.chat = FakeChatServer()
        super().setUpServer()
        cls.chat.sales_uri = f"sip:sales@127.0.0.1:{cls.pbx_port}"

    @classmethod
    def tearDownClass(cls):
        cls.chat.shutdown()
        super().tearDownClass()

    @classmethod
    def llm_config(cls, sales_uri):
        return {
            "provider": "openai_compatible", "model": "fake-model",
            "base_url": f"http://127.0.0.1:{cls.chat.server_address[1]}/v1",
            "messages": [{"role": "system", "content": "You are Acme's receptionist."}],
            "tools": [{"type": "transfer_call", "destinations": [
                {"type": "sip", "sip_uri": sales_uri, "description": "sales"}]}]}

    def test_inject_context_reaches_the_model_and_it_answers(self):
        before = {c["id"] for c in self.calls()}
        uac = Uac(self.server.sip_host, self.server.sip_port)
        done = {}
        t = threading.Thread(target=lambda: done.setdefault("status", uac.call(10)))
        t.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["id"] not in before
                                           and c["status"] == "in-progress"), None), what="the call")
        time.sleep(1)
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "inject-context", "content": "The caller is a VIP customer.",
                             "trigger_response": True})
        self.assertEqual(r.status, 200, r)
        self.wait_for(lambda: any(any(m.get("content") == "The caller is a VIP customer."
                                      for m in body["messages"])
                                  for _, body in list(self.chat.requests)),
                      what="the model to see the injected context")
        t.join(timeout=30)
        uac.close()
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the end")
        said = [e["data"]["text"] for e in ended["events"] if e["type"] == "conversation.assistant"]
        self.assertIn("I can help with that.", said)
        self.assertGaugesReturnToZero()

    def test_the_model_decides_the_transfer(self):
        uac, call = self.converse("I want to talk to sales please", seconds=22, then="yes")
        self.check_transferred_to_sales(call)
        headers, body = self.chat.requests[0]
        self.assertEqual(body["model"], "fake-model")
        self.assertTrue(body["stream"])
        self.assertEqual(body["messages"][0], {"role": "system",
                                               "content": "You are Acme's receptionist."})
        self.assertIn("transfer_call", [t["function"]["name"] for t in body["tools"]])


class NetworkVoiceTestCase(SipServerTestCase):
    """An assistant speaking with the fake server's /audio/speech, asking a silent caller
    `silence_attempts` times before its goodbye."""

    first_message = "Hello there."
    silence_attempts = 2
    voice_broken = False

    @classmethod
    def setUpServer(cls):
        cls.chat = FakeChatServer()
        cls.chat.sales_uri = "sip:nobody@127.0.0.1:9"
        cls.chat.voice_broken = cls.voice_broken
        super().setUpServer()
        base = f"http://127.0.0.1:{cls.chat.server_address[1]}/v1"
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "first_message": cls.first_message,
            "tts_config": {"provider": "openai_compatible", "model": "fake-tts",
                           "voice_id": "alloy", "base_url": base},
            "autonomous_silence_handling": True,
            "speech_config": {"silence": {"messages": ["Are you still with me?"],
                                          "final_message": "Goodbye for now.",
                                          "first_check_seconds": 1, "interval_seconds": 3,
                                          "max_attempts": cls.silence_attempts}},
            "llm_config": {"provider": "scripted", "rules": [{"when": ["sales"], "reply": "Ok."}]}})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.chat.shutdown()
        super().tearDownClass()


class TestNetworkVoiceAndSilence(NetworkVoiceTestCase):
    """An assistant whose tts_config names an OpenAI-compatible /audio/speech server speaks with
    it (the caller hears the fake server's 600 Hz "voice", not espeak-ng); with
    autonomous_silence_handling a silent caller is asked twice, then told goodbye and released."""

    def test_silent_caller_hears_the_network_voice_prompts_then_goodbye(self):
        before = {c["id"] for c in self.calls()}
        uac = Uac(self.server.sip_host, self.server.sip_port)
        self.assertEqual(uac.call(25), 200)
        uac.close()
        self.assertTrue(uac.hung_up_by_far_end, "the assistant did not release the silent caller")
        call = self.wait_for(lambda: next((c for c in self.calls() if c["id"] not in before
                                           and c["status"] == "ended"), None), what="the end")
        call = self.server.api("GET", f"/calls/{call['id']}").body
        self.assertEqual(call["end_reason"], "silence_timeout", call["events"])
        prompts = [e for e in call["events"] if e["type"] == "conversation.silence_prompt"]
        self.assertEqual(len(prompts), 2, call["events"])
        speech_requests = [b["input"] for _, b in self.chat.requests if "input" in b]
        self.assertEqual(speech_requests[0], "Hello there.")
        self.assertIn("Goodbye for now.", speech_requests)
        pcm = uac.pcm()
        self.assertGreater(tone_share(pcm[:16000], 600), 0.5,
                           "the greeting was not the network voice")
        self.assertGaugesReturnToZero()


class TestBrokenNetworkVoice(NetworkVoiceTestCase):
    """A network voice that fails mid-call is never dead air: espeak-ng says the words instead,
    for the rest of the call, and the call records why (once)."""

    first_message = "Hello there, this is the Acme assistant."
    silence_attempts = 1
    voice_broken = True

    def test_the_words_are_spoken_by_espeak_instead(self):
        before = {c["id"] for c in self.calls()}
        uac = Uac(self.server.sip_host, self.server.sip_port)
        self.assertEqual(uac.call(20), 200)
        uac.close()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["id"] not in before
                                           and c["status"] == "ended"), None), what="the end")
        call = self.server.api("GET", f"/calls/{call['id']}").body
        errors = [e for e in call["events"] if e["type"] == "assistant.tts_error"]
        self.assertEqual(len(errors), 1, call["events"])
        self.assertEqual(errors[0]["data"]["fallback"], "espeak-ng")
        self.assertIn("503", errors[0]["data"]["error"])
        # Every line was heard: the greeting, the silence prompt, the goodbye.
        said = [m["content"] for m in call["messages"] if m["role"] == "assistant"]
        self.assertEqual(said, ["Hello there, this is the Acme assistant.",
                                "Are you still with me?", "Goodbye for now."], call["messages"])
        self.assertEqual(call["end_reason"], "silence_timeout", call["events"])
        # In espeak-ng's voice: speech in the first seconds, not the fake voice's 600 Hz.
        pcm = uac.pcm()
        loud = [r for r in rms_windows(pcm[:8000 * 2 * 4]) if r > 300]
        self.assertGreater(len(loud), 8, "the greeting was not heard")
        self.assertLess(tone_share(pcm[:16000 * 2], 600), 0.3)
        self.assertGaugesReturnToZero()


class TestFunctionToolWebhook(SipServerTestCase):
    """The model calls a function tool with a url: Trunkline posts the tool-calls webhook there,
    feeds the result back, and the model's answer is spoken (network STT, LLM and tool server all
    faked on loopback, speaking their real wire formats)."""

    @classmethod
    def setUpServer(cls):
        cls.chat = FakeChatServer()
        cls.chat.sales_uri = "sip:nobody@127.0.0.1:9"
        super().setUpServer()
        base = f"http://127.0.0.1:{cls.chat.server_address[1]}"
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "first_message": "Hello.",
            "stt_config": {"provider": "openai_compatible", "model": "fake-stt",
                           "base_url": base + "/v1"},
            "llm_config": {"provider": "openai_compatible", "model": "fake-model",
                           "base_url": base + "/v1",
                           "tools": [{"type": "function", "url": base + "/tools",
                                      "function": {"name": "lookup_order",
                                                   "description": "Finds an order",
                                                   "parameters": {"type": "object", "properties": {
                                                       "order": {"type": "string"}}}}}]}})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.chat.shutdown()
        super().tearDownClass()

    def test_tool_result_reaches_the_model_and_its_answer_is_spoken(self):
        before = {c["id"] for c in self.calls()}
        uac = Uac(self.server.sip_host, self.server.sip_port)
        self.assertEqual(uac.call(9, say=(3.0, speech("where is my order"))), 200)
        uac.close()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["id"] not in before
                                           and c["status"] == "ended"), None), what="the end")
        call = self.server.api("GET", f"/calls/{call['id']}").body
        self.assertEqual(len(self.chat.tool_calls), 1, call["events"])
        sent = self.chat.tool_calls[0]["message"]
        self.assertEqual(sent["type"], "tool-calls")
        self.assertEqual(sent["tool_call_list"][0]["function"],
                         {"name": "lookup_order", "arguments": {"order": "A17"}})
        second = [b for _, b in self.chat.requests if "messages" in b][-1]
        tool_message = next(m for m in second["messages"] if m["role"] == "tool")
        self.assertEqual(tool_message["content"], "order A17 shipped on Monday")
        self.assertEqual(tool_message["tool_call_id"], "call_7")
        said = [e["data"]["text"] for e in call["events"] if e["type"] == "conversation.assistant"]
        self.assertIn("Your order shipped on Monday.", said)
        last = call["messages"][-1]
        self.assertEqual((last["role"], last["content"]),
                         ("assistant", "Your order shipped on Monday."))
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
