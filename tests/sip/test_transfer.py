"""Bridge transfers by API: the caller reaches a person on another system through the number's
transfer trunk (digest auth), hears them through the bridge, and a refused transfer returns the
caller to the assistant with the reason recorded."""

import os
import subprocess
import threading
import time
import unittest

from sip_harness import (DID, SCENARIOS, SIPP, SipServerTestCase, Uac, free_udp_port, harness,
                         rtp_range, transcribe)

DESK = "+31201234567"
DESK_GREETING = "This is the billing department, how can I help?"


class TransferTestCase(SipServerTestCase):
    destination_port = None  # set by subclasses: where the transfer trunk points

    def place_call_and_transfer(self, destination, seconds, transfer_after=2.0):
        """Calls DID, asks for a transfer after `transfer_after` s, records `seconds` in all."""
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}
        caller = threading.Thread(target=lambda: result.setdefault("status", uac.call(seconds)))
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        time.sleep(transfer_after)
        r = self.server.api("POST", f"/calls/{call['id']}/control",
                            {"type": "transfer", "destination": destination,
                             "message": "One moment please."})
        self.assertEqual(r.status, 200, r)
        caller.join(timeout=seconds + 30)
        uac.close()
        self.assertEqual(result.get("status"), 200)
        ended = self.wait_for(
            lambda: (lambda c: c if c["status"] == "ended" else None)(
                self.server.api("GET", f"/calls/{call['id']}").body),
            what="the call to end")
        return uac, ended


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
        uac, call = self.place_call_and_transfer(DESK, seconds=12)
        transfer = call["transfer"]
        self.assertEqual(transfer["status"], "connected", call["events"])
        self.assertEqual(transfer["method"], "bridge")
        self.assertEqual(transfer["sip_code"], 200)
        self.assertEqual(transfer["destination"], DESK)
        self.assertIsNotNone(transfer["connected_at"])
        types = [e["type"] for e in call["events"]]
        for expected in ("transfer.requested", "transfer.message_played", "transfer.invite",
                         "transfer.bridged"):
            self.assertIn(expected, types)
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
        uac, call = self.place_call_and_transfer(f"sip:agent@127.0.0.1:{self.pbx_port}",
                                                 seconds=9)
        transfer = call["transfer"]
        self.assertEqual(transfer["status"], "failed", call["events"])
        self.assertEqual(transfer["sip_code"], 486)
        self.assertEqual(transfer["reason"], "busy")
        # The call went on with the assistant (the caller hung up, not the transfer).
        self.assertEqual(call["end_reason"], "user_hangup")
        self.assertIn("transfer.failed", [e["type"] for e in call["events"]])
        heard = transcribe(uac.pcm()[-5 * 16000:], ["sorry", "the", "transfer", "did", "not", "go",
                                                    "through", "still", "here", "help", "billing"])
        self.assertTrue({"sorry", "transfer", "through", "did", "not", "still"} & set(heard.split()),
                        heard)
        self.assertGaugesReturnToZero()

    def test_e164_destination_without_a_transfer_trunk_fails_cleanly(self):
        uac, call = self.place_call_and_transfer("+31612345678", seconds=6)
        self.assertEqual(call["transfer"]["status"], "failed")
        self.assertEqual(call["transfer"]["reason"], "no_transfer_trunk")
        self.assertGaugesReturnToZero()


class TestTransferNoAnswer(SippPbxTestCase):
    extra_args = ("--transfer-timeout", "2")

    pbx_scenario = "uas_ring_forever.xml"

    def test_unanswered_transfer_is_cancelled_and_the_caller_stays(self):
        uac, call = self.place_call_and_transfer(f"sip:agent@127.0.0.1:{self.pbx_port}",
                                                 seconds=10)
        self.assertEqual(call["transfer"]["status"], "failed", call["events"])
        self.assertEqual(call["transfer"]["reason"], "no_answer")
        self.assertEqual(call["transfer"]["sip_code"], 487)
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


def tone_ratio(samples, freq, rate=8000):
    """Goertzel: the share of the block's energy at `freq`."""
    import math
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
        caller = threading.Thread(target=lambda: result.setdefault("status", uac.call(12)))
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
