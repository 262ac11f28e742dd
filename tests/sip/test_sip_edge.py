"""The SIP edge as real carriers and PBXs meet it: exact reason phrases (a use-after-free put heap
bytes there once), no version in Server/User-Agent, 415 for bodies that are not SDP, late offer
(INVITE without SDP), TCP dialogs that stay on TCP, DTMF by SIP INFO, and JSON logs that parse
line by line whatever the network sends."""

import audioop  # deprecated in 3.11, present in Debian 12's Python
import json
import math
import os
import socket
import struct
import time
import unittest

from raw_sip import RawDialog, body_of, header, sdp_audio_port, status_line
from sip_harness import DigestTrunkTestCase, SipServerTestCase, tone_ratio

G729_ONLY = ("v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             "m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")


class EdgeTestCase(SipServerTestCase):

    def dialog(self, transport="udp", **kw):
        d = RawDialog((self.server.sip_host, self.server.sip_port), transport, **kw)
        self.addCleanup(d.close)
        return d

    def call_with_sip_id(self, sip_call_id, status=None, timeout=10):
        def find():
            for c in self.calls():
                if c.get("sip_call_id") == sip_call_id and (status is None or
                                                            c["status"] == status):
                    return c
            return None
        return self.wait_for(find, timeout=timeout, what=f"call {sip_call_id} ({status})")

    def events(self, call_id):
        return self.server.api("GET", f"/calls/{call_id}").body["events"]

    def answered(self, transport="udp", telephone_event=True):
        """A call answered 200 and ACKed; returns the dialog and the 200."""
        d = self.dialog(transport)
        cseq, final = d.invite(body=d.offer(telephone_event))
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        d.ack(cseq)
        return d, final


class TestReplies(EdgeTestCase):

    def test_reason_phrases_are_exact_over_50_calls(self):
        # Custom phrases longer than std::string's inline buffer once reached the wire from
        # freed memory; each must come back byte for byte, every time.
        for i in range(50):
            d = self.dialog()
            _, final = d.invite(body=G729_ONLY)
            self.assertEqual(status_line(final), "SIP/2.0 488 No Common Codec Offered",
                             f"call {i}: {final[:200]!r}")
            d.ack(1)
            d2 = self.dialog()
            _, final = d2.invite(body="v=0\r\nthis is not sdp\r\n")
            self.assertEqual(status_line(final), "SIP/2.0 400 Malformed SDP offer",
                             f"call {i}: {final[:200]!r}")
            d2.ack(1)
        self.assertGaugesReturnToZero()

    def test_server_header_names_no_version(self):
        d = self.dialog()
        d.request("OPTIONS")
        reply = d.response()
        self.assertEqual(header(reply, "Server") or header(reply, "User-Agent"), "trunkline")
        self.assertNotIn("trunkline/", reply)

    def test_body_that_is_not_sdp_is_415_with_accept(self):
        d = self.dialog()
        _, final = d.invite(body="hello", content_type="text/plain")
        self.assertEqual(status_line(final), "SIP/2.0 415 Unsupported Media Type")
        self.assertEqual(header(final, "Accept"), "application/sdp")
        d.ack(1)
        self.assertGaugesReturnToZero()


class TestRefusedCallsAreRecorded(EdgeTestCase):

    def refused(self, dialled, body=None, expected=404):
        d = self.dialog(dialled=dialled)
        _, final = d.invite(body=body)
        self.assertEqual(int(final.split(" ")[1]), expected, final[:200])
        d.ack(1)
        return self.call_with_sip_id(d.call_id, "failed")

    def test_unknown_number(self):
        call = self.refused("+31850835099")
        self.assertEqual(call["end_reason"], "unknown_number")
        self.assertEqual(call["sip_status"], 404)
        self.assertEqual(call["caller_phone"], "+31612345678")
        self.assertIsNotNone(call["trunk_id"])
        self.assertIsNone(call["duration_seconds"])

    def test_number_without_assistant(self):
        call = self.refused("+31850835038", expected=480)
        self.assertEqual(call["end_reason"], "no_assistant")
        self.assertEqual(call["sip_status"], 480)

    def test_no_common_codec(self):
        call = self.refused("+31850835037", body=G729_ONLY, expected=488)
        self.assertEqual(call["end_reason"], "no_common_codec")
        self.assertEqual(call["sip_status"], 488)
        self.assertGaugesReturnToZero()


class TestRefusedCallsOfDigestTrunks(EdgeTestCase, DigestTrunkTestCase):

    def test_wrong_password_is_the_trunks_refused_call(self):
        self.sipp("digest_wrong_password.xml", args=("-au", self.username, "-ap", "wrong"))
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "failed"),
                                          None), what="the refused call")
        self.assertEqual(call["end_reason"], "auth_failed")
        self.assertEqual(call["sip_status"], 403)
        self.assertEqual(call["trunk_id"], self.trunk_id)

    def test_strangers_are_never_stored(self):
        for _ in range(20):
            d = self.dialog()
            _, final = d.invite()
            self.assertEqual(status_line(final).split(" ")[1], "401")
            d.ack(1)
        self.assertEqual([c for c in self.calls() if c["status"] != "failed"
                          or c["end_reason"] != "auth_failed"], [])


class TestUserAgentFlag(EdgeTestCase):
    extra_args = ("--sip-user-agent", "Acme-PBX")

    def test_operator_sets_the_user_agent(self):
        d = self.dialog()
        d.request("OPTIONS")
        reply = d.response()
        self.assertEqual(header(reply, "Server") or header(reply, "User-Agent"), "Acme-PBX")


class TestLateOffer(EdgeTestCase):

    def test_offer_in_our_200_answer_in_the_ack(self):
        d = self.dialog()
        cseq, final = d.invite(body="")
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        offer = body_of(final)
        self.assertIn("m=audio", offer)
        self.assertIn("PCMU", offer)
        # Our answer in the ACK; media must then flow to the port it names.
        answer = d.offer().replace("RTP/AVP 0 101", "RTP/AVP 0 101")
        d.ack(cseq, body=answer)
        d.rtp.settimeout(5)
        data, source = d.rtp.recvfrom(2048)
        self.assertEqual(source[1], sdp_audio_port(offer))
        self.assertEqual(data[1] & 0x7f, 0)  # PCMU, as answered
        call = self.call_with_sip_id(d.call_id, "in-progress")
        ack = self.wait_for(lambda: [e for e in self.events(call["id"]) if e["type"] == "sip.ack"],
                            what="the ACK recorded")
        self.assertEqual(ack[0]["data"], {"sdp": True})
        d.request("BYE")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        self.call_with_sip_id(d.call_id, "ended")
        self.assertGaugesReturnToZero()

    def test_ack_without_answer_ends_the_call_with_bye(self):
        d = self.dialog()
        cseq, final = d.invite(body="")
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        started = time.monotonic()
        d.ack(cseq)  # no SDP: the offer in our 200 is never answered
        d.wait_request("BYE", timeout=10)
        self.assertLess(time.monotonic() - started, 10)
        call = self.call_with_sip_id(d.call_id, "ended")
        self.assertEqual(call["end_reason"], "no_sdp_answer")
        self.assertGaugesReturnToZero()

    def test_offerless_reinvite_takes_the_answer_from_the_ack(self):
        d, _ = self.answered()
        cseq = d.request("INVITE", body="")
        final = d.response()
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        self.assertIn("m=audio", body_of(final))
        d.ack(cseq, body=d.offer())
        d.request("BYE")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        self.assertGaugesReturnToZero()


class TestTcpDialogs(EdgeTestCase):

    def test_contact_says_tcp_and_our_bye_arrives_over_tcp(self):
        d = self.dialog("tcp")
        cseq, final = d.invite()
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        contact = header(final, "Contact") or header(final, "m")
        self.assertIn(";transport=tcp", contact.lower())
        d.ack(cseq)
        call = self.call_with_sip_id(d.call_id, "in-progress")
        r = self.server.api("POST", f"/calls/{call['id']}/control", {"type": "end-call"})
        self.assertEqual(r.status, 200, r)
        transport, bye = d.wait_request("BYE", timeout=10)
        self.assertEqual(transport, "tcp", "BYE came over UDP although the dialog is on TCP")
        self.assertFalse([t for t, _ in d.requests if t == "udp"])
        # Over the connection the call came in on (it is still open), not a new one to our
        # Contact's port.
        on = d.request_sockets[[t for t, _ in d.requests].index("tcp")]
        self.assertIs(on, d.tcp, "BYE came over a new TCP connection")
        self.assertEqual(d.accepted, [])
        self.assertGaugesReturnToZero()


class TestKeepAlives(EdgeTestCase):

    def test_a_crlf_ping_on_tcp_gets_a_pong(self):
        # RFC 5626 §3.5.1: clients behind NAT keep their flow open with CRLFCRLF.
        with socket.create_connection((self.server.sip_host, self.server.sip_port), timeout=2) as s:
            for _ in range(2):
                s.sendall(b"\r\n\r\n")
                self.assertEqual(s.recv(16), b"\r\n")
            # The flow still carries SIP afterwards.
            s.sendall(("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch="
                       "z9hG4bKka\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\n"
                       "Call-ID: ka1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                       "Content-Length: 0\r\n\r\n").encode())
            self.assertTrue(s.recv(4096).startswith(b"SIP/2.0 200"))


class TestInfoDtmf(EdgeTestCase):

    def test_info_digits_are_recorded_with_their_method(self):
        d, _ = self.answered()
        d.request("INFO", body="Signal=5\r\nDuration=160\r\n",
                  content_type="application/dtmf-relay")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        d.request("INFO", body="7", content_type="application/dtmf")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        d.request("INFO", body="hello", content_type="text/plain")
        reply = d.response()
        self.assertEqual(status_line(reply), "SIP/2.0 415 Unsupported Media Type")
        self.assertIn("application/dtmf-relay", header(reply, "Accept"))
        d.request("INFO", body="Signal=55\r\n", content_type="application/dtmf-relay")
        self.assertTrue(status_line(d.response()).startswith("SIP/2.0 400 "))
        call = self.call_with_sip_id(d.call_id, "in-progress")
        digits = self.wait_for(
            lambda: [(e["data"]["digit"], e["data"]["method"]) for e in self.events(call["id"])
                     if e["type"] == "dtmf"] or None, what="dtmf events")
        self.assertEqual(digits, [("5", "info"), ("7", "info")])
        d.request("BYE")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        self.assertGaugesReturnToZero()


def dtmf_pcm(digits, tone_ms=100, gap_ms=200, rate=8000):
    """16-bit PCM of `digits` as Q.23 dual tones at about -10 dBm0 per tone, with gaps."""
    rows = {"1": 697, "2": 697, "3": 697, "4": 770, "5": 770, "6": 770, "7": 852, "8": 852,
            "9": 852, "*": 941, "0": 941, "#": 941}
    cols = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
            "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477}
    samples = [0] * (rate * gap_ms // 1000)
    for d in digits:
        for i in range(rate * tone_ms // 1000):
            t = i / rate
            samples.append(int(5000 * (math.sin(2 * math.pi * rows[d] * t) +
                                       math.sin(2 * math.pi * cols[d] * t))))
        samples += [0] * (rate * gap_ms // 1000)
    return struct.pack(f"<{len(samples)}h", *samples)


class TestInbandDtmf(EdgeTestCase):

    def test_tones_in_the_audio_are_digits_when_no_telephone_event_was_offered(self):
        d = self.dialog()
        cseq, final = d.invite(body=d.offer(telephone_event=False))
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        self.assertNotIn("telephone-event", body_of(final))
        d.ack(cseq)
        target = ("127.0.0.1", sdp_audio_port(body_of(final)))
        pcm = struct.pack("<4000h", *([0] * 4000)) + dtmf_pcm("59#")
        ulaw = audioop.lin2ulaw(pcm, 2)
        started = time.monotonic()
        for n in range(len(ulaw) // 160):
            header_bytes = struct.pack("!BBHII", 0x80, 0, n, n * 160, 0x1234)
            d.rtp.sendto(header_bytes + ulaw[n * 160:(n + 1) * 160], target)
            time.sleep(max(0, started + (n + 1) * 0.02 - time.monotonic()))
        call = self.call_with_sip_id(d.call_id, "in-progress")
        digits = self.wait_for(
            lambda: [(e["data"]["digit"], e["data"]["method"]) for e in self.events(call["id"])
                     if e["type"] == "dtmf"] or None, what="in-band digits")
        time.sleep(0.5)
        digits = [(e["data"]["digit"], e["data"]["method"]) for e in self.events(call["id"])
                  if e["type"] == "dtmf"]
        self.assertEqual(digits, [("5", "inband"), ("9", "inband"), ("#", "inband")])
        d.request("BYE")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        self.assertGaugesReturnToZero()


class TestSendDtmf(EdgeTestCase):

    def answered_call(self, telephone_event=True):
        d, _ = self.answered(telephone_event=telephone_event)
        return d, self.call_with_sip_id(d.call_id, "in-progress")

    def receive_rtp(self, d, seconds):
        packets = []
        d.rtp.settimeout(0.1)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data, _ = d.rtp.recvfrom(2048)
            except socket.timeout:
                continue
            packets.append((time.monotonic(), data))
        return packets

    def test_digits_go_out_as_rfc4733_events_100_ms_each_100_ms_apart(self):
        d, call = self.answered_call()
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "send-dtmf", "digits": "12#"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["success"], True)
        events = {}  # event start timestamp -> [event code, final duration, first, last arrival]
        for at, data in self.receive_rtp(d, 1.5):
            if data[1] & 0x7f != 101:
                continue
            ts = struct.unpack("!I", data[4:8])[0]
            code, flags, duration = data[12], data[13], struct.unpack("!H", data[14:16])[0]
            e = events.setdefault(ts, [code, 0, at, at])
            e[1] = max(e[1], duration)
            e[3] = at
            if flags & 0x80 and len(e) == 4:
                e.append(at)  # the first end packet: the tone stops here
        ordered = [events[ts] for ts in sorted(events)]
        self.assertEqual([e[0] for e in ordered], [1, 2, 11])
        self.assertEqual([e[1] for e in ordered], [800, 800, 800])  # 100 ms at 8 kHz
        for previous, following in zip(ordered, ordered[1:]):
            gap = following[2] - previous[4]
            self.assertGreaterEqual(gap, 0.08, gap)
            self.assertLess(gap, 0.2, gap)
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "send-dtmf", "digits": "12x"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.body["field"], "digits")
        d.request("BYE")
        d.response()
        self.assertGaugesReturnToZero()

    def test_without_telephone_event_the_digits_are_tones(self):
        d, call = self.answered_call(telephone_event=False)
        time.sleep(3)  # the greeting first: digits queue behind what is playing
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "send-dtmf", "digits": "5"})
        self.assertEqual(r.status, 200, r)
        pcm = b"".join(audioop.ulaw2lin(data[12:], 2) for _, data in self.receive_rtp(d, 3)
                       if data[1] & 0x7f == 0)
        samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
        windows = [samples[i:i + 400] for i in range(0, len(samples) - 400, 200)]
        # Key 5 is 770 Hz + 1336 Hz: both strong in the same 50 ms window.
        both = [w for w in windows if tone_ratio(w, 770) > 0.2 and tone_ratio(w, 1336) > 0.2]
        self.assertTrue(both, "no 770+1336 Hz dual tone heard")
        d.request("BYE")
        d.response()
        self.assertGaugesReturnToZero()


class TestOverloadIsRecorded(EdgeTestCase):
    extra_args = ("--max-calls", "1")

    def test_a_known_trunks_call_over_the_limit_is_a_failed_call(self):
        first = self.dialog()
        cseq, final = first.invite()
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        first.ack(cseq)
        second = self.dialog()
        _, final = second.invite()
        self.assertEqual(status_line(final).split(" ")[1], "503")
        second.ack(1)
        call = self.call_with_sip_id(second.call_id, "failed")
        self.assertEqual(call["end_reason"], "overload")
        self.assertEqual(call["sip_status"], 503)
        first.request("BYE")
        first.response()
        self.assertGaugesReturnToZero()


class TestDigitsReachTheAssistant(EdgeTestCase):
    """"Press 1 for sales": a key press is the caller's turn, so scripted rules (and a model) act
    on it like on words."""

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {"llm_config": {
            "provider": "scripted",
            "rules": [{"when": ["1"], "reply": "Sales, one moment please."},
                      {"when": ["2"], "reply": "Support, one moment please."}]}})
        assert r.status == 200, r

    def test_a_digit_by_info_gets_the_rules_reply(self):
        d, _ = self.answered()
        d.request("INFO", body="Signal=2\r\nDuration=100\r\n",
                  content_type="application/dtmf-relay")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        call = self.call_with_sip_id(d.call_id, "in-progress")

        def replied():
            messages = self.server.api("GET", f"/calls/{call['id']}").body["messages"]
            return messages if any(m["role"] == "assistant" and "Support" in m["content"]
                                   for m in messages) else None
        messages = self.wait_for(replied, timeout=10, what="the assistant's reply to key 2")
        self.assertIn({"role": "user", "content": "2"},
                      [{"role": m["role"], "content": m["content"]} for m in messages])
        d.request("BYE")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")
        self.assertGaugesReturnToZero()


class TestUntrustedTcp(EdgeTestCase):
    # All test peers are 127.0.0.1: the per-source cap is TestTcpCaps's subject, not this one's.
    extra_args = ("--sip-tcp-idle-timeout", "2", "--sip-tcp-max-per-source", "1000")

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.server.proc.pid}/fd"))

    def test_bad_and_idle_connections_are_closed_and_service_goes_on(self):
        target = (self.server.sip_host, self.server.sip_port)
        baseline = self.open_fds()
        conns = []
        for i in range(150):
            s = socket.create_connection(target, timeout=5)
            if i % 3 == 0:
                s.sendall(b"GARBAGE \x01\x02 not sip\r\n\r\n")
            elif i % 3 == 1:
                s.sendall(b"INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP 1.2.3.4")  # incomplete
            conns.append(s)
        # SIP over TCP and the API still answer at once.
        started = time.monotonic()
        d = self.dialog("tcp")
        d.request("OPTIONS")
        self.assertEqual(status_line(d.response(timeout=2)), "SIP/2.0 200 OK")
        r = self.server.api("GET", "/calls")
        self.assertEqual(r.status, 200)
        self.assertLess(time.monotonic() - started, 1.0)
        d.close()
        # Every one of them is closed by the server within the timeout (+ timer slack).
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and self.open_fds() > baseline + 2:
            time.sleep(0.2)
        self.assertLessEqual(self.open_fds(), baseline + 2,
                             f"{self.open_fds() - baseline} descriptors still open")
        closed = 0
        for s in conns:
            s.settimeout(0.5)
            try:
                while s.recv(4096):  # a 400 may come first; then end of stream
                    pass
                closed += 1
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
            s.close()
        self.assertEqual(closed, len(conns), "connections the server left open")


class TestParseErrorClosesTheConnection(EdgeTestCase):
    # The default 30 s idle timeout: what closes these connections is the parse error itself.
    extra_args = ("--sip-tcp-max-per-source", "1000")

    def test_a_connection_that_sent_garbage_is_closed_at_once(self):
        target = (self.server.sip_host, self.server.sip_port)
        baseline = len(os.listdir(f"/proc/{self.server.proc.pid}/fd"))
        conns = []
        for _ in range(30):
            s = socket.create_connection(target, timeout=5)
            s.sendall(b"INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKq\r\n"
                      b"CSeq: banana\r\nContent-Length: 0\r\n\r\n")
            conns.append(s)
        started = time.monotonic()
        for s in conns:
            s.settimeout(max(0.1, 2 - (time.monotonic() - started)))
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionResetError:
                pass
            except socket.timeout:
                self.fail("a connection with a parse error is still open after 2 s")
            self.assertTrue(data == b"" or data.startswith(b"SIP/2.0 400"), data[:80])
            s.close()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and \
                len(os.listdir(f"/proc/{self.server.proc.pid}/fd")) > baseline + 2:
            time.sleep(0.1)
        self.assertLessEqual(len(os.listdir(f"/proc/{self.server.proc.pid}/fd")), baseline + 2)
        # The port still serves.
        d = self.dialog("tcp")
        d.request("OPTIONS")
        self.assertEqual(status_line(d.response(timeout=2)), "SIP/2.0 200 OK")


class TestTcpCaps(EdgeTestCase):
    extra_args = ("--sip-tcp-max-per-source", "5")

    def test_a_source_over_its_cap_loses_its_newest_connections(self):
        self.assertEqual(self.metric("trunkline_sip_tcp_connections_per_source_max"), 5)
        self.assertGreater(self.metric("trunkline_sip_tcp_connections_max"), 0)
        self.assertGreaterEqual(self.metric("process_max_fds"), 1024)
        target = (self.server.sip_host, self.server.sip_port)
        conns = [socket.create_connection(target, timeout=5) for _ in range(20)]
        time.sleep(2.5)  # the watchdog looks once a second
        open_ = 0
        for s in conns:
            s.settimeout(0.3)
            try:
                if s.recv(1) == b"":
                    continue
            except ConnectionResetError:
                continue
            except socket.timeout:
                open_ += 1
            s.close()
        self.assertEqual(open_, 5)
        self.assertGreaterEqual(self.metric("trunkline_sip_tcp_connections_shut_total"), 15)


class TestJsonLogs(EdgeTestCase):
    extra_args = ("--log-format", "json", "--log-level", "debug")

    def test_every_line_is_json_whatever_the_network_sends(self):
        target = (self.server.sip_host, self.server.sip_port)
        with socket.create_connection(target, timeout=5) as s:
            s.sendall(b"\r\n\r\n")  # RFC 5626 keep-alive
            s.sendall(b"\x00\xff\xfe garbage\r\n\r\n")
        huge = "x" * 65000
        d = self.dialog()
        d.request("OPTIONS", call_id=huge)
        try:
            d.response(timeout=2)
        except AssertionError:
            pass
        d = self.dialog()
        cseq, final = d.invite(body=G729_ONLY)
        d.ack(cseq)
        d = self.dialog()
        cseq, final = d.invite()
        d.ack(cseq)
        d.request("BYE")
        d.response()
        time.sleep(0.5)
        text = self.server.log_text()
        lines = [l for l in text.splitlines() if l and not l.startswith("$ ")]
        self.assertTrue(lines)
        for line in lines:
            self.assertLessEqual(len(line.encode()), 8192, line[:200])
            obj = json.loads(line)
            self.assertIn(obj["level"], ("trace", "debug", "info", "warn", "error", "critical"))
        self.assertNotIn(huge, text)


if __name__ == "__main__":
    unittest.main()
