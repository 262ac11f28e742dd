"""Real SIP softphones driven headless on loopback: baresip 1.0 (Debian `baresip`) and linphone 5.1
(Debian `linphone-cli`, `linphonec`). Each peer plays a WAV file as its microphone, records what it
hears to a WAV file and keeps a full SIP trace, so a test can check the audio and which transport
every request took. See README.md in this folder for the exact invocations and their pitfalls."""

import atexit
import audioop  # deprecated in 3.11, present in Debian 12's Python
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))
from sip_harness import rtp_range, tone_ratio  # noqa: E402

BARESIP = shutil.which("baresip")
LINPHONEC = shutil.which("linphonec")
BARESIP_MODULES = "/usr/lib/baresip/modules"
CALLER_ID = "+31612345678"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
START_LINE_RE = re.compile(
    r"^(?:([A-Z]+) (sip:\S+) SIP/2\.0|SIP/2\.0 (\d{3}) ([^\r\n]*))\r?$", re.M)
VIA_RE = re.compile(r"^Via: SIP/2\.0/(\w+)", re.M | re.I)
CSEQ_RE = re.compile(r"^CSeq: *\d+ +(\w+)", re.M | re.I)


# ---------------------------------------------------------------------- ports and audio files
def _bindable(kind, port):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_sip_port():
    """A port free for SIP over UDP and TCP whose successor is free too: baresip listens for TLS
    on sip_listen's port + 1 even without a certificate (a ctrl_tcp port there would clash)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65535 and _bindable(socket.SOCK_DGRAM, port) and \
                _bindable(socket.SOCK_STREAM, port) and _bindable(socket.SOCK_STREAM, port + 1):
            return port
    raise RuntimeError("no free SIP port pair on 127.0.0.1")


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _RtpSlices:
    """The peers' RTP ports: one flock-claimed range of 1000 (the same claim the servers use, so
    parallel test files never collide), handed out in slices of 100, round robin."""

    def __init__(self):
        self.base = None
        self.next = 0
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.base is None:
                self.base = int(rtp_range().split("-")[0])
            lo = self.base + (self.next % 10) * 100
            self.next += 1
            return lo, lo + 99


RTP_SLICES = _RtpSlices()
_wav_dir = None


def source_wav(kind, seconds=120):
    """An 8 kHz mono 16-bit WAV to play as a microphone: 'silence' or 'tone<HZ>'. Long, so that no
    peer reaches the end of its file during a call."""
    global _wav_dir
    if _wav_dir is None:
        _wav_dir = tempfile.mkdtemp(prefix="tl-interop-wav-")
        atexit.register(shutil.rmtree, _wav_dir, True)
    path = os.path.join(_wav_dir, f"{kind}.wav")
    if os.path.exists(path):
        return path
    rate = 8000
    if kind == "silence":
        pcm = b"\0\0" * rate * seconds
    else:
        hz = int(kind[len("tone"):])
        second = b"".join(int(12000 * math.sin(2 * math.pi * hz * i / rate))
                          .to_bytes(2, "little", signed=True) for i in range(rate))
        pcm = second * seconds  # a whole number of periods per second for the tones used here
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def read_wav(path):
    """(rate, 16-bit mono PCM bytes) of a recording; tolerates a header whose sizes were never
    filled in (a recorder killed mid-call) by reading everything after the header."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        with wave.open(path, "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        rate, channels, width, frames = 8000, 1, 2, b""
    if not frames and len(data) > 44:
        frames = data[44:]
    if width != 2:
        frames = audioop.lin2lin(frames, width, 2)
    if channels == 2:
        frames = audioop.tomono(frames, 2, 0.5, 0.5)
    return rate, frames


def to_8k(rate, pcm):
    if rate == 8000:
        return pcm
    return audioop.ratecv(pcm, 2, 1, rate, 8000, None)[0]


def speech_seconds(pcm8k):
    """Seconds of 20 ms frames that carry voice: loud enough (RMS > 300) with a zero-crossing rate
    of a voice in the telephone band (not a DC offset, not hiss at the Nyquist edge)."""
    frame = 320
    voiced = 0
    for i in range(0, len(pcm8k) - frame + 1, frame):
        chunk = pcm8k[i:i + frame]
        if audioop.rms(chunk, 2) <= 300:
            continue
        crossings = audioop.cross(chunk, 2)  # per 160 samples: 1..60 is 25 Hz..1.5 kHz dominant
        if 1 <= crossings <= 60:
            voiced += 1
    return voiced * 0.02



def tone_seconds(pcm8k, freq):
    """Seconds (in 250 ms windows) in which `freq` holds more than half the energy."""
    samples = [int.from_bytes(pcm8k[i:i + 2], "little", signed=True)
               for i in range(0, len(pcm8k) - 1, 2)]
    window = 2000
    hits = sum(1 for s in range(0, len(samples) - window + 1, window)
               if tone_ratio(samples[s:s + window], freq) > 0.5)
    return hits * 0.25


def sip_messages(trace):
    """[(start line, CSeq method, transport), ...] for every SIP message in a peer's trace, sent or
    received, in order. The transport is the top Via's: the transport of that hop (a response
    carries the Via of the request it answers)."""
    found = []
    starts = list(START_LINE_RE.finditer(trace))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(trace)
        head = trace[m.end():min(end, m.end() + 3000)].split("\n\n", 1)[0]
        via, cseq = VIA_RE.search(head), CSEQ_RE.search(head)
        if via is None or cseq is None:
            continue  # a SIP URI quoted in a log line, not a message
        line = m.group(0).strip() if m.group(1) is None else f"{m.group(1)} {m.group(2)}"
        found.append((line, cseq.group(1).upper(), via.group(1).upper()))
    return found


def requests_by_transport(trace):
    """[(method, transport), ...] for every SIP request in a peer's trace, sent or received."""
    return [(cseq, transport) for line, cseq, transport in sip_messages(trace)
            if not line.startswith("SIP/2.0")]


def sip_flow(trace):
    """The trace as a ladder, one message a line: "INVITE sip:... [TCP]",
    "SIP/2.0 200 OK (INVITE) [UDP]"."""
    return "\n".join(f"  {line}" + (f" ({cseq})" if line.startswith("SIP/2.0") else "")
                     + f" [{transport}]" for line, cseq, transport in sip_messages(trace))


# ---------------------------------------------------------------------- the peers
class Peer:
    """A softphone in its own temporary directory. Subclasses start the process and map the
    actions; `transport` is 'udp' or 'tcp' for the calls it places."""

    name = "peer"

    def __init__(self, transport="udp", source="silence", user=CALLER_ID, auto_answer=False,
                 dtmf="rfc4733"):
        self.transport = transport
        self.source = source_wav(source)
        self.user = user
        self.auto_answer = auto_answer
        self.dtmf = dtmf
        self.dir = tempfile.mkdtemp(prefix=f"tl-interop-{self.name}-")
        self.name = f"{self.name} {user}"  # two peers of a kind in one test stay apart in logs
        self.sip_port = free_sip_port()
        self.rtp_ports = RTP_SLICES.take()
        self.proc = None
        self.log_path = os.path.join(self.dir, "peer.log")

    def uri(self, host="127.0.0.1"):
        """Where a call reaches this peer (as a transfer destination)."""
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{self.user}@{host}:{self.sip_port}{suffix}"

    def trace(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return ANSI_RE.sub("", f.read())
        except OSError:
            return ""

    def requests(self):
        return requests_by_transport(self.trace())

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cleanup(self):
        self.stop()
        if os.environ.get("TRUNKLINE_TEST_KEEP") == "1":
            sys.stderr.write(f"\n[kept] {self.name} dir {self.dir}\n")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=80):
        trace = self.trace()
        tail = trace.splitlines()[-lines:]
        return (f"--- {self.name} SIP flow (from {self.log_path}) ---\n{sip_flow(trace)}\n"
                f"--- {self.name} log, last {len(tail)} lines ---\n" + "\n".join(tail))


class Baresip(Peer):
    """baresip 1.0 with a generated config dir:

        baresip -s -f DIR       (-s: SIP trace on stdout, kept in peer.log)

    Modules: g711, aufile (the WAV `source` as microphone), sndfile (writes what is heard, decoded,
    to DIR/rec/dump-*-dec.wav), ctrl_tcp (netstring JSON commands and events on a TCP port),
    account + menu (the `dial`, `hangup`, `hold`, `resume`, `sndcode` commands). No audio player:
    sndfile taps the decoded stream, so nothing needs a sound card. DTMF is RFC 4733 only: baresip
    1.0 has no SIP INFO sending (the `dtmfmode` account parameter came later)."""

    name = "baresip"

    def start(self):
        if BARESIP is None:
            raise AssertionError("baresip is not installed (Debian package baresip; "
                                 "scripts/install-deps.sh installs it)")
        if self.dtmf != "rfc4733":
            raise AssertionError("baresip 1.0 sends DTMF by RFC 4733 only")
        self.ctrl_port = free_tcp_port()
        os.makedirs(os.path.join(self.dir, "rec"))
        config = f"""poll_method epoll
sip_listen 127.0.0.1:{self.sip_port}
net_interface 127.0.0.1
call_local_timeout 120
call_max_calls 2
audio_player none,none
audio_source aufile,{self.source}
audio_alert none,none
rtp_ports {self.rtp_ports[0]}-{self.rtp_ports[1]}
module_path {BARESIP_MODULES}
module g711.so
module aufile.so
module sndfile.so
module ctrl_tcp.so
module_tmp account.so
module_app menu.so
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
snd_path {self.dir}/rec
statmode_default off
"""
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(config)
        # The account's transport parameter makes baresip add ;transport=tcp to every URI it dials.
        transport = ";transport=tcp" if self.transport == "tcp" else ""
        answer = "auto" if self.auto_answer else "manual"
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(f"<sip:{self.user}@127.0.0.1{transport}>;regint=0;answermode={answer}\n")
        with open(os.path.join(self.dir, "contacts"), "w"):
            pass
        self.events = []
        self.cond = threading.Condition()
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BARESIP, "-s", "-f", self.dir], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.ctrl = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("baresip did not start\n" + self.log_tail())
                time.sleep(0.1)
        self.ctrl.settimeout(None)
        threading.Thread(target=self._read_events, args=(self.ctrl,), daemon=True).start()
        return self

    def _read_events(self, sock):
        buf = b""
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while True:  # netstrings: LEN ":" JSON ","
                head, sep, rest = buf.partition(b":")
                if not sep or not head.isdigit() or len(rest) < int(head) + 1:
                    break
                n = int(head)
                try:
                    msg = json.loads(rest[:n])
                except ValueError:
                    msg = {"raw": rest[:n].decode(errors="replace")}
                buf = rest[n + 1:]
                with self.cond:
                    self.events.append(msg)
                    self.cond.notify_all()

    def command(self, name, params=""):
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self.ctrl.sendall(str(len(body)).encode() + b":" + body + b",")

    def wait_event(self, types, timeout=15):
        """The first call event of one of `types` (CALL_ESTABLISHED, CALL_CLOSED, ...)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e.get("event") and e.get("type") in types:
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def dial(self, uri):
        self.command("dial", uri)

    def wait_established(self, timeout=15):
        e = self.wait_event(("CALL_ESTABLISHED", "CALL_CLOSED"), timeout)
        return e is not None and e["type"] == "CALL_ESTABLISHED"

    def wait_closed(self, timeout=15):
        return self.wait_event(("CALL_CLOSED",), timeout) is not None

    def send_dtmf(self, digit):
        # One key press: the event starts and ends at once (baresip sends the key release right
        # after), so the digits go one command each, spaced by the caller.
        self.command("sndcode", digit)

    def hold(self):
        self.command("hold")

    def resume(self):
        self.command("resume")

    def hang_up(self):
        self.command("hangup")

    def stop(self):
        if getattr(self, "ctrl", None) is not None:
            try:
                self.ctrl.close()
            except OSError:
                pass
            self.ctrl = None
        super().stop()

    def recording(self):
        """(rate, pcm) of what the peer heard in its last call."""
        rec = os.path.join(self.dir, "rec")
        files = sorted(f for f in os.listdir(rec) if f.endswith("-dec.wav"))
        if not files:
            return 8000, b""
        return read_wav(os.path.join(rec, files[-1]))


class Linphone(Peer):
    """linphone 5.1's console client with a generated linphonerc, commands on its standard input:

        HOME=DIR linphonec -c DIR/linphonerc -d 6 -l DIR/peer.log

    then `soundcard use files`, `play SOURCE.wav`, `record DIR/heard.wav` (file mode: no sound card
    needed), `call URI`, a digit alone on a line (DTMF), `pause`, `resume`, `terminate`, `quit`.
    DTMF by RFC 4733 or SIP INFO is chosen in linphonerc ([sip] use_rfc2833 / use_info). Its
    state comes from stdout ("Call 1 with ... connected.", "... ended"). [rtp] bind_address and
    [sip] contact keep the SDP and Contact on 127.0.0.1 (it would announce the default route's
    address otherwise)."""

    name = "linphone"

    def start(self):
        if LINPHONEC is None:
            raise AssertionError("linphonec is not installed (Debian package linphone-cli; "
                                 "scripts/install-deps.sh installs it)")
        info = self.dtmf == "info"
        rc = f"""[sip]
sip_port={self.sip_port}
sip_tcp_port={self.sip_port}
sip_tls_port=0
guess_hostname=0
contact=sip:{self.user}@127.0.0.1
use_info={1 if info else 0}
use_rfc2833={0 if info else 1}
inc_timeout=30
register_only_when_network_is_up=0

[rtp]
audio_rtp_port={self.rtp_ports[0]}-{self.rtp_ports[1]}
bind_address=127.0.0.1

[sound]
echocancellation=0

[storage]
uri={self.dir}/linphone.db

[misc]
user_certificates_path={self.dir}
"""
        self.rc_path = os.path.join(self.dir, "linphonerc")
        with open(self.rc_path, "w") as f:
            f.write(rc)
        self.heard_path = os.path.join(self.dir, "heard.wav")
        self.lines = []
        self.cond = threading.Condition()
        # HOME: linphonec's own files (history, ZRTP cache); the PulseAudio client library's
        # probe (there is no sound server) would leave a /tmp/pulse-* directory per run otherwise.
        env = dict(os.environ, HOME=self.dir, XDG_RUNTIME_DIR=self.dir,
                   PULSE_RUNTIME_PATH=os.path.join(self.dir, "pulse"))
        args = [LINPHONEC, "-c", self.rc_path, "-d", "6", "-l", self.log_path]
        if self.auto_answer:
            args.append("-a")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, text=True, bufsize=1)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self.send("soundcard use files")
        self.send(f"play {self.source}")
        self.send(f"record {self.heard_path}")
        if not self.wait_line(r"Using wav files instead of soundcard", 10):
            raise AssertionError("linphonec did not start\n" + self.console())
        return self

    def _read_stdout(self):
        for line in iter(self.proc.stdout.readline, ""):
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def console(self):
        with self.cond:
            return "--- linphonec stdout ---\n" + "\n".join(self.lines[-40:])

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_line(self, pattern, timeout=15, start=0):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def dial(self, uri):
        if self.transport == "tcp":
            uri += ";transport=tcp"
        self.send(f"call {uri}")

    def wait_established(self, timeout=15):
        line = self.wait_line(r"Call \d+ .*(connected\.|ended|error|declined|failed)", timeout)
        return line is not None and line.endswith("connected.")

    def wait_closed(self, timeout=15):
        return self.wait_line(r"Call \d+ .*(ended|error|declined|failed)", timeout) is not None

    def send_dtmf(self, digit):
        self.send(digit)

    def hold(self):
        self.send("pause")

    def resume(self):
        self.send("resume")

    def hang_up(self):
        self.send("terminate")

    def stop(self):
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                self.send("quit")
                proc.wait(timeout=5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        super().stop()
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass

    def log_tail(self, lines=30):
        return self.console() + "\n" + super().log_tail(lines)

    def recording(self):
        if not os.path.exists(self.heard_path):
            return 8000, b""
        return read_wav(self.heard_path)
