"""`trunkline call`, the test phone: it reaches the assistant through real SIP and RTP and
records the greeting, with IP or digest authentication."""

import audioop
import os
import subprocess
import tempfile
import unittest
import wave


from sip_harness import (DID, GREETING, DigestTrunkTestCase, SipServerTestCase, harness,
                         transcribe)


def run_phone(server, *args, timeout=60):
    return subprocess.run([harness.BIN, "call", f"sip:{DID}@{server.sip_host}:{server.sip_port}",
                           *args], capture_output=True, text=True, timeout=timeout)


class TestPhoneIpTrunk(SipServerTestCase):

    def test_phone_records_the_greeting(self):
        out = os.path.join(tempfile.mkdtemp(prefix="phone-"), "heard.wav")
        r = run_phone(self.server, "--record", out, "--duration", "5")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("200", r.stdout)
        with wave.open(out) as w:
            self.assertEqual(w.getframerate(), 8000)
            pcm = w.readframes(w.getnframes())
            self.assertAlmostEqual(w.getnframes() / 8000, 5, delta=0.5)
        self.assertGreater(audioop.rms(pcm, 2), 300)
        heard = transcribe(pcm, GREETING.lower().replace(",", "").replace("?", "").split()
                           + ["sales", "billing", "goodbye", "transfer"])
        self.assertTrue({"welcome", "support", "help"} & set(heard.split()), heard)
        self.assertGaugesReturnToZero()

    def test_phone_reports_a_rejected_call(self):
        r = subprocess.run([harness.BIN, "call",
                            f"sip:+31999999999@{self.server.sip_host}:{self.server.sip_port}",
                            "--duration", "2"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("404", r.stdout)

    def test_bad_arguments_are_named(self):
        r = subprocess.run([harness.BIN, "call", "pbx.example.com"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("sip:", r.stderr)
        r = run_phone(self.server, "--header", "not a header")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--header", r.stderr)


class TestPhoneDigestTrunk(DigestTrunkTestCase):

    def test_phone_answers_the_challenge(self):
        r = run_phone(self.server, "--user", self.username, "--password", self.password,
                      "--duration", "1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGaugesReturnToZero()

    def test_wrong_password_is_refused_without_a_loop(self):
        r = run_phone(self.server, "--user", self.username, "--password", "wrong",
                      "--duration", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("403", r.stdout)


if __name__ == "__main__":
    unittest.main()
