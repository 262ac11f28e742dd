"""The demo's hand-off to a person (README quickstart, part 7): `serve --demo` and the test phone
answering as the agent (`trunkline call --answer`). A caller who says "I want to talk to a person"
(`trunkline call --say`, the embedded espeak-ng) or presses 0 is transferred by the scripted demo
assistant to the agent phone, which answers; the two then hear each other through the bridge: the
agent records the caller's 1200 Hz tone, the caller the agent's 700 Hz one. The call record shows
the connected transfer. A data dir holding the demo of an earlier version is upgraded on restart.
"""

import math
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time
import unittest
import wave

from sip_harness import SipServerTestCase, Uac, free_udp_port, harness, tone_ratio

DEMO_NUMBER = "+31850000000"
AGENT_URI = "sip:agent@127.0.0.1:5070"
CALLER_TONE = 1200
AGENT_TONE = 700


def write_tone_wav(path, hz, seconds, silence_before=0.0, rate=8000):
    frames = b"\x00\x00" * int(silence_before * rate)
    frames += b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
                       for i in range(int(seconds * rate)))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def read_samples(path):
    with wave.open(path) as w:
        raw = w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(raw) // 2}h", raw))


def best_tone_share(samples, hz, window=4000):
    """The highest share of `hz` over half-second windows (the tone sits somewhere in there)."""
    shares = [tone_ratio(samples[i:i + window], hz)
              for i in range(0, len(samples) - window + 1, window)]
    return max(shares, default=0.0)


def udp_port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class TestDemoHandOff(SipServerTestCase):
    extra_args = ("--demo",)
    ip_trunk = False
    json_logs = False  # the demo's instructions are read the way a person reads them

    @classmethod
    def setUpServer(cls):
        log = cls.server.log_text()
        cls.key = re.search(r"export TRUNKLINE_API_KEY=(\S+)", log).group(1)
        cls.sip_port = cls.server.sip_port
        r = cls.server.request("GET", "/api/v1/assistants", key=cls.key)
        cls.assistant = r.body["assistants"][0]
        cls.agent_uri = AGENT_URI
        cls.agent_port = 5070
        if not udp_port_free(5070):
            # Someone runs the README's agent phone on this machine: point the demo elsewhere.
            cls.agent_port = free_udp_port()
            cls.agent_uri = f"sip:agent@127.0.0.1:{cls.agent_port}"
            llm = cls.assistant["llm_config"]
            for tool in llm["tools"]:
                if tool["type"] == "transfer_call":
                    tool["destinations"][0]["sip_uri"] = cls.agent_uri
            r = cls.server.request("PATCH", f"/api/v1/assistants/{cls.assistant['id']}",
                                   {"llm_config": llm}, key=cls.key)
            assert r.status == 200, r
        cls.work = tempfile.mkdtemp(prefix="tl-handoff-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "work", ""), ignore_errors=True)
        super().tearDownClass()

    def start_agent(self, name, duration):
        """The README's agent phone, playing a 700 Hz tone instead of its spoken line (so the
        caller's side can find it), recording what it hears."""
        tone = os.path.join(self.work, "agent-tone.wav")
        write_tone_wav(tone, AGENT_TONE, 4.0)
        record = os.path.join(self.work, f"{name}-agent.wav")
        proc = subprocess.Popen(
            [harness.BIN, "call", "--answer", "--listen", f"127.0.0.1:{self.agent_port}",
             "--play", tone, "--record", record, "--duration", str(duration), "--wait", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while udp_port_free(self.agent_port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return proc, record

    def finish_agent(self, proc):
        out, _ = proc.communicate(timeout=90)
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("incoming call from", out)
        self.assertIn(f"to {self.agent_uri}", out)
        self.assertIn("answered (PCMU)", out)
        return out

    def latest_call(self):
        r = self.server.request("GET", "/api/v1/calls", key=self.key)
        self.assertStatus(r, 200)
        return r.body["calls"][0]

    def check_transferred(self, call):
        self.assertEqual(call["end_reason"], "transferred", call)
        transfer = call["transfer"]
        self.assertEqual(transfer["destination"], self.agent_uri, call)
        self.assertEqual(transfer["method"], "bridge")
        self.assertEqual(transfer["status"], "connected", call)
        self.assertEqual(transfer["sip_code"], 200)

    def test_1_demo_assistant_providers_all_check_ok(self):
        r = self.server.request("GET", f"/api/v1/assistants/{self.assistant['id']}/check",
                                key=self.key)
        self.assertStatus(r, 200)
        self.assertEqual({slot: v["status"] for slot, v in r.body.items()},
                         {"llm": "ok", "stt": "ok", "tts": "ok"}, r.body)
        self.assertEqual(self.server.request(
            "GET", f"/api/v1/assistants/{self.assistant['id']}", key=self.key).body["warnings"], [])

    def test_2_asking_for_a_person_hands_the_call_to_the_agent_phone(self):
        agent, agent_record = self.start_agent("say", duration=12)
        # The request at once (over the greeting, as a person would), then 9 s of silence (the
        # reply and the transfer), then the tone the agent must hear through the bridge.
        after = os.path.join(self.work, "caller-after.wav")
        write_tone_wav(after, CALLER_TONE, 4.0, silence_before=9.0)
        caller_record = os.path.join(self.work, "caller.wav")
        caller = subprocess.run(
            [harness.BIN, "call", f"sip:{DEMO_NUMBER}@127.0.0.1:{self.sip_port}",
             "--say", "I want to talk to a person", "--say", "yes", "--play", after,
             "--record", caller_record, "--duration", "34"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(caller.returncode, 0, caller.stdout + caller.stderr)
        self.assertIn("200 OK", caller.stdout)
        # The agent hung up after its 12 s: the bridge ends the call for the caller too.
        self.assertIn("hung up by the far end", caller.stdout)
        self.finish_agent(agent)

        heard_by_agent = best_tone_share(read_samples(agent_record), CALLER_TONE)
        heard_by_caller = best_tone_share(read_samples(caller_record), AGENT_TONE)
        print(f"\nagent heard the caller's {CALLER_TONE} Hz at share {heard_by_agent:.2f}; "
              f"caller heard the agent's {AGENT_TONE} Hz at share {heard_by_caller:.2f}")
        self.assertGreater(heard_by_agent, 0.8)
        self.assertGreater(heard_by_caller, 0.8)
        call = self.latest_call()
        self.check_transferred(call)
        self.assertEqual(call["assistant_id"], self.assistant["id"])
        self.assertGaugesReturnToZero()

    def test_3_pressing_0_hands_the_call_over_too(self):
        agent, _ = self.start_agent("dtmf", duration=3)
        uac = Uac("127.0.0.1", self.sip_port, dialled=DEMO_NUMBER)
        try:
            status = uac.call(20, dtmf="0", dtmf_delay=1.0)
        finally:
            uac.close()
        self.assertEqual(status, 200)
        self.assertTrue(uac.hung_up_by_far_end)
        self.finish_agent(agent)
        self.check_transferred(self.latest_call())
        self.assertGaugesReturnToZero()

    def test_4_restart_upgrades_the_demo_of_an_earlier_version(self):
        earlier = (
            '{"first_message":"Welcome to Acme support, how can I help you?",'
            '"end_call_message":"Thank you for calling Acme. Goodbye.",'
            '"tts_config":{"language":"en"},'
            '"llm_config":{"provider":"scripted","tools":[{"type":"end_call"}],"rules":['
            '{"when":["sales","support"],"reply":"I can help with that. '
            'Say goodbye when you are done."},'
            '{"when":["goodbye"],"tool":{"name":"end_call"}}],'
            '"default_reply":"In this demo I understand sales, and goodbye."}}')
        self.server.stop()
        with sqlite3.connect(self.server.db_path) as db:
            db.execute("UPDATE assistants SET config_json = ? WHERE id = ?",
                       (earlier, self.assistant["id"]))
        self.server.start()
        key = re.findall(r"export TRUNKLINE_API_KEY=(\S+)", self.server.log_text())[-1]
        r = self.server.request("GET", "/api/v1/assistants", key=key)
        self.assertEqual([a["id"] for a in r.body["assistants"]], [self.assistant["id"]])
        tools = r.body["assistants"][0]["llm_config"]["tools"]
        self.assertIn(AGENT_URI, [d.get("sip_uri") for t in tools for d in t.get("destinations", [])])
        # A demo assistant changed through the API is the user's: a restart keeps it.
        r = self.server.request("PATCH", f"/api/v1/assistants/{self.assistant['id']}",
                                {"first_message": "Hi from my own demo."}, key=key)
        self.assertStatus(r, 200)
        self.server.restart()
        key = re.findall(r"export TRUNKLINE_API_KEY=(\S+)", self.server.log_text())[-1]
        r = self.server.request("GET", f"/api/v1/assistants/{self.assistant['id']}", key=key)
        self.assertEqual(r.body["assistant"]["first_message"], "Hi from my own demo.")
        r = self.server.request("GET", "/api/v1/numbers", key=key)
        self.assertEqual(len(r.body["numbers"]), 1)


if __name__ == "__main__":
    unittest.main()
