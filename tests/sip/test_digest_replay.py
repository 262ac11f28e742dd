"""Digest replay protection end to end (docs/calls.md "Who is calling"). A raw UDP client answers
the 401 itself (MD5, qop=auth, nc=00000001) and gets its call; then it sends the very same
Authorization header on a NEW INVITE (new Call-ID), as someone replaying a captured header would.
The answer must be a fresh 401 with stale=true: no call, and no counted authentication failure."""

import hashlib
import re
import socket
import time
import unittest
import uuid

from raw_sip import header, status_of
from sip_harness import DID, DigestTrunkTestCase


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def challenge_param(www_authenticate: str, name: str):
    m = re.search(rf'\b{name}=("([^"]*)"|[^,\s]+)', www_authenticate)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


class DigestClient:
    """INVITEs over UDP from 127.0.0.1 with a PCMU offer; every INVITE is a new transaction with
    its own branch, ACKed as RFC 3261 §17.1.1.3 (non-2xx) or §13.2.2.4 (2xx) says."""

    def __init__(self, server):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.uri = f"sip:{DID}@{server[0]}:{server[1]}"

    def close(self):
        self.sock.close()
        self.rtp.close()

    def _send(self, method, call_id, from_tag, cseq, branch, to_tag=None, extra=(), body=""):
        port = self.sock.getsockname()[1]
        lines = [f"{method} {self.uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport",
                 f"From: <sip:+31612345678@127.0.0.1:{port}>;tag={from_tag}",
                 f"To: <{self.uri}>" + (f";tag={to_tag}" if to_tag else ""),
                 f"Call-ID: {call_id}", f"CSeq: {cseq} {method}",
                 f"Contact: <sip:+31612345678@127.0.0.1:{port}>", "Max-Forwards: 70", *extra]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.server)

    def _final_response(self, call_id, cseq, method, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("SIP/2.0"):
                continue  # nothing else is expected of the server here
            if header(text, "Call-ID") != call_id or header(text, "CSeq") != f"{cseq} {method}":
                continue  # a retransmission of an earlier answer
            if status_of(text) >= 200:
                return text
        raise AssertionError(f"no final response to {method} (Call-ID {call_id})")

    def invite(self, call_id, from_tag, cseq, authorization=None):
        """Sends one INVITE, ACKs its final response and, when it is 200, hangs up at once.
        Returns the final response."""
        branch = "z9hG4bK" + uuid.uuid4().hex[:16]
        sdp = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        extra = [f"Authorization: {authorization}"] if authorization else []
        self._send("INVITE", call_id, from_tag, cseq, branch, extra=extra, body=sdp)
        final = self._final_response(call_id, cseq, "INVITE")
        m = re.search(r";\s*tag=([^;\s>]+)", header(final, "To") or "")
        to_tag = m.group(1) if m else None
        if status_of(final) != 200:
            self._send("ACK", call_id, from_tag, cseq, branch, to_tag=to_tag)
            return final
        self._send("ACK", call_id, from_tag, cseq, "z9hG4bK" + uuid.uuid4().hex[:16],
                   to_tag=to_tag)
        self._send("BYE", call_id, from_tag, cseq + 1, "z9hG4bK" + uuid.uuid4().hex[:16],
                   to_tag=to_tag)
        bye = self._final_response(call_id, cseq + 1, "BYE")
        assert status_of(bye) == 200, bye
        return final


class TestDigestReplay(DigestTrunkTestCase):

    def authorization(self, challenge, uri, nc="00000001", cnonce=None):
        realm = challenge_param(challenge, "realm")
        nonce = challenge_param(challenge, "nonce")
        self.assertEqual(challenge_param(challenge, "algorithm"), "MD5", challenge)
        self.assertIn("auth", challenge_param(challenge, "qop"), challenge)
        cnonce = cnonce or uuid.uuid4().hex[:16]
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        ha2 = md5(f"INVITE:{uri}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        return (f'Digest username="{self.username}", realm="{realm}", nonce="{nonce}", '
                f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
                f'cnonce="{cnonce}"')

    def test_a_replayed_authorization_header_gets_a_stale_challenge(self):
        client = DigestClient((self.server.sip_host, self.server.sip_port))
        self.addCleanup(client.close)
        call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        first = client.invite(call_id, tag, 1)
        self.assertEqual(status_of(first), 401, first)
        challenge = header(first, "WWW-Authenticate")
        self.assertIsNone(challenge_param(challenge, "stale"), challenge)

        # The legitimate retry: the same dialog, the next CSeq, our digest of the password.
        captured = self.authorization(challenge, client.uri)
        answered = client.invite(call_id, tag, 2, authorization=captured)
        self.assertEqual(status_of(answered), 200, answered)

        # The same header, unchanged, on a brand-new INVITE seconds later.
        replay = client.invite(uuid.uuid4().hex, uuid.uuid4().hex[:8], 1, authorization=captured)
        self.assertEqual(status_of(replay), 401, replay)
        fresh = header(replay, "WWW-Authenticate")
        self.assertEqual(challenge_param(fresh, "stale"), "true", fresh)
        self.assertNotEqual(challenge_param(fresh, "nonce"), challenge_param(challenge, "nonce"))
        self.assertEqual(self.metric("trunkline_sip_digest_replays_total"), 1)
        self.assertEqual(self.metric("trunkline_sip_auth_failures_total"), 0)

        # An honest client in that position answers the fresh nonce and gets its call.
        call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        again = client.invite(call_id, tag, 1,
                              authorization=self.authorization(fresh, client.uri))
        self.assertEqual(status_of(again), 200, again)
        # Two calls, both ended: the replay never became one.
        self.wait_for(lambda: [c["status"] for c in self.calls()] == ["ended", "ended"],
                      what="exactly two ended calls")
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
