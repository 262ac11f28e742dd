"""Bridge transfers by API: the caller reaches a person on another system through the number's
transfer trunk (digest auth), hears them through the bridge, and a refused transfer returns the
caller to the assistant with the reason recorded."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from sip_harness import (DID, GREETING, SCENARIOS, SIPP, SipServerTestCase, Uac, free_udp_port,
                         harness, rtp_range, tone_ratio, transcribe)

DESK = "+31201234567"
DESK_GREETING = "This is the billing department, how can I help?"


class TransferTestCase(SipServerTestCase):
    destination_port = None  # set by subclasses: where the transfer trunk points

    def place_call_and_transfer(self, destination, seconds, transfer_after=2.0, dtmf="",
                                dtmf_delay=1.0, then=None):
        """Calls DID, asks for a transfer after `transfer_after` s, records `seconds` in all
        (pressing `dtmf` `dtmf_delay` s after the answer); `then(call_id)` runs after the
        transfer was asked for."""
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}
        caller = threading.Thread(target=lambda: result.setdefault(
            "status", uac.call(seconds, dtmf=dtmf, dtmf_delay=dtmf_delay)))
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        time.sleep(transfer_after)
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": destination,
                             "message": "One moment please."})
        self.assertEqual(r.status, 200, r)
        if then:
            then(call["id"])
        caller.join(timeout=seconds + 30)
        uac.close()
        self.assertEqual(result.get("status"), 200)
        ended = self.wait_for(
            lambda: (lambda c: c if c["status"] == "ended" else None)(
                self.server.api("GET", f"/calls/{call['id']}").body),
            what="the call to end")
        return uac, ended


def assert_times_never_go_back(test, messages):
    """Each message has an ISO-8601 `time` and `seconds_from_start`, neither decreasing."""
    seconds = [m["seconds_from_start"] for m in messages]
    times = [m["time"] for m in messages]
    test.assertEqual(seconds, sorted(seconds), messages)
    test.assertEqual(times, sorted(times), messages)
    test.assertTrue(all(t.endswith("Z") and "T" in t for t in times), times)


def use_transfer_trunk(srv, trunk_body):
    trunk = srv.api("POST", "/sip-trunks", trunk_body)
    assert trunk.status == 201, trunk
    numbers = srv.api("GET", "/numbers").body["numbers"]
    number = next(n for n in numbers if n["phone_number"] == DID)
    r = srv.api("PATCH", f"/numbers/{number['id']}", {"transfer_trunk_id": trunk.body["trunk"]["id"]})
    assert r.status == 200, r


class DeskTestCase(TransferTestCase):
    """The "PBX" is a second Trunkline whose inbound trunk demands digest credentials and whose
    assistant greets as the billing desk: what the caller hears after the transfer is the desk."""
    transfer_method = "bridge"

    @classmethod
    def setUpClass(cls):
        desk = harness.Server()
        desk.extra_args += ["--rtp-ports", rtp_range()]
        desk.start()
        cls.desk = desk
        r = desk.api("POST", "/sip-trunks", {"name": "from trunkline", "direction": "inbound"})
        assert r.status == 201, r
        cls.desk_user = r.body["trunk"]["inbound_username"]
        cls.desk_password = r.body["trunk"]["inbound_password"]
        a = desk.api("POST", "/assistants", {"name": "Desk", "first_message": DESK_GREETING})
        desk.api("POST", "/numbers", {"phone_number": DESK,
                                      "assistant_id": a.body["assistant"]["id"]})
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.desk.stop()
        cls.desk.cleanup()

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        use_transfer_trunk(cls.server, {
            "name": "Billing PBX", "host": "127.0.0.1", "port": cls.desk.sip_port,
            "username": cls.desk_user, "password": cls.desk_password,
            "caller_id": "+31850835037", "transfer_method": cls.transfer_method})


class TestTransferToAnotherSystem(DeskTestCase):

    def test_caller_is_bridged_to_the_destination_and_hears_it(self):
        # The caller presses 7 once bridged (an IVR menu at the desk, say): the digit must reach
        # the desk, which records it on its own call.
        # 15 s: the desk synthesises its greeting when it answers; on a loaded machine (ctest -j2)
        # that took long enough once for its words to miss a 12 s recording.
        uac, call = self.place_call_and_transfer(DESK, seconds=15, dtmf="7", dtmf_delay=9.0)
        transfer = call["transfer"]
        self.assertEqual(transfer["status"], "connected", call["events"])
        self.assertEqual(transfer["method"], "bridge")
        self.assertEqual(transfer["sip_code"], 200)
        self.assertEqual(transfer["destination"], DESK)
        self.assertIsNotNone(transfer["connected_at"])
        # The leg's own Call-ID, as its messages in the call's SIP capture carry it.
        capture = self.server.api("GET", f"/calls/{call['id']}/sip").body
        leg = [m for m in capture["messages"]
               if f"Call-ID: {transfer['sip_call_id']}" in m["raw"]]
        self.assertTrue(leg and leg[0]["raw"].startswith("INVITE ") and
                        leg[0]["direction"] == "out", capture)
        types = [e["type"] for e in call["events"]]
        for expected in ("transfer.requested", "transfer.message_played", "transfer.invite",
                         "transfer.challenge", "transfer.bridged"):
            self.assertIn(expected, types)
        challenge = next(e["data"] for e in call["events"] if e["type"] == "transfer.challenge")
        self.assertEqual(challenge["status"], 401)
        self.assertTrue(challenge["answered"])
        self.assertTrue(challenge["realm"])
        relayed = [e["data"] for e in call["events"] if e["type"] == "dtmf"]
        self.assertEqual(relayed, [{"digit": "7", "method": "rfc4733", "duration_ms": 100,
                                    "relayed": True}])
        self.assertEqual(call["status"], "ended")
        self.assertEqual(call["end_reason"], "transferred")
        # The desk greets as soon as it answers: its words, through the bridge, are in what the
        # caller recorded after our own greeting and "One moment please".
        heard = transcribe(uac.pcm(), DESK_GREETING.lower().replace(",", "").replace("?", "").split()
                           + ["welcome", "acme", "support", "one", "moment", "please", "sales"])
        self.assertTrue({"billing", "department"} & set(heard.split()), heard)
        # The desk saw the call arrive from the caller ID of the trunk.
        desk_calls = self.desk.api("GET", "/calls").body["calls"]
        self.assertEqual(desk_calls[0]["caller_phone"], "+31850835037")
        desk_call = self.desk.api("GET", f"/calls/{desk_calls[0]['id']}").body
        desk_digits = [e["data"]["digit"] for e in desk_call["events"] if e["type"] == "dtmf"]
        self.assertEqual(desk_digits, ["7"], "the digit did not cross the bridge")
        self.assertGaugesReturnToZero()


class SippPbxTestCase(TransferTestCase):
    """A sipp agent (`pbx_scenario`) listening on `pbx_port` for one call; with `pbx_echo` it sends
    every RTP packet it receives back to its sender."""
    pbx_scenario = ""
    pbx_echo = False

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        cls.pbx_port = free_udp_port()
        echo = ("-mp", str(free_udp_port()), "-rtp_echo") if cls.pbx_echo else ()
        cls.pbx = subprocess.Popen(
            [SIPP, "-sf", os.path.join(SCENARIOS, cls.pbx_scenario), "-i", "127.0.0.1",
             "-p", str(cls.pbx_port), *echo, "-m", "1", "-timeout", "60s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        cls.pbx.kill()
        cls.pbx.wait()
        super().tearDownClass()


class TestTransferRefused(SippPbxTestCase):

    pbx_scenario = "uas_busy.xml"

    def test_busy_destination_returns_the_caller_to_the_assistant(self):
        def say_after_the_failure(call_id):
            self.wait_for(lambda: any(e["type"] == "transfer.failed" for e in self.server.api(
                "GET", f"/calls/{call_id}").body["events"]), what="the transfer to fail")
            r = self.server.api("POST", f"/calls/{call_id}/control",
                                {"type": "say", "content": "Anything else for billing?",
                                 "end_after": False})
            self.assertEqual(r.status, 200, r)

        uac, call = self.place_call_and_transfer(f"sip:agent@127.0.0.1:{self.pbx_port}",
                                                 seconds=14, then=say_after_the_failure)
        transfer = call["transfer"]
        self.assertEqual(transfer["status"], "failed", call["events"])
        self.assertEqual(transfer["sip_code"], 486)
        self.assertEqual(transfer["reason"], "busy")
        # The call went on with the assistant (the caller hung up, not the transfer).
        self.assertEqual(call["end_reason"], "user_hangup")
        self.assertIn("transfer.failed", [e["type"] for e in call["events"]])
        heard = transcribe(uac.pcm(), ["sorry", "the", "transfer", "did", "not", "go", "through",
                                       "still", "here", "help", "billing", "anything", "else",
                                       "for", "welcome", "acme", "support", "one", "moment",
                                       "please"])
        self.assertTrue({"sorry", "transfer", "through", "did", "not", "still"} & set(heard.split()),
                        heard)
        # Everything the caller heard, in order, each with a time that never goes back.
        messages = call["messages"]
        self.assertEqual([(m["role"], m["content"]) for m in messages], [
            ("assistant", GREETING),
            ("assistant", "One moment please."),
            ("assistant", "I'm sorry, the transfer did not go through. I am still here to help you."),
            ("assistant", "Anything else for billing?")], messages)
        assert_times_never_go_back(self, messages)
        self.assertGaugesReturnToZero()

    def test_e164_destination_without_a_transfer_trunk_fails_cleanly(self):
        uac, call = self.place_call_and_transfer("+31612345678", seconds=6)
        self.assertEqual(call["transfer"]["status"], "failed")
        self.assertEqual(call["transfer"]["reason"], "local_error")
        self.assertIsNone(call["transfer"]["sip_code"])
        self.assertIn("transfer_trunk_id", call["transfer"]["hint"])
        self.assertGaugesReturnToZero()


class TestTransferNoAnswer(SippPbxTestCase):
    extra_args = ("--transfer-timeout", "2")

    pbx_scenario = "uas_ring_forever.xml"

    def test_unanswered_transfer_is_cancelled_and_the_caller_stays(self):
        uac, call = self.place_call_and_transfer(f"sip:agent@127.0.0.1:{self.pbx_port}",
                                                 seconds=10)
        self.assertEqual(call["transfer"]["status"], "failed", call["events"])
        self.assertEqual(call["transfer"]["reason"], "no_answer")
        # We gave up at --transfer-timeout: the 487 to our CANCEL is not the outcome's status.
        self.assertIsNone(call["transfer"]["sip_code"])
        self.assertEqual(call["end_reason"], "user_hangup")
        # Ringback was heard while it rang: 425 Hz dominates part of the recording.
        pcm = uac.pcm()
        import audioop  # noqa: F401 (decoded PCM is 16-bit little endian)
        samples = [int.from_bytes(pcm[i:i + 2], "little", signed=True)
                   for i in range(0, len(pcm) - 1, 2)]
        self.assertTrue(any(tone_ratio(samples[s:s + 8000], 425) > 0.5
                            for s in range(0, len(samples) - 8000, 4000)),
                        "no 425 Hz ringback heard")
        self.assertGaugesReturnToZero()



class TestToolTransferWithOwnCredentials(DeskTestCase):
    """The assistant's transfer_call tool: a SIP destination with its own username and password
    (sealed in the assistant), reached through the entry point the conversation runtime will use."""
    extra_args = ("--enable-test-hooks",)

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        srv = cls.server
        r = srv.api("PATCH", f"/assistants/{cls.assistant_id}", {"llm_config": {"tools": [
            {"type": "transfer_call", "destinations": [
                {"type": "number", "number": "+31699999999", "description": "unused"},
                {"type": "sip", "sip_uri": f"sip:{DESK}@127.0.0.1:{cls.desk.sip_port}",
                 "username": cls.desk_user, "password": cls.desk_password,
                 "description": "Billing desk", "message": "Connecting you to billing."}]}]}})
        assert r.status == 200, r

    def test_tool_destination_is_dialled_with_its_credentials(self):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}
        # 18 s: the transfer message, the desk's answer and its greeting must all reach the
        # caller's recording, also on a loaded machine under the sanitizers (12 s was too short
        # there once: the greeting came after the caller had hung up).
        caller = threading.Thread(target=lambda: result.setdefault("status", uac.call(18)))
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        time.sleep(2)
        r = self.server.api("POST", f"/calls/{call['id']}/test-hooks/transfer-call-tool",
                            {"index": 1})
        self.assertEqual(r.status, 200, r)
        caller.join(timeout=40)
        uac.close()
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the call to end")
        self.assertEqual(ended["transfer"]["status"], "connected", ended["events"])
        self.assertTrue(ended["transfer"]["destination"].startswith("sip:"))
        heard = transcribe(uac.pcm(), DESK_GREETING.lower().replace(",", "").replace("?", "").split()
                           + ["welcome", "acme", "support", "connecting", "you", "to"])
        self.assertTrue({"billing", "department"} & set(heard.split()), heard)
        self.assertGaugesReturnToZero()


class TestBridgeCarriesAudioBothWays(SippPbxTestCase):
    """The destination (sipp, PCMA) echoes what it receives: a 1 kHz tone the caller sends (PCMU)
    crosses the bridge to it and comes back, so both directions and the PCMU/PCMA transcoding are
    checked by frequency."""

    pbx_scenario = "uas_answer_echo.xml"
    pbx_echo = True

    def test_tone_crosses_the_bridge_and_back(self):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}
        caller = threading.Thread(
            target=lambda: result.setdefault("status", uac.call(14, tone_hz=1000)))
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        time.sleep(2)
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": f"sip:agent@127.0.0.1:{self.pbx_port}"})
        self.assertEqual(r.status, 200, r)
        caller.join(timeout=40)
        uac.close()
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the call to end")
        self.assertEqual(ended["transfer"]["status"], "connected", ended["events"])
        pcm = uac.pcm()
        samples = [int.from_bytes(pcm[i:i + 2], "little", signed=True)
                   for i in range(0, len(pcm) - 1, 2)]
        # The last two seconds: only the echoed tone can be there (the greeting and "one moment"
        # came before the bridge, and the assistant is out of the media path now).
        tail = samples[-16000:]
        self.assertGreater(tone_ratio(tail[:8000], 1000), 0.5,
                           "the caller's 1 kHz tone did not come back through the bridge")
        self.assertGaugesReturnToZero()


class TestReferTransfer(TransferTestCase):

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        use_transfer_trunk(cls.server, {"name": "Carrier", "host": "127.0.0.1", "port": 5,
                                        "auth_type": "ip", "transfer_method": "refer"})

    def test_refer_accepted_and_notified_ends_our_leg(self):
        # The caller side (sipp) checks Refer-To is <tel:+31612345678> and Referred-By is set.
        proc = self.sipp("refer_accept.xml", wait=False)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": "tel:+31612345678"})
        self.assertEqual(r.status, 200, r)
        self.finish_sipp(proc)
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the call to end")
        self.assertEqual(ended["end_reason"], "transferred")
        self.assertEqual(ended["transfer"]["method"], "refer")
        self.assertEqual(ended["transfer"]["status"], "connected")
        types = [e["type"] for e in ended["events"]]
        for expected in ("transfer.refer_sent", "transfer.refer_response", "transfer.notify"):
            self.assertIn(expected, types)
        self.assertGaugesReturnToZero()


class TestReferNumberTargets(TransferTestCase):
    """A number destination is referred as sip:+E164@<trunk host>:<port> by default (linphone
    refuses tel: with 400, baresip fails its NOTIFY with 500), as tel:+E164 when the trunk says
    refer_uri "tel"."""

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        use_transfer_trunk(cls.server, {"name": "Carrier", "host": "127.0.0.1", "port": 5,
                                        "auth_type": "ip", "transfer_method": "refer"})
        cls.trunk_id = next(t["id"] for t in cls.server.api("GET", "/sip-trunks").body["trunks"]
                            if t["name"] == "Carrier")

    def refer_number(self, scenario):
        proc = self.sipp(scenario, wait=False)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": "+31612345678"})
        self.assertEqual(r.status, 200, r)
        self.finish_sipp(proc)  # the scenario checks the Refer-To
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the call to end")
        self.assertEqual(ended["transfer"]["status"], "connected", ended["events"])
        self.assertGaugesReturnToZero()
        return ended

    def test_number_is_referred_as_a_sip_uri_of_the_trunk(self):
        r = self.server.api("GET", f"/sip-trunks/{self.trunk_id}")
        self.assertEqual(r.body["trunk"]["refer_uri"], "sip")
        ended = self.refer_number("refer_accept_sip_number.xml")
        sent = [e["data"]["refer_to"] for e in ended["events"] if e["type"] == "transfer.refer_sent"]
        self.assertEqual(sent, ["sip:+31612345678@127.0.0.1:5"])

    def test_trunk_asking_for_tel_gets_tel(self):
        r = self.server.api("PATCH", f"/sip-trunks/{self.trunk_id}", {"refer_uri": "tel"})
        self.assertEqual(r.status, 200, r)
        try:
            self.refer_number("refer_accept.xml")
        finally:
            self.server.api("PATCH", f"/sip-trunks/{self.trunk_id}", {"refer_uri": "sip"})

    def test_refer_uri_is_validated(self):
        r = self.server.api("PATCH", f"/sip-trunks/{self.trunk_id}", {"refer_uri": "http"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.body["field"], "refer_uri")


class TestAutoFallsBackToBridge(DeskTestCase):
    transfer_method = "auto"

    def test_refused_refer_falls_back_to_the_bridge(self):
        proc = self.sipp("refer_reject.xml", wait=False)
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": DESK})
        self.assertEqual(r.status, 200, r)
        self.finish_sipp(proc)
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the call to end")
        self.assertEqual(ended["transfer"]["method"], "auto")
        self.assertEqual(ended["transfer"]["status"], "connected", ended["events"])
        self.assertEqual(ended["end_reason"], "transferred")
        types = [e["type"] for e in ended["events"]]
        self.assertIn("transfer.fallback", types)
        self.assertLess(types.index("transfer.fallback"), types.index("transfer.bridged"))
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()


class TestEarlyMediaReachesTheCaller(SippPbxTestCase):
    """The destination answers 183 with SDP and plays a 700 Hz announcement for 4 s before the
    person picks up: the caller hears that announcement instead of our 425 Hz ringback."""

    pbx_scenario = "uas_early_media.xml"

    @classmethod
    def setUpServer(cls):
        cls.tone_dir = tempfile.mkdtemp(prefix="tl-early-media-")
        tone = os.path.join(cls.tone_dir, "announcement.ulaw")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", tone,
                        "synth", "6", "sine", "700"], check=True)
        with open(os.path.join(SCENARIOS, cls.pbx_scenario)) as f:
            scenario = f.read().replace("TONE_FILE", tone)
        cls.pbx_scenario = os.path.join(cls.tone_dir, "uas_early_media.xml")
        with open(cls.pbx_scenario, "w") as f:
            f.write(scenario)
        super().setUpServer()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tone_dir, ignore_errors=True)

    def test_caller_hears_the_destinations_early_media_not_our_ringback(self):
        uac, call = self.place_call_and_transfer(f"sip:agent@127.0.0.1:{self.pbx_port}",
                                                 seconds=13)
        self.assertEqual(call["transfer"]["status"], "connected", call["events"])
        types = [e["type"] for e in call["events"]]
        self.assertIn("transfer.early_media", types)
        self.assertLess(types.index("transfer.early_media"), types.index("transfer.bridged"))
        pcm = uac.pcm()
        samples = [int.from_bytes(pcm[i:i + 2], "little", signed=True)
                   for i in range(0, len(pcm) - 1, 2)]
        windows = [samples[s:s + 4000] for s in range(0, len(samples) - 4000, 4000)]
        announcement = sum(1 for w in windows if tone_ratio(w, 700) > 0.5)
        ringback = sum(1 for w in windows if tone_ratio(w, 425) > 0.5)
        # About 4 s of announcement (8 half-second windows), at most a moment of our ringback
        # before the 183 arrived.
        self.assertGreaterEqual(announcement, 5, "the early media did not reach the caller")
        self.assertLessEqual(ringback, 1, "our ringback played over the destination's media")
        self.assertGaugesReturnToZero()


class TestEndCallTool(SipServerTestCase):
    """The assistant's end_call tool (reached through the hook the conversation runtime will
    use): the end_call_message is spoken, then the call ends with end_reason assistant_ended."""
    extra_args = ("--enable-test-hooks",)

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}",
                           {"end_call_message": "Thank you for calling, goodbye."})
        assert r.status == 200, r

    def test_end_call_message_is_spoken_then_the_call_ends(self):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}
        caller = threading.Thread(target=lambda: result.setdefault("status", uac.call(15)))
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        time.sleep(2)
        r = self.server.api("POST", f"/calls/{call['id']}/test-hooks/end-call-tool", {})
        self.assertEqual(r.status, 200, r)
        ended = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call['id']}").body), what="the call to end")
        self.assertEqual(ended["end_reason"], "assistant_ended")
        types = [e["type"] for e in ended["events"]]
        self.assertIn("tool.end_call", types)
        said = [e["data"]["text"] for e in ended["events"] if e["type"] == "assistant.say"]
        self.assertIn("Thank you for calling, goodbye.", said)
        caller.join(timeout=30)
        uac.close()
        heard = transcribe(uac.pcm()[-4 * 16000:], ["thank", "you", "for", "calling", "goodbye",
                                                    "welcome", "acme"])
        self.assertTrue({"goodbye", "calling", "thank"} & set(heard.split()), heard)
        r = self.server.api("POST", f"/calls/{call['id']}/test-hooks/end-call-tool", {})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([(m["role"], m["content"]) for m in ended["messages"]],
                         [("assistant", GREETING),
                          ("assistant", "Thank you for calling, goodbye.")], ended["messages"])
        self.assertGaugesReturnToZero()


class TestEndCallCommand(SipServerTestCase):
    """POST /calls/{id}/control end-call: with a message, the caller hears it and then the BYE;
    without one, the BYE comes at once."""

    def place_call(self, seconds):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}

        def run():
            result["status"] = uac.call(seconds)
            result["done"] = time.monotonic()

        caller = threading.Thread(target=run)
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        return uac, caller, result, call["id"]

    def ended(self, call_id):
        return self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call_id}").body), what="the call to end")

    def test_1_message_is_heard_then_the_call_ends(self):
        uac, caller, result, call_id = self.place_call(20)
        time.sleep(4)  # the greeting has played
        asked = time.monotonic()
        r = self.server.api("POST", f"/calls/{call_id}/control",
                            {"type": "end-call", "message": "Thank you for calling, goodbye."})
        self.assertEqual(r.status, 200, r)
        caller.join(timeout=30)
        uac.close()
        self.assertTrue(uac.hung_up_by_far_end, "the BYE never came")
        # The BYE waited for the words (about 2 s of speech), and did not wait for the 20 s.
        self.assertGreater(result["done"] - asked, 1.2)
        self.assertLess(result["done"] - asked, 12)
        ended = self.ended(call_id)
        self.assertEqual(ended["end_reason"], "assistant_ended")
        heard = transcribe(uac.pcm()[-4 * 16000:], ["thank", "you", "for", "calling", "goodbye",
                                                    "welcome", "acme", "support", "help"])
        self.assertTrue({"goodbye", "calling", "thank"} & set(heard.split()), heard)
        messages = ended["messages"]
        self.assertEqual([(m["role"], m["content"]) for m in messages],
                         [("assistant", GREETING),
                          ("assistant", "Thank you for calling, goodbye.")], messages)
        assert_times_never_go_back(self, messages)
        self.assertGreaterEqual(messages[1]["seconds_from_start"], 3.5, messages)
        self.assertGaugesReturnToZero()

    def test_2_without_a_message_the_call_ends_at_once(self):
        uac, caller, result, call_id = self.place_call(20)
        time.sleep(1)
        asked = time.monotonic()
        r = self.server.api("POST", f"/calls/{call_id}/control", {"type": "end-call"})
        self.assertEqual(r.status, 200, r)
        caller.join(timeout=30)
        uac.close()
        self.assertTrue(uac.hung_up_by_far_end)
        self.assertLess(result["done"] - asked, 1.5)
        self.assertEqual(self.ended(call_id)["end_reason"], "assistant_ended")
        self.assertGaugesReturnToZero()
