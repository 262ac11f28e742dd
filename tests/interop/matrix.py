"""The interoperability matrix: one test method per feature, run by each real softphone (baresip,
linphone) over each transport (UDP, TCP) against a fresh `trunkline serve`. The concrete classes in
test_baresip.py and test_linphone.py pick the peer and the transport."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip"))
from sip_harness import DID, GREETING, SipServerTestCase, transcribe  # noqa: E402

import peers  # noqa: E402

CALLER_TONE_HZ = 1000  # what the caller plays when the test listens for it at the far end
AGENT_TONE_HZ = 440    # what the transfer destination plays back


class InteropTestCase(SipServerTestCase):
    """A server (the sip_harness one: IP trunk for 127.0.0.1, a greeting assistant on DID) and the
    peers a test starts, all stopped and their call ended however the test went."""

    peer_class = None   # peers.Baresip or peers.Linphone
    transport = "udp"

    def tearDown(self):
        for p in self.peers:
            p.stop()
        # A call a failed test left up would leak into the next test's gauges.
        for c in self.calls():
            if c["status"] in ("ringing", "in-progress", "queued"):
                self.server.api("POST", f"/calls/{c['id']}/control", {"type": "end-call"})
        super().tearDown()

    def run(self, result=None):
        # The peers' SIP flow and log tails go with the server's log when a test fails; their
        # directories are removed only after that.
        before = len(result.failures) + len(result.errors) if result is not None else None
        self.peers = []
        try:
            return super().run(result)
        finally:
            if result is not None and before is not None and \
                    len(result.failures) + len(result.errors) > before:
                for p in self.peers:
                    sys.stderr.write("\n" + p.log_tail() + "\n")
            for p in self.peers:
                p.cleanup()

    # ------------------------------------------------------------------ peers and calls
    def start_peer(self, peer_class=None, **kwargs):
        kwargs.setdefault("transport", self.transport)
        peer = (peer_class or self.peer_class)(**kwargs)
        self.peers.append(peer)
        return peer.start()

    def did_uri(self):
        return f"sip:{DID}@{self.server.sip_host}:{self.server.sip_port}"

    def place_call(self, **peer_kwargs):
        """Starts the caller, dials DID and waits for the answer and the server's in-progress
        call; returns (peer, call)."""
        known = {c["id"] for c in self.calls()}
        caller = self.start_peer(**peer_kwargs)
        caller.dial(self.did_uri())
        self.assertTrue(caller.wait_established(), f"{caller.name} was not answered")
        call = self.wait_for(
            lambda: next((c for c in self.calls()
                          if c["id"] not in known and c["status"] == "in-progress"), None),
            what="the in-progress call")
        return caller, call

    def call_record(self, call_id):
        r = self.server.api("GET", f"/calls/{call_id}")
        self.assertEqual(r.status, 200, r)
        return r.body

    def wait_ended(self, call_id, timeout=10):
        return self.wait_for(
            lambda: (lambda c: c if c["status"] == "ended" else None)(self.call_record(call_id)),
            timeout=timeout, what="the call to end")

    def events(self, call_id, kind):
        return [e["data"] for e in self.call_record(call_id)["events"] if e["type"] == kind]

    def assertInvitedOver(self, call):
        invite = self.events(call["id"], "sip.invite")
        self.assertTrue(invite, "no sip.invite event")
        self.assertEqual(invite[0]["transport"], self.transport)

    def assertRequestsStayOnTransport(self, *peers_to_check):
        """Every SIP request each peer sent or received (INVITE, ACK, re-INVITE, INFO, BYE) went
        over this class's transport: in-dialog requests follow the Contact, so a Contact without
        ;transport=tcp sends them over UDP (RFC 3261 §8.1.1.8, §12.1.1)."""
        want = self.transport.upper()
        problems = []
        for p in peers_to_check:
            seen = p.requests()
            stray = [r for r in seen if r[1] != want]
            if not seen:
                problems.append(f"{p.name}: no SIP request in its trace")
            elif stray:
                problems.append(f"{p.name}: requests not over {want}: {stray} (all: {seen})")
        self.assertFalse(problems, "\n".join(problems))

    def digit_events(self, call_id):
        return self.events(call_id, "dtmf")

    def assertDigits(self, call_id, digits, method):
        # linphone sends one INFO at a time in a dialog (the next waits for the previous one's
        # answer), so the digits arrive as fast as the server answers.
        deadline = time.monotonic() + 8
        got = self.digit_events(call_id)
        while len(got) < len(digits) and time.monotonic() < deadline:
            time.sleep(0.1)
            got = self.digit_events(call_id)
        print(f"dtmf events: {got}", flush=True)
        self.assertEqual([d["digit"] for d in got], list(digits),
                         f"dtmf events by {method}: {got}")
        for d in got:
            if "method" in d:  # the event names how the digit arrived: rfc4733, info, inband
                self.assertEqual(d["method"], method, d)

    def dtmf_roundtrip(self, method):
        caller, call = self.place_call(dtmf=method)
        time.sleep(0.5)
        for digit in "15#":
            caller.send_dtmf(digit)
            time.sleep(0.4)
        self.assertDigits(call["id"], "15#", method)
        caller.hang_up()
        self.assertTrue(caller.wait_closed(), f"{caller.name} saw no end of the call")
        self.wait_ended(call["id"])
        caller.stop()
        self.assertRequestsStayOnTransport(caller)
        self.assertGaugesReturnToZero()


class MatrixTests:
    """The feature matrix; mixed into InteropTestCase subclasses."""

    def test_answered_and_greeting_heard(self):
        caller, call = self.place_call()
        self.assertInvitedOver(call)
        self.assertEqual(call["caller_phone"], peers.CALLER_ID)
        time.sleep(5)  # the greeting is under 3 s of speech
        caller.hang_up()
        self.assertTrue(caller.wait_closed(), f"{caller.name} saw no end of the call")
        ended = self.wait_ended(call["id"])
        self.assertEqual(ended["end_reason"], "user_hangup")
        caller.stop()  # closes the recording
        pcm = peers.to_8k(*caller.recording())
        self.assertGreater(len(pcm), 3 * 16000, f"{caller.name} recorded under 3 s")
        speech = peers.speech_seconds(pcm)
        heard = transcribe(pcm, GREETING.lower().replace(",", "").replace("?", "").split()
                           + ["sales", "billing", "goodbye", "transfer", "thanks"])
        print(f"{caller.name} heard {speech:.1f} s of speech: {heard!r}", flush=True)
        self.assertGreater(speech, 1.0, f"{caller.name} heard no speech (> 1 s of voiced frames)")
        distinctive = {"welcome", "support", "help", "acme"}
        self.assertTrue(distinctive & set(heard.split()),
                        f"transcript {heard!r} has none of {sorted(distinctive)}")
        self.assertRequestsStayOnTransport(caller)
        self.assertGaugesReturnToZero()

    def test_dtmf_rfc4733(self):
        self.dtmf_roundtrip("rfc4733")

    def test_hold_and_resume(self):
        caller, call = self.place_call()
        time.sleep(0.5)
        caller.hold()
        holds = self.wait_for(lambda: self.events(call["id"], "sip.reinvite"), timeout=5,
                              what="the hold re-INVITE (sip.reinvite event)")
        # The peer offered sendonly (or inactive): our answer is recvonly (or inactive).
        self.assertIn(holds[0]["direction"], ("recvonly", "inactive"), holds)
        time.sleep(1)
        self.assertEqual(self.call_record(call["id"])["status"], "in-progress")
        caller.resume()
        both = self.wait_for(
            lambda: (lambda e: e if len(e) >= 2 else None)(self.events(call["id"], "sip.reinvite")),
            timeout=5, what="the resume re-INVITE")
        self.assertEqual(both[-1]["direction"], "sendrecv", both)
        time.sleep(1)
        self.assertEqual(self.call_record(call["id"])["status"], "in-progress")
        caller.hang_up()
        self.assertTrue(caller.wait_closed(), f"{caller.name} saw no end of the call")
        self.assertEqual(self.wait_ended(call["id"])["end_reason"], "user_hangup")
        caller.stop()
        self.assertRequestsStayOnTransport(caller)
        self.assertGaugesReturnToZero()

    def test_bye_from_the_peer(self):
        caller, call = self.place_call()
        time.sleep(1)
        caller.hang_up()
        self.assertTrue(caller.wait_closed(), f"{caller.name} saw no end of the call")
        ended = self.wait_ended(call["id"])
        self.assertEqual(ended["end_reason"], "user_hangup")
        self.assertIn({"from": "caller"}, self.events(call["id"], "sip.bye"))
        caller.stop()
        self.assertIn(("BYE", self.transport.upper()), caller.requests())
        self.assertRequestsStayOnTransport(caller)
        self.assertGaugesReturnToZero()

    def test_bye_from_trunkline(self):
        caller, call = self.place_call()
        time.sleep(1)
        r = self.server.api("POST", f"/calls/{call['id']}/control", {"type": "end-call"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(caller.wait_closed(), f"{caller.name} did not see Trunkline's BYE")
        ended = self.wait_ended(call["id"])
        self.assertEqual(ended["end_reason"], "assistant_ended")
        self.assertIn({"from": "trunkline"}, self.events(call["id"], "sip.bye"))
        caller.stop()
        self.assertIn(("BYE", self.transport.upper()), caller.requests())
        self.assertRequestsStayOnTransport(caller)
        self.assertGaugesReturnToZero()

    def test_bridge_transfer_to_a_second_softphone(self):
        # The destination: a second baresip, registered nowhere, auto-answering on its own port,
        # playing a 440 Hz tone and recording what reaches it.
        agent = self.start_peer(peers.Baresip, user="agent", auto_answer=True,
                                source=f"tone{AGENT_TONE_HZ}")
        caller, call = self.place_call(source=f"tone{CALLER_TONE_HZ}")
        time.sleep(1)
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": agent.uri()})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(agent.wait_established(), "the destination was not reached")
        self.wait_for(lambda: (self.call_record(call["id"]).get("transfer") or {})
                      .get("status") == "connected", timeout=10, what="the transfer to connect")
        time.sleep(4)  # both tones cross the bridge
        caller.hang_up()
        self.assertTrue(caller.wait_closed(), f"{caller.name} saw no end of the call")
        self.assertTrue(agent.wait_closed(), "the destination's leg did not end with the call")
        ended = self.wait_ended(call["id"])
        self.assertEqual(ended["end_reason"], "transferred")
        self.assertEqual(ended["transfer"]["method"], "bridge")
        agent.stop()
        caller.stop()
        agent_heard = peers.tone_seconds(peers.to_8k(*agent.recording()), CALLER_TONE_HZ)
        caller_heard = peers.tone_seconds(peers.to_8k(*caller.recording()), AGENT_TONE_HZ)
        print(f"destination heard {agent_heard} s of {CALLER_TONE_HZ} Hz, "
              f"caller heard {caller_heard} s of {AGENT_TONE_HZ} Hz", flush=True)
        self.assertGreater(agent_heard, 2.0, "the caller's tone did not reach the destination")
        self.assertGreater(caller_heard, 2.0, "the destination's tone did not reach the caller")
        self.assertRequestsStayOnTransport(caller, agent)
        self.assertGaugesReturnToZero()


class DtmfInfoTests:
    """SIP INFO DTMF (application/dtmf-relay): only peers that can send it (not baresip 1.0)."""

    def test_dtmf_sip_info(self):
        self.dtmf_roundtrip("info")
