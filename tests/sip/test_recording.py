"""Call recordings: a recorded call's audio comes back through the API only (GET
/calls/{id}/recording), decrypted from a file sealed at rest: the caller on the left channel, the
assistant (and, after a bridge transfer, the agent) on the right, as WAV or Opus in Ogg, whole or
by byte range; DELETE removes it; another organization never sees it; an outbound call's request
may turn recording on for that call (mono here)."""

import io
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import wave

from sip_harness import (DID, SCENARIOS, SIPP, SipServerTestCase, Uac, free_udp_port, harness,
                         tone_ratio, wait_until_bound)

CALLER_TONE = 700   # Hz, what the caller's phone sends all along
AGENT_TONE = 1500   # Hz, what the agent's side plays once the transfer is bridged


def channels_of(wav_bytes):
    """(channels, frame rate, [samples per channel]) of a 16-bit WAV."""
    with wave.open(io.BytesIO(wav_bytes)) as w:
        n, rate, width = w.getnchannels(), w.getframerate(), w.getsampwidth()
        assert width == 2, width
        raw = w.readframes(w.getnframes())
    samples = [int.from_bytes(raw[i:i + 2], "little", signed=True) for i in range(0, len(raw), 2)]
    return n, rate, [samples[c::n] for c in range(n)]


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def windows(samples, size=4000):
    """Half-second windows."""
    return [samples[s:s + size] for s in range(0, len(samples) - size + 1, size)]


class RecordingTestCase(SipServerTestCase):

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        r = cls.server.api("PATCH", f"/assistants/{cls.assistant_id}",
                           {"recording": {"enabled": True, "channels": "stereo"}})
        assert r.status == 200, r

    def recorded_call(self, call_id, timeout=15):
        """The call once its recording is complete (recording_url set)."""
        return self.wait_for(lambda: (lambda c: c if c["recording_url"] else None)(
            self.server.api("GET", f"/calls/{call_id}").body), timeout=timeout,
            what="the recording to be complete")

    def sealed_path(self, call_id, fmt="wav"):
        org = self.server.org_id()
        return os.path.join(self.server.data_dir, "recordings", org, f"{call_id}.{fmt}.sealed")

    def place_call(self, seconds, transfer_to=None, transfer_after=3.0):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        result = {}
        caller = threading.Thread(target=lambda: result.setdefault(
            "status", uac.call(seconds, tone_hz=CALLER_TONE)))
        caller.start()
        call = self.wait_for(lambda: next((c for c in self.calls() if c["status"] == "in-progress"),
                                          None), what="the call")
        if transfer_to:
            time.sleep(transfer_after)
            r = self.server.api("POST", f"/calls/{call['id']}/control",
                                {"type": "transfer", "destination": transfer_to})
            self.assertEqual(r.status, 200, r)
        caller.join(timeout=seconds + 30)
        uac.close()
        self.assertEqual(result.get("status"), 200)
        return call["id"]


class TestStereoRecording(RecordingTestCase):

    def test_recording_through_the_api(self):
        call_id = self.place_call(7)
        call = self.recorded_call(call_id)
        self.assertEqual(call["recording_url"], f"/api/v1/calls/{call_id}/recording")
        types = [e["type"] for e in call["events"]]
        self.assertIn("recording.started", types)
        self.assertIn("recording.stopped", types)
        self.assertNotIn("recording.failed", types)

        r = self.server.request("GET", call["recording_url"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Content-Type"), "audio/wav")
        self.assertEqual(r.headers.get("Accept-Ranges"), "bytes")
        wav_bytes = r.raw
        stopped = next(e["data"] for e in call["events"] if e["type"] == "recording.stopped")
        self.assertEqual(stopped["bytes"], len(wav_bytes))
        self.assertEqual(stopped["channels"], "stereo")
        self.assertEqual(stopped["dropped_frames"], 0)
        self.assertGreater(stopped["duration_seconds"], 5)

        channels, rate, (left, right) = channels_of(wav_bytes)
        self.assertEqual((channels, rate), (2, 8000))
        self.assertAlmostEqual(len(left) / 8000, stopped["duration_seconds"], delta=0.05)
        # Left: the caller's tone, nearly throughout.
        toned = [tone_ratio(w, CALLER_TONE) > 0.8 for w in windows(left)]
        self.assertGreaterEqual(sum(toned), len(toned) - 2, toned)
        # Right: the greeting (speech, ~3 s from the answer), never the caller's tone.
        speech_windows = [w for w in windows(right) if rms(w) > 300]
        self.assertGreaterEqual(len(speech_windows), 3, [round(rms(w)) for w in windows(right)])
        self.assertTrue(all(tone_ratio(w, CALLER_TONE) < 0.2 for w in windows(right)))

        # At rest: sealed, no WAV header, none of the samples.
        with open(self.sealed_path(call_id), "rb") as f:
            on_disk = f.read()
        self.assertFalse(on_disk.startswith(b"RIFF"))
        self.assertNotIn(b"RIFF", on_disk)
        self.assertNotIn(b"WAVEfmt", on_disk)
        self.assertNotIn(wav_bytes[20000:20064], on_disk)
        self.assertEqual(os.stat(self.sealed_path(call_id)).st_mode & 0o077, 0)

        # A byte range.
        r = self.server.request("GET", call["recording_url"], headers={"Range": "bytes=100-1099"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.raw, wav_bytes[100:1100])
        self.assertEqual(r.headers.get("Content-Range"), f"bytes 100-1099/{len(wav_bytes)}")
        r = self.server.request("GET", call["recording_url"], headers={"Range": "bytes=-44"})
        self.assertEqual((r.status, r.raw), (206, wav_bytes[-44:]))
        r = self.server.request("GET", call["recording_url"],
                                headers={"Range": f"bytes={len(wav_bytes)}-"})
        self.assertEqual(r.status, 416, r)
        self.assertEqual(r.headers.get("Content-Range"), f"bytes */{len(wav_bytes)}")

        # Opus in Ogg: decoded back, the caller's tone is on the left.
        r = self.server.request("GET", call["recording_url"] + "?format=ogg")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Content-Type"), "audio/ogg")
        self.assertTrue(r.raw.startswith(b"OggS"))
        self.assertLess(len(r.raw), len(wav_bytes) / 4)
        opusdec = shutil.which("opusdec")
        if opusdec is None:
            self.fail("opusdec (Debian opus-tools) is not installed: run scripts/install-deps.sh")
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "r.ogg"), "wb") as f:
                f.write(r.raw)
            subprocess.run([opusdec, "--quiet", "--rate", "8000", os.path.join(tmp, "r.ogg"),
                            os.path.join(tmp, "r.wav")], check=True, timeout=30)
            with open(os.path.join(tmp, "r.wav"), "rb") as f:
                n, _, (ogg_left, ogg_right) = channels_of(f.read())
        self.assertEqual(n, 2)
        self.assertAlmostEqual(len(ogg_left) / 8000, len(left) / 8000, delta=0.1)
        self.assertGreater(tone_ratio(ogg_left[8000:16000], CALLER_TONE), 0.8)
        self.assertLess(tone_ratio(ogg_right[8000:16000], CALLER_TONE), 0.2)
        r = self.server.request("GET", call["recording_url"] + "?format=mp3")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.body["field"], "format")

        # Another organization: not found, and it cannot delete it either.
        for method in ("GET", "DELETE"):
            r = self.server.request(method, call["recording_url"], key=self.server.key_b)
            self.assertEqual(r.status, 404, r)
        r = self.server.request("GET", call["recording_url"], key=None)
        self.assertEqual(r.status, 401, r)

        # Deleted: gone from the API and the disk, recording_url null.
        r = self.server.request("DELETE", call["recording_url"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["deleted"], True)
        r = self.server.request("GET", call["recording_url"])
        self.assertEqual(r.status, 404, r)
        self.assertIn("no recording", r.body["message"])
        self.assertIsNone(self.server.api("GET", f"/calls/{call_id}").body["recording_url"])
        self.assertFalse(os.path.exists(self.sealed_path(call_id)))
        self.assertFalse(os.path.exists(self.sealed_path(call_id, "ogg")))
        r = self.server.request("DELETE", f"/api/v1/calls/{call_id}/recording")
        self.assertEqual(r.status, 404, r)
        self.assertGaugesReturnToZero()

    def test_a_call_without_recording_has_none(self):
        r = self.server.api("PATCH", f"/assistants/{self.assistant_id}",
                            {"recording": {"enabled": False}})
        self.assertEqual(r.status, 200, r)
        try:
            call_id = self.place_call(2)
            call = self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
                self.server.api("GET", f"/calls/{call_id}").body), what="the call to end")
            time.sleep(0.5)
            self.assertIsNone(self.server.api("GET", f"/calls/{call_id}").body["recording_url"])
            self.assertNotIn("recording.started", [e["type"] for e in call["events"]])
            r = self.server.api("GET", f"/calls/{call_id}/recording")
            self.assertEqual(r.status, 404, r)
            self.assertFalse(os.path.exists(self.sealed_path(call_id)))
        finally:
            self.server.api("PATCH", f"/assistants/{self.assistant_id}",
                            {"recording": {"enabled": True, "channels": "stereo"}})

    def test_recording_settings_are_validated(self):
        cases = [({"enabled": "yes"}, "recording.enabled"),
                 ({"enabled": True, "channels": "5.1"}, "recording.channels"),
                 ({"channels": "mono"}, "recording.enabled"),
                 ({"enabled": True, "format": "mp3"}, "recording.format")]
        for body, field in cases:
            r = self.server.api("PATCH", f"/assistants/{self.assistant_id}", {"recording": body})
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.body["field"], field, r)
        r = self.server.api("GET", f"/assistants/{self.assistant_id}")
        self.assertEqual(r.body["assistant"]["recording"], {"enabled": True, "channels": "stereo"})
        r = self.server.api("POST", "/calls/outbound", {
            "destination": "+31612345678", "assistant_id": self.assistant_id,
            "recording": {"enabled": True, "channels": "quad"}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.body["field"], "recording.channels", r)


class TestTransferIsRecorded(RecordingTestCase):
    """The caller is bridged to an agent (sipp) who plays a 1.5 kHz tone: the recording's right
    channel holds it after the bridge, while the left keeps the caller."""

    @classmethod
    def setUpServer(cls):
        super().setUpServer()
        cls.tmp = tempfile.mkdtemp(prefix="tl-recording-")
        tone = os.path.join(cls.tmp, "agent.ulaw")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", tone,
                        "synth", "20", "sine", str(AGENT_TONE)], check=True)
        with open(os.path.join(SCENARIOS, "uas_answer_and_play.xml")) as f:
            scenario = f.read().replace("AUDIO_FILE", tone).replace("PLAY_AFTER_MS", "0")
        path = os.path.join(cls.tmp, "agent.xml")
        with open(path, "w") as f:
            f.write(scenario)
        cls.agent_port = free_udp_port()
        cls.agent = subprocess.Popen(
            [SIPP, "-sf", path, "-i", "127.0.0.1", "-p", str(cls.agent_port),
             "-mp", str(free_udp_port()), "-m", "1", "-timeout", "60s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_until_bound(cls.agent_port)

    @classmethod
    def tearDownClass(cls):
        cls.agent.kill()
        cls.agent.wait()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def test_the_bridged_agent_is_on_the_right(self):
        call_id = self.place_call(13, transfer_to=f"sip:agent@127.0.0.1:{self.agent_port}")
        call = self.recorded_call(call_id)
        self.assertEqual(call["transfer"]["status"], "connected", call["events"])
        r = self.server.request("GET", call["recording_url"])
        self.assertEqual(r.status, 200, r)
        _, _, (left, right) = channels_of(r.raw)
        # The whole call is there: before and after the bridge.
        self.assertGreater(len(left) / 8000, 11)
        right_agent = [tone_ratio(w, AGENT_TONE) > 0.5 for w in windows(right)]
        left_agent = [tone_ratio(w, AGENT_TONE) > 0.2 for w in windows(left)]
        left_caller = [tone_ratio(w, CALLER_TONE) > 0.8 for w in windows(left)]
        # The last 3 s: the agent on the right, the caller on the left, never mixed up.
        self.assertTrue(all(right_agent[-6:]), right_agent)
        self.assertFalse(any(right_agent[:4]), right_agent)  # before the transfer: the assistant
        self.assertFalse(any(left_agent), left_agent)
        self.assertGreaterEqual(sum(left_caller), len(left_caller) - 2, left_caller)
        self.assertGaugesReturnToZero()


class TestOutboundCallOverride(SipServerTestCase):
    """The assistant records nothing; the outbound request asks for a mono recording of this
    call: the callee's tone and the assistant's greeting are mixed into one channel."""

    def test_the_request_turns_recording_on(self):
        tmp = tempfile.mkdtemp(prefix="tl-recording-out-")
        self.addCleanup(shutil.rmtree, tmp, True)
        tone = os.path.join(tmp, "callee.ulaw")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", tone,
                        "synth", "8", "sine", str(CALLER_TONE), "vol", "0.25"], check=True)
        with open(os.path.join(SCENARIOS, "uas_answer_and_play.xml")) as f:
            scenario = f.read().replace("AUDIO_FILE", tone).replace("PLAY_AFTER_MS", "0")
        path = os.path.join(tmp, "callee.xml")
        with open(path, "w") as f:
            f.write(scenario)
        port, _ = self.sipp_peer(path, tmp)
        r = self.server.api("POST", "/sip-trunks", {
            "name": "carrier", "direction": "outbound", "host": "127.0.0.1", "port": port,
            "auth_type": "ip", "caller_id": DID})
        self.assertEqual(r.status, 201, r)
        r = self.server.api("POST", "/calls/outbound", {
            "destination": "+31612345678", "assistant_id": self.assistant_id,
            "trunk_id": r.body["trunk"]["id"],
            "recording": {"enabled": True, "channels": "mono"}})
        self.assertEqual(r.status, 200, r)
        call_id = r.body["call_id"]
        self.wait_for(lambda: self.server.api("GET", f"/calls/{call_id}").body["status"]
                      == "in-progress", timeout=15, what="the answer")
        time.sleep(5)
        self.server.api("POST", f"/calls/{call_id}/control", {"type": "end-call"})
        call = self.wait_for(lambda: (lambda c: c if c["recording_url"] else None)(
            self.server.api("GET", f"/calls/{call_id}").body), timeout=20,
            what="the recording")
        r = self.server.request("GET", call["recording_url"])
        self.assertEqual(r.status, 200, r)
        channels, rate, (mono,) = channels_of(r.raw)
        self.assertEqual((channels, rate), (1, 8000))
        # The callee's tone is in the mix, and so is the greeting (speech on top of the tone).
        self.assertTrue(any(tone_ratio(w, CALLER_TONE) > 0.8 for w in windows(mono)))
        self.assertTrue(any(0.05 < tone_ratio(w, CALLER_TONE) < 0.7 for w in windows(mono)))
        stopped = next(e["data"] for e in call["events"] if e["type"] == "recording.stopped")
        self.assertEqual(stopped["channels"], "mono")
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
