"""Outbound calls (issue 7) against sipp carriers: POST /calls/outbound places the INVITE through
the organization's outbound trunk; the carrier checks digest credentials (computed from the
stored password), From user, P-Asserted-Identity, caller ID and custom headers; busy, rejected,
not found and unanswered calls end with their own end_reason and SIP status; the trunk's
max_concurrent_calls and max_calls_per_second are kept under a burst; a voicemail greeting ends
the call with end_reason voicemail; a callee asking for sales is transferred like an inbound caller."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from sip_harness import (SCENARIOS, SIPP, PeerExited, SipServerTestCase, free_udp_port,
                         wait_until_bound)
from test_conversation import speech

CALLEE = "+31612345678"
CALLER_ID = "+31850835037"


def ulaw_file(directory, name, pcm):
    """8 kHz 16-bit PCM as a raw u-law file for sipp's rtp_stream."""
    import audioop
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(audioop.lin2ulaw(pcm, 2))
    return path


class OutboundTestCase(SipServerTestCase):
    extra_args = ("--transfer-timeout", "3")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tl-outbound-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def carrier(self, scenario, *args, calls=1, replace=None):
        """A sipp UAS on a free port running `scenario` for `calls` calls."""
        path = os.path.join(SCENARIOS, scenario)
        if replace:
            with open(path) as f:
                text = f.read()
            for old, new in replace.items():
                text = text.replace(old, new)
            path = os.path.join(self.tmp, scenario)
            with open(path, "w") as f:
                f.write(text)
        # Ports are picked free, then bound by sipp: with suites running in parallel another
        # process can take one in between, so a carrier that exits before binding is started
        # again on fresh ports.
        for attempt in range(3):
            port = free_udp_port()
            proc = subprocess.Popen(
                [SIPP, "-sf", path, "-i", "127.0.0.1", "-p", str(port), "-mp",
                 str(free_udp_port()), "-m", str(calls), "-timeout", "60s", "-trace_err",
                 "-error_file", os.path.join(self.tmp, f"{port}-errors.log"), *args],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                cwd=self.tmp)
            self.procs.append(proc)
            try:
                wait_until_bound(port, timeout=20, proc=proc)
                return port, proc
            except PeerExited:
                if attempt == 2:
                    raise

    def trunk(self, port, **fields):
        body = {"name": f"carrier {port}", "direction": "outbound", "host": "127.0.0.1",
                "port": port, "auth_type": "ip", "caller_id": CALLER_ID, **fields}
        r = self.server.api("POST", "/sip-trunks", body)
        self.assertEqual(r.status, 201, r)
        return r.body["trunk"]["id"]

    def dial(self, trunk_id, **extra):
        body = {"destination": CALLEE, "assistant_id": self.assistant_id, "trunk_id": trunk_id,
                **extra}
        return self.server.api("POST", "/calls/outbound", body)

    def ended(self, call_id, timeout=30):
        try:
            return self.wait_for(
                lambda: (lambda c: c if c["status"] in ("ended", "failed") else None)(
                    self.server.api("GET", f"/calls/{call_id}").body),
                timeout=timeout, what="the outbound call to end")
        except AssertionError:
            self.fail(f"the call did not end: {self.server.api('GET', f'/calls/{call_id}').body}")


class TestOutboundThroughADigestCarrier(OutboundTestCase):

    def test_carrier_checks_credentials_caller_id_and_headers(self):
        port, carrier = self.carrier("uas_carrier_digest.xml")
        trunk = self.trunk(port, auth_type="digest", username="trunkline-out",
                           password="Carrier-Secret-1", from_user="acme-sales", send_pai=True,
                           headers={"X-Campaign": "campaign-7"})
        r = self.dial(trunk, first_message="Hello, this is Acme calling about your order.")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "dialing")
        self.assertTrue(r.body["success"])
        call_id = r.body["call_id"]
        try:
            call = self.wait_for(lambda: (lambda c: c if c["status"] == "in-progress" else None)(
                self.server.api("GET", f"/calls/{call_id}").body), what="the callee to answer")
        except AssertionError:
            carrier.kill()
            _, err = carrier.communicate()
            self.fail(f"not answered: {self.server.api('GET', f'/calls/{call_id}').body['events']}"
                      f"\n{err.decode(errors='replace')[-2000:]}")
        self.assertEqual(call["direction"], "outbound")
        time.sleep(2)
        said = [e["data"]["text"] for e in self.server.api("GET", f"/calls/{call_id}").body["events"]
                if e["type"] == "assistant.say"]
        self.assertEqual(said, ["Hello, this is Acme calling about your order."])
        r = self.server.api("POST", f"/calls/{call_id}/control", {"type": "end-call"})
        self.assertEqual(r.status, 200, r)
        call = self.ended(call_id)
        _, err = carrier.communicate(timeout=20)
        self.assertEqual(carrier.returncode, 0, err)  # every check of the scenario passed
        types = [e["type"] for e in call["events"]]
        self.assertIn("sip.invite", types)
        codes = [e["data"]["status"] for e in call["events"] if e["type"] == "sip.response"]
        self.assertEqual(codes[:2], [180, 200], call["events"])
        self.assertGaugesReturnToZero()


class TestOutboundOverTcp(OutboundTestCase):

    def test_a_tcp_only_carrier_gets_the_whole_dialog_over_tcp(self):
        # sipp -t t1 has no UDP socket: an ACK or a 200 to its BYE sent over UDP never arrives
        # and its scenario times out; our INVITE's Contact must say ;transport=tcp.
        port, proc = self.carrier("uas_tcp_answer_then_bye.xml", "-t", "t1")
        r = self.dial(self.trunk(port, transport="tcp"))
        self.assertEqual(r.status, 200, r)
        call = self.ended(r.body["call_id"])
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
        self.assertEqual(call["status"], "ended", call)
        self.assertGaugesReturnToZero()


class TestOutboundOutcomes(OutboundTestCase):

    def outcome(self, reject):
        port, carrier = self.carrier("uas_reject.xml", replace={"REJECT_STATUS": reject})
        r = self.dial(self.trunk(port))
        self.assertEqual(r.status, 200, r)
        call = self.ended(r.body["call_id"])
        carrier.communicate(timeout=20)
        return call

    def test_busy_rejected_and_not_found_have_their_own_end_reason(self):
        for reject, status, reason in (("486 Busy Here", "ended", "busy"),
                                       ("603 Decline", "ended", "rejected"),
                                       ("404 Not Found", "failed", "not_found")):
            call = self.outcome(reject)
            self.assertEqual((call["status"], call["end_reason"]), (status, reason), call["events"])
            # The far end's own status, and a sentence for the operator.
            self.assertEqual(call["sip_code"], int(reject.split()[0]), call)
            self.assertIn(reject, call["hint"], call)
            # Only a failure is an error; a busy or declining callee is an outcome.
            self.assertEqual(call["error"], call["hint"] if status == "failed" else None, call)
            invites = [e for e in call["events"] if e["type"] == "sip.invite"]
            self.assertEqual(len(invites), 1, "a refused call is never retried another way")
        self.assertGaugesReturnToZero()

    def test_unanswered_call_is_cancelled_as_no_answer(self):
        port, carrier = self.carrier("uas_ring_forever.xml")
        r = self.dial(self.trunk(port))
        call = self.ended(r.body["call_id"])
        self.assertEqual(call["end_reason"], "no_answer", call["events"])
        self.assertGaugesReturnToZero()

    def test_end_call_cancels_a_ringing_call(self):
        port, carrier = self.carrier("uas_ring_forever.xml")
        r = self.dial(self.trunk(port))
        call_id = r.body["call_id"]
        self.wait_for(lambda: self.server.api("GET", f"/calls/{call_id}").body["status"] == "ringing",
                      what="ringing")
        r = self.server.api("POST", f"/calls/{call_id}/control", {"type": "end-call"})
        self.assertEqual(r.status, 200, r)
        call = self.ended(call_id)
        self.assertEqual(call["end_reason"], "cancelled", call["events"])
        self.assertGaugesReturnToZero()


class TestTrunkLimits(OutboundTestCase):

    def test_concurrency_cap_refuses_the_excess_of_a_burst(self):
        port, carrier = self.carrier("uas_ring_forever.xml", calls=50)
        trunk = self.trunk(port, max_concurrent_calls=5)
        statuses = [self.dial(trunk).status for _ in range(50)]
        self.assertEqual(statuses.count(200), 5, statuses)
        self.assertEqual(statuses.count(429), 45, statuses)
        time.sleep(5)  # the five ring out (--transfer-timeout 3): slots free again
        self.assertEqual(self.dial(trunk).status, 200)

    def test_calls_per_second_pacing_spaces_the_invites(self):
        port, carrier = self.carrier("uas_busy.xml", calls=50)
        trunk = self.trunk(port, max_calls_per_second=10)
        results = [self.dial(trunk) for _ in range(50)]
        accepted = [r.body["call_id"] for r in results if r.status == 200]
        # 10 per second, at most 5 s of queue: about 50 fit; none is lost silently.
        self.assertGreaterEqual(len(accepted), 45, [r.status for r in results])
        self.assertTrue(all(r.status in (200, 429) for r in results))
        calls = [self.ended(i, timeout=40) for i in accepted]
        sent = sorted(next(e["created_at"] for e in c["events"] if e["type"] == "sip.invite")
                      for c in calls)
        import datetime
        t = [datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() for s in sent]
        span = t[-1] - t[0]
        self.assertGreater(span, (len(t) - 1) / 10 * 0.9, "INVITEs were not paced")
        self.assertGaugesReturnToZero()


class TestVoicemail(OutboundTestCase):

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "voicemail_detection": True, "voicemail_message": "Please call Acme back.",
            "llm_config": {"provider": "scripted", "rules": [
                {"when": ["yes"], "reply": "Great."}]}})
        assert r.status == 200, r

    def test_voicemail_greeting_ends_the_call_with_voicemail(self):
        greeting = ulaw_file(self.tmp, "voicemail.ulaw", speech(
            "Hello, you have reached John. Please leave a message after the tone."))
        port, carrier = self.carrier("uas_answer_and_play.xml", replace={
            "AUDIO_FILE": greeting, "PLAY_AFTER_MS": "500"})
        r = self.dial(self.trunk(port))
        call = self.ended(r.body["call_id"], timeout=40)
        self.assertEqual(call["end_reason"], "voicemail", call["events"])
        said = [e["data"]["text"] for e in call["events"] if e["type"] == "assistant.say"]
        self.assertIn("Please call Acme back.", said)
        self.assertGaugesReturnToZero()


class TestCalleeAskingForSalesIsTransferred(OutboundTestCase):

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        cls.pbx_port = free_udp_port()
        cls.pbx = subprocess.Popen(
            [SIPP, "-sf", os.path.join(SCENARIOS, "uas_answer_echo.xml"), "-i", "127.0.0.1",
             "-p", str(cls.pbx_port), "-m", "1", "-timeout", "90s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_until_bound(cls.pbx_port)
        sales = f"sip:sales@127.0.0.1:{cls.pbx_port}"
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}", {
            "first_message_outbound": "Hi, this is Acme.",
            "llm_config": {"provider": "scripted", "tools": [
                {"type": "transfer_call", "destinations": [
                    {"type": "sip", "sip_uri": sales, "description": "sales"}]}],
                "rules": [{"when": ["sales"], "reply": "Connecting you.",
                           "tool": {"name": "transfer_call", "destination": "sales"}}]}})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.pbx.kill()
        cls.pbx.wait()
        super().tearDownClass()

    def test_transfer_from_an_outbound_call(self):
        # The request, then "yes" to the assistant's "Sales, is that right?" (the embedded
        # recogniser's words are confirmed before a transfer).
        ask = ulaw_file(self.tmp, "ask.ulaw", speech("I want to talk to sales please") +
                        b"\0" * (3 * 8000 * 2) + speech("yes"))
        port, carrier = self.carrier("uas_answer_and_play.xml", replace={
            "AUDIO_FILE": ask, "PLAY_AFTER_MS": "3000"})
        r = self.dial(self.trunk(port))
        call_id = r.body["call_id"]
        call = self.wait_for(lambda: (lambda c: c if c["transfer"] and
                                      c["transfer"]["status"] == "connected" else None)(
            self.server.api("GET", f"/calls/{call_id}").body), timeout=30,
            what="the transfer to connect")
        said = [e["data"]["text"] for e in call["events"] if e["type"] == "assistant.say"]
        self.assertEqual(said[0], "Hi, this is Acme.")
        self.server.api("POST", f"/calls/{call_id}/control", {"type": "end-call"})
        self.ended(call_id)
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
