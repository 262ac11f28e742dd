"""Inbound calls against real SIP peers (sipp): routing outcomes, the call record, control
commands, hold/resume, CANCEL, RTP timeout, overload, and leak-free gauges."""

import socket
import time
import unittest
import uuid

from sip_harness import DID, DID_UNASSIGNED, DigestTrunkTestCase, SipServerTestCase, Uac


class TestInboundRouting(SipServerTestCase):

    def test_call_is_answered_recorded_and_hung_up_by_the_caller(self):
        self.sipp("call_hangup.xml")
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"), None),
                             what="an ended call")
        self.assertEqual(call["direction"], "inbound")
        self.assertEqual(call["end_reason"], "user_hangup")
        self.assertEqual(call["caller_phone"], "+31612345678")
        self.assertEqual(call["assistant_phone"], DID)
        self.assertEqual(call["assistant_id"], self.assistant_id)
        self.assertIsNotNone(call["started_at"])
        self.assertIsNotNone(call["ended_at"])
        self.assertGreaterEqual(call["duration_seconds"], 1)
        one = self.server.api("GET", f"/calls/{call['id']}")
        self.assertEqual(one.status, 200)
        self.assertEqual(one.body["status"], "ended")
        types = [e["type"] for e in one.body["events"]]
        for expected in ("sip.invite", "sip.response", "sip.ack", "assistant.say", "sip.bye"):
            self.assertIn(expected, types)
        self.assertEqual(types[0], "sip.invite")
        invite = one.body["events"][0]["data"]
        self.assertEqual(invite["source"], "127.0.0.1")
        self.assertEqual(invite["transport"], "udp")
        self.assertGaugesReturnToZero()

    def test_unknown_number_is_404(self):
        self.sipp("expect_404.xml", service="+31999999999")
        self.assertGaugesReturnToZero()

    def test_number_without_assistant_is_480(self):
        self.sipp("expect_480.xml", service=DID_UNASSIGNED)
        self.assertGaugesReturnToZero()

    def test_x_assistant_id_routes_the_call(self):
        self.sipp("call_with_assistant_header.xml", service="anything",
                  args=("-key", "assistant_id", self.assistant_id))
        self.assertGaugesReturnToZero()

    def test_request_user_that_is_not_a_number_is_404(self):
        self.sipp("expect_404.xml", service="sales")

    def test_hold_and_resume(self):
        self.sipp("hold_resume.xml")
        self.assertGaugesReturnToZero()

    def test_end_call_command_sends_bye(self):
        proc = self.sipp("wait_for_bye.xml", wait=False)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="an in-progress call")
        r = self.server.api("POST", f"/calls/{call['id']}/control", {"type": "end-call"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"success": True, "message": "Command sent successfully"})
        self.finish_sipp(proc)
        ended = self.wait_for(lambda: self.server.api("GET", f"/calls/{call['id']}").body
                              if self.server.api("GET", f"/calls/{call['id']}").body["status"] == "ended"
                              else None, what="the call to end")
        self.assertEqual(ended["end_reason"], "assistant_ended")
        again = self.server.api("POST", f"/calls/{call['id']}/control", {"type": "end-call"})
        self.assertEqual(again.status, 400)
        self.assertEqual(again.body["code"], "call_not_active")
        self.assertGaugesReturnToZero()

    def test_say_with_end_after_hangs_up_after_speaking(self):
        proc = self.sipp("wait_for_bye.xml", wait=False)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="an in-progress call")
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "say", "content": "Goodbye.", "end_after": True})
        self.assertEqual(r.status, 200, r)
        self.finish_sipp(proc)
        self.assertGaugesReturnToZero()

    def test_options_is_answered_200(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(5)
            port = s.getsockname()[1]
            msg = (f"OPTIONS sip:{self.server.sip_host}:{self.server.sip_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
                   f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:{self.server.sip_host}>\r\n"
                   f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                   "Content-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), (self.server.sip_host, self.server.sip_port))
            data, _ = s.recvfrom(65535)
        text = data.decode(errors="replace")
        self.assertTrue(text.startswith("SIP/2.0 200"), text)
        allow = next(l for l in text.split("\r\n") if l.lower().startswith("allow:"))
        for method in ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"):
            self.assertIn(method, allow)
        for method in ("SUBSCRIBE", "MESSAGE", "REFER", "REGISTER"):
            self.assertNotIn(method, allow)

    def test_methods_we_do_not_handle_are_refused(self):
        # INFO is handled (DTMF) but only inside a dialog: outside one it is 481 (RFC 6086 §4.2).
        for method, expected in (("MESSAGE", (405, 501)), ("SUBSCRIBE", (405, 501)),
                                 ("REGISTER", (405, 501)), ("PUBLISH", (405, 501)),
                                 ("INFO", (481,))):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", 0))
                s.settimeout(5)
                port = s.getsockname()[1]
                msg = (f"{method} sip:{self.server.sip_host}:{self.server.sip_port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
                       f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:{self.server.sip_host}>\r\n"
                       f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n"
                       "Event: presence\r\nContent-Length: 0\r\n\r\n")
                s.sendto(msg.encode(), (self.server.sip_host, self.server.sip_port))
                data, _ = s.recvfrom(65535)
            status = int(data.decode(errors="replace").split(" ", 2)[1])
            self.assertIn(status, expected, f"{method} answered {status}")


class TestPublicAddress(SipServerTestCase):
    # 192.0.2.0/24 is TEST-NET-1: announced only, never sent to (the UAC sends to the real port).
    extra_args = ("--public-ip", "192.0.2.10")

    def test_contact_and_sdp_announce_the_public_ip(self):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        try:
            ok = uac.answer_only()
            self.assertTrue(ok.startswith("SIP/2.0 200"), ok)
            contact = next(l for l in ok.split("\r\n") if l.lower().startswith("contact:"))
            self.assertIn("192.0.2.10", contact)
            self.assertIn("c=IN IP4 192.0.2.10", ok)
            self.assertTrue(uac.hang_up().startswith("SIP/2.0 200"))
        finally:
            uac.close()
        self.assertGaugesReturnToZero()


class TestNationalNumbers(SipServerTestCase):
    ip_trunk = False

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("POST", "/sip-trunks", {
            "name": "NL carrier", "direction": "inbound", "auth_type": "ip",
            "allowed_addresses": ["127.0.0.1"], "country_code": "31"})
        assert r.status == 201, r

    def test_national_number_reaches_the_e164_number(self):
        self.sipp("call_hangup.xml", service="0" + DID[3:])  # 0850835037 -> +31850835037
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"), None),
                             what="an ended call")
        self.assertEqual(call["assistant_phone"], DID)


class TestTcp(SipServerTestCase):

    def test_call_over_tcp(self):
        self.sipp("call_hangup.xml", args=("-t", "t1"))
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"), None),
                             what="an ended call")
        events = self.server.api("GET", f"/calls/{call['id']}").body["events"]
        self.assertEqual(events[0]["data"]["transport"], "tcp")
        self.assertGaugesReturnToZero()


class TestDtmf(SipServerTestCase):

    def test_rfc4733_digits_are_logged_on_the_call(self):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        try:
            self.assertEqual(uac.call(seconds=3, dtmf="5#"), 200)
        finally:
            uac.close()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"), None),
                             what="the call to end")
        events = self.server.api("GET", f"/calls/{call['id']}").body["events"]
        digits = [e["data"]["digit"] for e in events if e["type"] == "dtmf"]
        self.assertEqual(digits, ["5", "#"])
        self.assertGaugesReturnToZero()


class TestRingingAndCancel(SipServerTestCase):
    extra_args = ("--answer-delay", "3000")

    def test_cancel_while_ringing(self):
        self.sipp("cancel_before_answer.xml")
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"), None),
                             what="the cancelled call to be recorded")
        self.assertIsNone(call["duration_seconds"])
        self.assertGaugesReturnToZero()


class TestRtpTimeout(SipServerTestCase):
    extra_args = ("--rtp-timeout", "2")

    def test_silent_far_end_gets_bye(self):
        started = time.monotonic()
        self.sipp("wait_for_bye.xml")  # sipp sends no RTP
        self.assertLess(time.monotonic() - started, 15)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "ended"), None),
                             what="the call to end")
        self.assertEqual(call["end_reason"], "rtp_timeout")
        self.assertGaugesReturnToZero()


class TestOverload(SipServerTestCase):
    extra_args = ("--max-calls", "1")

    def test_calls_beyond_the_limit_get_503(self):
        holder = self.sipp("wait_for_bye.xml", wait=False)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the first call")
        self.sipp("expect_503.xml")
        self.server.api("POST", f"/calls/{call['id']}/control", {"type": "end-call"})
        self.finish_sipp(holder)
        self.assertGaugesReturnToZero()
        self.assertGreaterEqual(self.metric("trunkline_calls_rejected_overload_total"), 1)


class TestDigestTrunk(DigestTrunkTestCase):

    def test_unknown_source_without_credentials_is_challenged_even_for_unknown_numbers(self):
        self.sipp("expect_401.xml")
        self.sipp("expect_401.xml", service="+31999999999")

    def test_right_password_reaches_the_assistant(self):
        self.sipp("digest_call.xml", args=("-au", self.username, "-ap", self.password))
        self.assertGaugesReturnToZero()

    def test_wrong_password_is_403_and_counted(self):
        self.sipp("digest_wrong_password.xml", args=("-au", self.username, "-ap", "wrong"))
        self.assertGreaterEqual(self.metric("trunkline_sip_auth_failures_total"), 1)


if __name__ == "__main__":
    unittest.main()
