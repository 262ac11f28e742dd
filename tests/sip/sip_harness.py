"""SIP test helpers: a configured server, sipp runs, a minimal real UAC that records RTP, and
audio checks. Reuses the API harness (../api/harness.py)."""

import audioop  # deprecated in 3.11, present in Debian 12's Python; decodes G.711
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import harness  # noqa: E402

SIPP = shutil.which("sipp")
SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sipp")
DID = "+31850835037"
DID_UNASSIGNED = "+31850835038"
GREETING = "Welcome to Acme support, how can I help you?"


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeerExited(AssertionError):
    """The background peer ended before it bound its port (e.g. another process took the port
    between free_udp_port() and its start)."""


def wait_until_bound(port, timeout=10, proc=None):
    """Waits until a peer started in the background (sipp) holds `port`, UDP or TCP (-t t1):
    a request sent earlier would meet ICMP unreachable or a reset. With `proc`, fails at once
    (PeerExited) when that process has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise PeerExited(f"the peer for port {port} exited with {proc.returncode}")
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    return  # taken: the peer is there
        time.sleep(0.05)
    raise AssertionError(f"nothing bound port {port}")


_held_ranges = []  # open lock files: a range stays ours while this test process lives


def rtp_range():
    """Each server its own RTP range, so test files can run in parallel (ctest -j): a range is
    claimed with an flock on /tmp/tl-rtp-range-<base>.lock, released when this process ends."""
    import fcntl
    bases = list(range(20000, 60000, 1000))
    random.shuffle(bases)
    for base in bases:
        f = open(f"/tmp/tl-rtp-range-{base}.lock", "a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        _held_ranges.append(f)
        return f"{base}-{base + 999}"
    raise RuntimeError("no free RTP range for a test server")


class SipServerTestCase(harness.ServerTestCase):
    """A server with an IP-authenticated inbound trunk for 127.0.0.1, an assistant that greets,
    the number DID assigned to it and DID_UNASSIGNED without an assistant."""

    extra_args = ()
    ip_trunk = True
    # Every SIP suite runs its server with --log-format json and, when the class is done, checks
    # that each line the server wrote (stdout and stderr) is one JSON object under 8 KiB.
    json_logs = True

    @classmethod
    def prepare_server(cls, server):
        log_format = ["--log-format", "json"] if cls.json_logs and \
            "--log-format" not in cls.extra_args else []
        server.extra_args += ["--rtp-ports", rtp_range(), *log_format, *cls.extra_args]

    @classmethod
    def tearDownClass(cls):
        problems = []
        try:
            if cls.server.proc is not None:
                cls.server.stop()
            if cls.json_logs:
                problems = json_log_problems(cls.server.log_text())
        finally:
            super().tearDownClass()
        if problems:
            raise AssertionError("server log lines that are not JSON objects:\n" +
                                 "\n".join(problems[:10]))

    @classmethod
    def setUpServer(cls):
        srv = cls.server
        if cls.ip_trunk:
            r = srv.api("POST", "/sip-trunks", {
                "name": "Local carrier", "direction": "inbound", "auth_type": "ip",
                "allowed_addresses": ["127.0.0.1"]})
            assert r.status == 201, r
        r = srv.api("POST", "/assistants", {"name": "Support", "first_message": GREETING,
                                             "tts_config": {"language": "en"}})
        assert r.status == 201, r
        cls.assistant_id = r.body["assistant"]["id"]
        r = srv.api("POST", "/numbers", {"phone_number": DID, "assistant_id": cls.assistant_id})
        assert r.status == 201, r
        r = srv.api("POST", "/numbers", {"phone_number": DID_UNASSIGNED})
        assert r.status == 201, r

    # ------------------------------------------------------------------ sipp
    def sipp(self, scenario, service=DID, args=(), timeout=40, wait=True):
        if SIPP is None:
            self.fail("sipp (Debian sip-tester) is not installed: run scripts/install-deps.sh")
        log_dir = tempfile.mkdtemp(prefix="sipp-")
        cmd = [SIPP, f"{self.server.sip_host}:{self.server.sip_port}",
               "-sf", os.path.join(SCENARIOS, scenario), "-s", service,
               "-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", str(free_udp_port()),
               "-mp", str(free_udp_port()), "-timeout", f"{timeout - 5}s", "-timeout_error",
               "-trace_err", "-error_file", os.path.join(log_dir, "errors.log"),
               "-trace_msg", "-message_file", os.path.join(log_dir, "messages.log"),
               *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=log_dir)
        proc.log_dir = log_dir
        if not wait:
            return proc
        return self.finish_sipp(proc, timeout)

    def sipp_peer(self, scenario, log_dir, *args, timeout="60s"):
        """A sipp agent (a carrier, a PBX) for one exchange on a free port, started in the
        background and killed at the end of the test: (port, process)."""
        if SIPP is None:
            self.fail("sipp (Debian sip-tester) is not installed: run scripts/install-deps.sh")
        port = free_udp_port()
        proc = subprocess.Popen(
            [SIPP, "-sf", os.path.join(SCENARIOS, scenario), "-i", "127.0.0.1", "-p", str(port),
             "-mp", str(free_udp_port()), "-m", "1", "-timeout", timeout, "-trace_err",
             "-error_file", os.path.join(log_dir, f"{port}-errors.log"), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            cwd=log_dir)

        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        self.addCleanup(stop)
        wait_until_bound(port)
        return port, proc

    def finish_sipp(self, proc, timeout=40):
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        messages = ""
        for name in ("errors.log", "messages.log"):
            path = os.path.join(proc.log_dir, name)
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    messages += f"--- {name}\n" + f.read()[-6000:]
        self.assertEqual(proc.returncode, 0,
                         f"sipp failed ({proc.returncode}): {err.decode(errors='replace')}\n"
                         f"{messages}")
        return messages

    # ------------------------------------------------------------------ API and metrics
    def calls(self):
        r = self.server.api("GET", "/calls")
        self.assertEqual(r.status, 200, r)
        return r.body["calls"]

    def wait_for(self, predicate, timeout=10.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    def metric(self, name):
        r = self.server.request("GET", "/metrics", key=None)
        m = re.search(rf"^{re.escape(name)} (\S+)$", r.body if isinstance(r.body, str)
                      else r.raw.decode(), re.M)
        return float(m.group(1)) if m else None

    def assertGaugesReturnToZero(self, dialogs=True):
        """`dialogs` False: a leg to a peer that never answers stays a SIP dialog until its
        INVITE transaction times out (32 s, RFC 3261 Timer B); check those separately."""
        gauges = ["trunkline_active_calls", "trunkline_rtp_ports_in_use"]
        if dialogs:
            gauges.append("trunkline_sip_dialogs")
        for gauge in gauges:
            self.wait_for(lambda g=gauge: self.metric(g) == 0, timeout=10,
                          what=f"{gauge} back to 0 (now {self.metric(gauge)})")


def json_log_problems(text):
    """The lines of a --log-format json server log that are not one JSON object with ts, level and
    msg, or are longer than 8 KiB (the harness's own "$ command" lines aside)."""
    import json
    problems = []
    for line in text.splitlines():
        if not line or line.startswith("$ "):
            continue
        try:
            obj = json.loads(line)
            ok = isinstance(obj, dict) and {"ts", "level", "msg"} <= set(obj) and \
                len(line.encode()) <= 8192
        except ValueError:
            ok = False
        if not ok:
            problems.append(line[:300])
    return problems


class DigestTrunkTestCase(SipServerTestCase):
    """SipServerTestCase whose only inbound trunk is a digest one (a PBX): 127.0.0.1 is not
    trusted by address, so every INVITE is challenged. `trunk_id`, `username`, `password`."""
    ip_trunk = False

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("POST", "/sip-trunks", {"name": "PBX", "direction": "inbound"})
        assert r.status == 201, r
        cls.trunk_id = r.body["trunk"]["id"]
        cls.username = r.body["trunk"]["inbound_username"]
        cls.password = r.body["trunk"]["inbound_password"]


def tone_ratio(samples, freq, rate=8000):
    """Goertzel: the share of a block's energy at `freq`."""
    n = len(samples)
    if n == 0:
        return 0.0
    k = round(n * freq / rate)
    w = 2 * math.pi * k / n
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    total = sum(x * x for x in samples) * n / 2
    return power / total if total else 0.0


# ---------------------------------------------------------------------- a real UAC with RTP
class Uac:
    """Places one call over UDP with a PCMU offer, records the RTP it receives, hangs up."""

    def __init__(self, host, port, dialled=DID, caller="+31612345678", headers=()):
        self.host, self.port = host, port
        self.dialled, self.caller = dialled, caller
        self.headers = list(headers)
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(("127.0.0.1", 0))
        self.sip.settimeout(0.2)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.settimeout(0.2)
        self.call_id = uuid.uuid4().hex
        self.tag = uuid.uuid4().hex[:8]
        self.to_tag = None
        self.packets = []  # (arrival time, payload type, seq, timestamp, ssrc, marker, payload)
        self.remote_rtp = None
        self.say = None
        self.said_at = None  # monotonic time the first frame of `say` left
        self.hung_up_by_far_end = False

    def _request(self, method, cseq, body="", to_tag=None):
        lport = self.sip.getsockname()[1]
        uri = f"sip:{self.dialled}@{self.host}:{self.port}"
        to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport",
                 f"From: <sip:{self.caller}@127.0.0.1:{lport}>;tag={self.tag}",
                 f"To: {to}", f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}",
                 f"Contact: <sip:{self.caller}@127.0.0.1:{lport}>", "Max-Forwards: 70",
                 *self.headers]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), (self.host, self.port))

    def _recv_response(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = self.sip.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if text.startswith("SIP/2.0"):
                return text
            if text.startswith("BYE"):
                self._answer_request(text)
        raise AssertionError("no SIP response")

    def _answer_request(self, text):
        head = text.split("\r\n\r\n")[0].split("\r\n")
        keep = [h for h in head[1:] if h.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
        reply = "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n"
        self.sip.sendto(reply.encode(), (self.host, self.port))

    def call(self, seconds, dtmf="", tone_hz=0, dtmf_delay=1.0, say=None):
        """INVITE, record `seconds` of RTP (pressing the `dtmf` digits `dtmf_delay` s after the
        answer; `say=(delay, pcm)`: sending 8 kHz 16-bit PCM `delay` s after it), BYE. Returns the
        final INVITE response status."""
        self.say = say
        rport = self.rtp.getsockname()[1]
        sdp = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {rport} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
               "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n")
        self._request("INVITE", 1, sdp)
        while True:
            resp = self._recv_response()
            status = int(resp.split(" ", 2)[1])
            if status >= 200:
                break
        if status != 200:
            self._request("ACK", 1)
            self._drain_early_media()
            return status
        m = re.search(r"^To:.*;tag=([^;\s]+)", resp, re.M | re.I)
        self.to_tag = m.group(1) if m else None
        body = resp.split("\r\n\r\n", 1)[1]
        ip = re.search(r"c=IN IP4 (\S+)", body).group(1)
        port = int(re.search(r"m=audio (\d+)", body).group(1))
        self.remote_rtp = (ip, port)
        self._request("ACK", 1, to_tag=self.to_tag)
        # Send our own RTP too (silence) so the far end latches and sees media.
        self._record(seconds, dtmf, tone_hz, dtmf_delay)
        if self.hung_up_by_far_end:
            return 200
        self._request("BYE", 2, to_tag=self.to_tag)
        self._recv_response()
        return 200

    def answer_only(self):
        """INVITE and ACK without sending media; returns the 200 OK text (or raises)."""
        rport = self.rtp.getsockname()[1]
        sdp = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {rport} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        self._request("INVITE", 1, sdp)
        while True:
            resp = self._recv_response()
            if int(resp.split(" ", 2)[1]) >= 200:
                break
        m = re.search(r"^To:.*;tag=([^;\s]+)", resp, re.M | re.I)
        self.to_tag = m.group(1) if m else None
        self._request("ACK", 1, to_tag=self.to_tag)
        return resp

    def hang_up(self):
        self._request("BYE", 2, to_tag=self.to_tag)
        return self._recv_response()

    def _record(self, seconds, dtmf="", tone_hz=0, dtmf_delay=1.0):
        """Sends silence (and, after `dtmf_delay` seconds, the `dtmf` digits as RFC 4733 events)
        while recording what arrives."""
        start = time.monotonic()
        stop = start + seconds
        seq, ts, ssrc = 1, 0, 0x1234
        next_send = time.monotonic()
        dtmf_start = time.monotonic() + dtmf_delay
        events = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8,
                  "9": 9, "*": 10, "#": 11}
        pending = list(dtmf)
        event_packets = []  # packets of the digit being sent: (marker, end, duration)
        while time.monotonic() < stop:
            now = time.monotonic()
            if now >= next_send:
                if not event_packets and pending and now >= dtmf_start:
                    digit = events[pending.pop(0)]
                    # 100 ms of tone in 20 ms steps, then the end packet three times (RFC 4733 §2.5.1.4).
                    event_packets = [(i == 0, False, 160 * (i + 1)) for i in range(5)] + \
                        [(False, True, 800)] * 3
                    event_ts, event_digit = ts, digit
                if event_packets:
                    marker, end, duration = event_packets.pop(0)
                    header = bytes([0x80, (0x80 if marker else 0) | 101]) + \
                        seq.to_bytes(2, "big") + event_ts.to_bytes(4, "big") + ssrc.to_bytes(4, "big")
                    payload = bytes([event_digit, (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big")
                    self.rtp.sendto(header + payload, self.remote_rtp)
                else:
                    header = bytes([0x80, 0]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + \
                        ssrc.to_bytes(4, "big")
                    speech = None
                    if self.say and now >= start + self.say[0]:
                        offset = int((now - start - self.say[0]) / 0.02) * 320
                        if offset < len(self.say[1]):
                            speech = self.say[1][offset:offset + 320].ljust(320, b"\0")
                            if self.said_at is None:
                                self.said_at = now
                    if speech is not None:
                        payload = audioop.lin2ulaw(speech, 2)
                    elif tone_hz:
                        pcm = b"".join(int(8000 * math.sin(2 * math.pi * tone_hz * (ts + i) / 8000))
                                       .to_bytes(2, "little", signed=True) for i in range(160))
                        payload = audioop.lin2ulaw(pcm, 2)
                    else:
                        payload = b"\xff" * 160
                    self.rtp.sendto(header + payload, self.remote_rtp)
                seq, ts, next_send = seq + 1, ts + 160, next_send + 0.02
            if self._far_end_hung_up():
                break
            try:
                data, _ = self.rtp.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) < 12:
                continue
            self.packets.append((time.monotonic(), data[1] & 0x7F,
                                 int.from_bytes(data[2:4], "big"),
                                 int.from_bytes(data[4:8], "big"),
                                 int.from_bytes(data[8:12], "big"), bool(data[1] & 0x80),
                                 data[12:]))

    def _far_end_hung_up(self):
        """Answers a BYE from the far end (the assistant ended the call)."""
        self.sip.setblocking(False)
        try:
            data, _ = self.sip.recvfrom(65535)
        except (BlockingIOError, socket.timeout):
            return False
        finally:
            self.sip.settimeout(0.2)
        text = data.decode(errors="replace")
        if text.startswith("BYE"):
            self._answer_request(text)
            self.hung_up_by_far_end = True
            return True
        return False

    def _drain_early_media(self):
        """Keeps the RTP that arrived before a refusal (an announcement in early media)."""
        self.rtp.settimeout(0.05)
        while True:
            try:
                data, _ = self.rtp.recvfrom(2048)
            except socket.timeout:
                break
            if len(data) >= 12:
                self.packets.append((time.monotonic(), data[1] & 0x7F,
                                     int.from_bytes(data[2:4], "big"),
                                     int.from_bytes(data[4:8], "big"),
                                     int.from_bytes(data[8:12], "big"), bool(data[1] & 0x80),
                                     data[12:]))
        self.rtp.settimeout(0.2)

    def pcm(self):
        """The received PCMU decoded to 16-bit 8 kHz PCM, in sequence order."""
        frames = sorted((p for p in self.packets if p[1] == 0), key=lambda p: p[2])
        return b"".join(audioop.ulaw2lin(p[6], 2) for p in frames)

    def close(self):
        self.sip.close()
        self.rtp.close()


def write_wav(path, pcm, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def transcribe(pcm8k, vocabulary):
    """PocketSphinx (Debian) on the audio, constrained to `vocabulary` with a JSGF grammar:
    its generic language model does poorly on synthetic telephone speech (DESIGN.md)."""
    if shutil.which("pocketsphinx_continuous") is None or shutil.which("sox") is None:
        raise unittest.SkipTest("pocketsphinx_continuous or sox missing")
    work = tempfile.mkdtemp(prefix="asr-")
    write_wav(os.path.join(work, "in8k.wav"), pcm8k)
    subprocess.run(["sox", os.path.join(work, "in8k.wav"), "-r", "16000",
                    os.path.join(work, "in16k.wav")], check=True)
    with open(os.path.join(work, "g.gram"), "w") as f:
        f.write("#JSGF V1.0;\ngrammar g;\npublic <s> = <w>+;\n<w> = "
                + " | ".join(sorted(set(vocabulary))) + ";\n")
    out = subprocess.run(["pocketsphinx_continuous", "-infile", os.path.join(work, "in16k.wav"),
                          "-jsgf", os.path.join(work, "g.gram")],
                         capture_output=True, text=True, timeout=60)
    shutil.rmtree(work, ignore_errors=True)
    return out.stdout.strip().lower()
