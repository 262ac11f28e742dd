"""A SIP user agent made of raw sockets, for tests that must see (or send) exact bytes: reason
phrases, Contact parameters, the transport an in-dialog request arrives on, bodies of any type.
UDP or TCP; one dialog per instance; stdlib only."""

import re
import socket
import time
import uuid

PCMU_OFFER = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
              "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
              "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n")
# The same without telephone-event: key presses can then only be tones in the audio.
PCMU_ONLY_OFFER = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                   "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def status_line(message: str) -> str:
    return message.split("\r\n", 1)[0]


def status_of(message: str) -> int:
    return int(message.split(" ", 2)[1])


def header(message: str, name: str):
    head = message.split("\r\n\r\n", 1)[0]
    m = re.search(rf"^{re.escape(name)}\s*:\s*(.*)$", head, re.M | re.I)
    return m.group(1).strip() if m else None


def body_of(message: str) -> str:
    return message.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in message else ""


def sdp_audio_port(sdp: str) -> int:
    return int(re.search(r"m=audio (\d+)", sdp).group(1))


class RawDialog:
    """Sends requests of one dialog to `server` (host, port) over `transport` ("udp"/"tcp") and
    reads what comes back. Requests the server sends (BYE, INFO, re-INVITE) are answered 200 and
    kept in `requests`, with the transport they came on."""

    def __init__(self, server, transport="udp", dialled="+31850835037", caller="+31612345678"):
        self.server = server
        self.transport = transport
        self.dialled, self.caller = dialled, caller
        self.call_id = uuid.uuid4().hex
        self.tag = uuid.uuid4().hex[:8]
        self.to_tag = None
        self.cseq = 0
        self.requests = []  # (transport, text) of requests the server sent us
        self.request_sockets = []  # the socket each of them came on (None: UDP)
        self.unanswered = set()  # methods we let time out (a peer that stopped answering)
        self._buffers = {}
        # A listening socket of each transport on one port: our Contact, where the server's
        # in-dialog requests must arrive (on TCP, or on the connection we opened).
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind(("127.0.0.1", self.port))
        except OSError:
            self.listener.close()
            self.listener = None
        else:
            self.listener.listen(4)
            self.listener.setblocking(False)
        self.accepted = []
        self.tcp = None
        if transport == "tcp":
            self.tcp = socket.create_connection(server, timeout=5)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))

    # ------------------------------------------------------------------ sending
    def uri(self):
        return f"sip:{self.dialled}@{self.server[0]}:{self.server[1]}"

    def request(self, method, body="", content_type=None, cseq=None, extra=(), branch=None,
                call_id=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        proto = self.transport.upper()
        to = f"<{self.uri()}>" + (f";tag={self.to_tag}" if self.to_tag else "")
        transport_param = ";transport=tcp" if self.transport == "tcp" else ""
        lines = [f"{method} {self.uri()} SIP/2.0",
                 f"Via: SIP/2.0/{proto} 127.0.0.1:{self.port};branch="
                 f"{branch or 'z9hG4bK' + uuid.uuid4().hex[:12]};rport",
                 f"From: <sip:{self.caller}@127.0.0.1:{self.port}>;tag={self.tag}",
                 f"To: {to}", f"Call-ID: {call_id or self.call_id}",
                 f"CSeq: {cseq} {method}",
                 f"Contact: <sip:{self.caller}@127.0.0.1:{self.port}{transport_param}>",
                 "Max-Forwards: 70", *extra]
        if body or content_type:
            lines.append(f"Content-Type: {content_type or 'application/sdp'}")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.send_raw(("\r\n".join(lines) + "\r\n\r\n" + body).encode())
        return cseq

    def send_raw(self, data: bytes):
        if self.tcp is not None:
            self.tcp.sendall(data)
        else:
            self.udp.sendto(data, self.server)

    def offer(self, telephone_event=True):
        template = PCMU_OFFER if telephone_event else PCMU_ONLY_OFFER
        return template.format(port=self.rtp.getsockname()[1])

    def ack(self, cseq, body=""):
        self.request("ACK", body=body, cseq=cseq)

    # ------------------------------------------------------------------ receiving
    def _poll_once(self, timeout):
        """Reads one message from any of our sockets, or None after `timeout`."""
        import select
        if self.listener is not None:
            try:
                conn, _ = self.listener.accept()
                self.accepted.append(conn)
            except (BlockingIOError, OSError):
                pass
        socks = [self.udp] + ([self.tcp] if self.tcp else []) + self.accepted
        ready, _, _ = select.select(socks, [], [], timeout)
        for s in ready:
            if s is self.udp:
                data, _ = s.recvfrom(65535)
                return "udp", data.decode(errors="replace"), None
            data = s.recv(65535)
            if not data:
                if s in self.accepted:
                    self.accepted.remove(s)
                continue
            buf = self._buffers.get(s, b"") + data
            message, rest = _split_stream(buf)
            self._buffers[s] = rest
            if message is not None:
                return "tcp", message.decode(errors="replace"), s
        return None

    def next_message(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._poll_once(min(0.2, max(0.01, deadline - time.monotonic())))
            if got is not None:
                return got
        return None

    def response(self, timeout=5.0, final=True):
        """The next response (the next final one when `final`); requests that arrive meanwhile
        are answered 200 and kept."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.next_message(deadline - time.monotonic())
            if got is None:
                break
            transport, text, conn = got
            if text.startswith("SIP/2.0"):
                if final and status_of(text) < 200:
                    continue
                m = re.search(r"^To:.*;tag=([^;\s>]+)", text, re.M | re.I)
                if m and self.to_tag is None and status_of(text) < 300:
                    self.to_tag = m.group(1)
                return text
            self._answer(transport, text, conn)
        raise AssertionError("no SIP response within %.1f s" % timeout)

    def wait_request(self, method, timeout=10.0):
        """Waits for a request `method` from the server; returns (transport, text)."""
        deadline = time.monotonic() + timeout
        for transport, text in self.requests:
            if text.startswith(method + " "):
                return transport, text
        while time.monotonic() < deadline:
            got = self.next_message(deadline - time.monotonic())
            if got is None:
                break
            transport, text, conn = got
            if not text.startswith("SIP/2.0"):
                self._answer(transport, text, conn)
                if text.startswith(method + " "):
                    return transport, text
        raise AssertionError(f"no {method} from the server within {timeout} s")

    def _answer(self, transport, text, conn):
        self.requests.append((transport, text))
        self.request_sockets.append(conn)
        if text.startswith("ACK ") or text.split(" ", 1)[0] in self.unanswered:
            return
        head = text.split("\r\n\r\n")[0].split("\r\n")
        keep = [h for h in head[1:]
                if h.split(":")[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
        reply = ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) +
                 "\r\nContent-Length: 0\r\n\r\n").encode()
        if conn is not None:
            conn.sendall(reply)
        else:
            via = header(text, "Via") or ""
            m = re.search(r"SIP/2.0/UDP ([^:;\s]+):(\d+)", via)
            self.udp.sendto(reply, (m.group(1), int(m.group(2))) if m else self.server)

    # ------------------------------------------------------------------ whole exchanges
    def invite(self, body=None, content_type=None, extra=()):
        """INVITE (our PCMU offer unless `body` is given; "" for none) and its final response."""
        body = self.offer() if body is None else body
        cseq = self.request("INVITE", body=body, content_type=content_type, extra=extra)
        final = self.response(timeout=10)
        return cseq, final

    def close(self):
        for s in [self.udp, self.tcp, self.listener, self.rtp, *self.accepted]:
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass


def _split_stream(buf: bytes):
    """One complete SIP message from the front of a TCP byte stream (Content-Length framing,
    RFC 3261 §18.3), and the rest; (None, buf) while incomplete. CRLF keep-alives are dropped."""
    while buf.startswith(b"\r\n"):
        buf = buf[2:]
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    head = buf[:end].decode(errors="replace")
    m = re.search(r"^(?:Content-Length|l)\s*:\s*(\d+)", head, re.M | re.I)
    length = int(m.group(1)) if m else 0
    total = end + 4 + length
    if len(buf) < total:
        return None, buf
    return buf[:total], buf[total:]
