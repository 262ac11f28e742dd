"""A fake OpenAI-compatible provider on loopback, for black-box tests (stdlib only).

`FakeOpenAi()` answers POST {base}/chat/completions (streamed SSE when the request asks for it,
else one JSON completion), /audio/transcriptions (`{"text": transcript}`) and /audio/speech (a WAV
tone), and records every request as (path, headers, body bytes). `status=401` (or any other
status) makes every answer that error with an OpenAI-style error body instead. Use `base_url` in
an assistant's llm_config / stt_config / tts_config. Shut it down with `close()`.

Tests in tests/sip import it too (sip_harness puts tests/api on sys.path).
"""

import http.server
import io
import json
import math
import struct
import threading
import time
import wave


def wav_tone(hz, seconds, rate=16000):
    """A 16-bit mono WAV of a sine at `hz`."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
                               for i in range(int(seconds * rate))))
    return out.getvalue()


class FakeOpenAi(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status=200, reply="OK", transcript="", tone_hz=600, delay=0.0):
        self.status = status
        self.delay = delay
        self.reply = reply
        self.transcript = transcript
        self.tone_hz = tone_hz
        self.requests = []  # (path, headers dict, body bytes)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def send(self, status, content_type, body):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers), b""))
                self.send(200, "application/json", json.dumps(
                    {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}).encode())

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append((self.path, dict(self.headers), raw))
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.status != 200:
                    # Echoes the key, as a careless provider might: the server must mask it.
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    message = (f"Incorrect API key provided: {key}." if outer.status == 401
                               else f"fake provider answers {outer.status}")
                    self.send(outer.status, "application/json",
                              json.dumps({"error": {"message": message}}).encode())
                elif self.path.endswith("/audio/transcriptions"):
                    self.send(200, "application/json", json.dumps({"text": outer.transcript}).encode())
                elif self.path.endswith("/audio/speech"):
                    text = json.loads(raw).get("input", "")
                    self.send(200, "audio/wav", wav_tone(outer.tone_hz, 0.06 * max(len(text), 5)))
                elif self.path.endswith("/chat/completions"):
                    self.chat(json.loads(raw))
                else:
                    self.send(404, "application/json",
                              json.dumps({"error": {"message": "no such endpoint"}}).encode())

            def chat(self, body):
                if not body.get("stream"):
                    self.send(200, "application/json", json.dumps({
                        "id": "c1", "object": "chat.completion", "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": outer.reply}}]}).encode())
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                events = [{"id": "c1", "object": "chat.completion.chunk", "model": body.get("model"),
                           "choices": [{"index": 0, "delta": {"role": "assistant", "content": outer.reply},
                                        "finish_reason": "stop"}]}]
                for event in events:
                    data = f"data: {json.dumps(event)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                data = b"data: [DONE]\n\n"
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
                self.wfile.flush()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def paths(self):
        return [path for path, _, _ in self.requests]

    def close(self):
        self.shutdown()
        self.server_close()
