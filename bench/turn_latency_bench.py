"""Driver of bench/turn_latency.sh: see the header there."""

import audioop
import http.server
import json
import os
import socket
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "api"))
sys.path.insert(0, os.path.join(REPO, "tests", "sip"))

import harness  # noqa: E402
from sip_harness import DID, Uac, rtp_range  # noqa: E402
from test_conversation import speech  # noqa: E402

TURNS = int(os.environ.get("BENCH_TURNS", "30"))
ENDPOINTING = 0.1  # seconds: the smallest endpointing_min_delay the API accepts


class ZeroDelayProviders(http.server.ThreadingHTTPServer):
    """/v1/audio/transcriptions and /v1/chat/completions answering at once."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.endswith("/audio/transcriptions"):
                    body = json.dumps({"text": "what time is it"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                chunk = {"id": "b", "object": "chat.completion.chunk", "model": "fake",
                         "choices": [{"index": 0, "delta": {"role": "assistant",
                                                            "content": "It is noon."},
                                      "finish_reason": "stop"}]}
                body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class TalkingUac(Uac):
    """Answers nothing: speaks `pcm` every `period` seconds and times the assistant's answers."""

    def turns(self, pcm, count, period):
        rport = self.rtp.getsockname()[1]
        sdp = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {rport} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n")
        self._request("INVITE", 1, sdp)
        while True:
            resp = self._recv_response()
            if int(resp.split(" ", 2)[1]) >= 200:
                break
        import re
        self.to_tag = re.search(r"^To:.*;tag=([^;\s]+)", resp, re.M | re.I).group(1)
        body = resp.split("\r\n\r\n", 1)[1]
        self.remote_rtp = (re.search(r"c=IN IP4 (\S+)", body).group(1),
                           int(re.search(r"m=audio (\d+)", body).group(1)))
        self._request("ACK", 1, to_tag=self.to_tag)
        frames = [pcm[i:i + 320].ljust(320, b"\0") for i in range(0, len(pcm), 320)]
        voiced = [audioop.rms(f, 2) > 300 for f in frames]
        last_voiced = max(i for i, v in enumerate(voiced) if v)
        latencies = []
        seq, ts = 1, 0
        start = time.monotonic() + 6.0  # after the greeting
        next_send = time.monotonic()
        turn, frame_in_turn, last_voiced_at, answered = 0, None, None, True
        self.rtp.settimeout(0.005)
        while turn < count or not answered:
            now = time.monotonic()
            if now >= next_send:
                payload = b"\xff" * 160
                if turn < count and answered and now >= start + turn * period:
                    frame_in_turn = 0 if frame_in_turn is None else frame_in_turn
                if frame_in_turn is not None:
                    payload = audioop.lin2ulaw(frames[frame_in_turn], 2)
                    if frame_in_turn == last_voiced:
                        last_voiced_at = time.monotonic()
                        answered = False
                    frame_in_turn += 1
                    if frame_in_turn == len(frames):
                        frame_in_turn, turn = None, turn + 1
                header = bytes([0x80, 0]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + \
                    (0x1234).to_bytes(4, "big")
                self.rtp.sendto(header + payload, self.remote_rtp)
                seq, ts, next_send = seq + 1, ts + 160, next_send + 0.02
            try:
                data, _ = self.rtp.recvfrom(2048)
            except socket.timeout:
                if last_voiced_at and not answered and now - last_voiced_at > 10:
                    answered = True  # no answer: counted as lost
                continue
            if last_voiced_at and not answered and len(data) > 12 and \
                    any(b not in (0xFF, 0x7F) for b in data[12:]):
                latencies.append(time.monotonic() - last_voiced_at)
                answered = True
        self._request("BYE", 2, to_tag=self.to_tag)
        return latencies


def run(label, assistant):
    srv = harness.Server(extra_args=["--rtp-ports", rtp_range()])
    srv.start()
    try:
        r = srv.api("POST", "/sip-trunks", {"name": "local", "direction": "inbound",
                                            "auth_type": "ip", "allowed_addresses": ["127.0.0.1"]})
        assert r.status == 201, r
        r = srv.api("POST", "/assistants", assistant)
        assert r.status == 201, r
        r = srv.api("POST", "/numbers", {"phone_number": DID,
                                         "assistant_id": r.body["assistant"]["id"]})
        assert r.status == 201, r
        uac = TalkingUac(srv.sip_host, srv.sip_port)
        latencies = uac.turns(speech("what time is it please"), TURNS, 4.0)
        uac.close()
    finally:
        srv.stop()
        srv.cleanup()
    added = sorted((x - ENDPOINTING) * 1000 for x in latencies)
    if not added:
        print(f"{label}: no answers")
        return None
    p50 = statistics.median(added)
    p99 = added[min(len(added) - 1, int(round(0.99 * (len(added) - 1))))]
    print(f"{label}: {len(added)}/{TURNS} turns answered; beyond the {ENDPOINTING * 1000:.0f} ms "
          f"endpointing delay: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {added[-1]:.0f} ms")
    return p50


def main():
    providers = ZeroDelayProviders()
    base = f"http://127.0.0.1:{providers.server_address[1]}/v1"
    turn_taking = {"turn_taking": {"endpointing_min_delay": ENDPOINTING,
                                   "endpointing_max_delay": 1}}
    fake = run("zero-delay fake providers", {
        "name": "bench", "first_message": "Hello.", "speech_config": turn_taking,
        "stt_config": {"provider": "openai_compatible", "model": "fake", "base_url": base},
        "llm_config": {"provider": "openai_compatible", "model": "fake", "base_url": base}})
    embedded = run("embedded (PocketSphinx + scripted)", {
        "name": "bench", "first_message": "Hello.", "speech_config": turn_taking,
        "llm_config": {"provider": "scripted", "rules": [
            {"when": ["time"], "reply": "It is noon."}], "default_reply": "It is noon."}})
    providers.shutdown()
    if fake and embedded:
        print(f"ratio embedded / zero-delay (p50): {embedded / fake:.2f}")


if __name__ == "__main__":
    main()
