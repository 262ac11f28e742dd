"""`serve --demo` (what `make run` starts): the printed key works and the printed test-phone
command reaches the demo assistant."""

import re
import shlex
import subprocess
import unittest

from sip_harness import SipServerTestCase, harness


class TestDemo(SipServerTestCase):
    extra_args = ("--demo",)
    ip_trunk = False
    json_logs = False  # the test reads the demo's instructions the way a person does

    @classmethod
    def setUpServer(cls):
        pass  # --demo configures everything

    def test_demo_key_and_phone_command_work(self):
        log = self.server.log_text()
        key = re.search(r"export TRUNKLINE_API_KEY=(\S+)", log).group(1)
        r = self.server.request("GET", "/api/v1/numbers", key=key)
        self.assertEqual(r.status, 200)
        self.assertEqual([n["phone_number"] for n in r.body["numbers"]], ["+31850000000"])
        command = re.search(r"^\s*(\./build/src/app/trunkline call .*)$", log, re.M).group(1)
        args = shlex.split(command)[1:]
        args[args.index("--duration") + 1] = "2"
        args = [a for a in args]
        record = args.index("--record")
        del args[record:record + 2]
        out = subprocess.run([harness.BIN, *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("200 OK", out.stdout)
        self.assertGaugesReturnToZero()

    def test_restart_with_demo_keeps_one_demo_line(self):
        self.server.restart()
        key = re.findall(r"export TRUNKLINE_API_KEY=(\S+)", self.server.log_text())[-1]
        r = self.server.request("GET", "/api/v1/numbers", key=key)
        self.assertEqual(len(r.body["numbers"]), 1)


if __name__ == "__main__":
    unittest.main()
