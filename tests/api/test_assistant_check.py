"""GET /api/v1/assistants/{id}/check (docs/api.md "Check an assistant's providers"): a real, tiny
request to each configured provider, answered as {"llm"|"stt"|"tts": {provider, status, message}}.
  - ok against a fake OpenAI-compatible server that answers, with the key sent as a call would
    (the organization's BYOK key, else TRUNKLINE_<PROVIDER>_API_KEY), and the cheap requests:
    a one-token chat completion, 0.2 s of audio, one word of speech;
  - auth_failed against a server answering 401 (which echoes the key: it must not come back);
  - unreachable against a closed port, and after a timeout (bounded; other requests keep being
    answered meanwhile: the check runs off the io threads);
  - not_configured for a keyless openai provider without base_url, and for missing configs;
  - the embedded engines (scripted, pocketsphinx, espeak-ng) ok after a local check;
  - 404 for another organization's assistant and for a malformed id.
"""

import http.client
import json
import socket
import threading
import time
import unittest

from fake_openai import FakeOpenAi
from harness import ServerTestCase

BYOK_KEY = "sk-check-byok-0123456789abcdef"
ENV_KEY = "sk-check-env-9876543210fedcba"
STATUSES = {"ok", "auth_failed", "unreachable", "not_configured"}
SCRIPTED = {"provider": "scripted", "rules": [{"when": ["sales"], "reply": "One moment."}]}


def refused_port():
    """A loopback TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def network_configs(provider, base_url):
    return {
        "llm_config": {"provider": provider, "model": "fake-chat", "base_url": base_url},
        "stt_config": {"provider": provider, "model": "fake-whisper", "base_url": base_url},
        "tts_config": {"provider": provider, "model": "fake-tts", "voice_id": "alloy",
                       "base_url": base_url},
    }


class TestAssistantCheck(ServerTestCase):
    server_kwargs = {"env": {"TRUNKLINE_MISTRAL_API_KEY": ENV_KEY}}

    @classmethod
    def setUpServer(cls):
        cls.good = FakeOpenAi(transcript="")
        cls.denied = FakeOpenAi(status=401)
        r = cls.server.api("POST", "/byok", {"provider": "openai", "api_key": BYOK_KEY})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.good.close()
        cls.denied.close()
        super().tearDownClass()

    def assistant(self, key=None, **configs):
        kw = {} if key is None else {"key": key}
        r = self.api("POST", "/assistants", {"name": "Check", **configs}, **kw)
        self.assertStatus(r, 201)
        return r.body["assistant"]["id"]

    def check(self, assistant_id, **kw):
        started = time.monotonic()
        r = self.api("GET", f"/assistants/{assistant_id}/check", **kw)
        self.elapsed = time.monotonic() - started
        return r

    def report(self, assistant_id):
        r = self.check(assistant_id)
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"llm", "stt", "tts"})
        for slot, entry in r.body.items():
            self.assertKeys(entry, {"provider", "status", "message"}, msg=slot)
            self.assertIn(entry["status"], STATUSES, slot)
            self.assertIsInstance(entry["message"], str, slot)
        self.assertNotIn(BYOK_KEY, r.raw.decode())
        self.assertNotIn(ENV_KEY, r.raw.decode())
        return r.body

    def test_ok_against_a_server_that_answers_with_the_byok_key(self):
        before = len(self.good.requests)
        report = self.report(self.assistant(**network_configs("openai", self.good.base_url)))
        for slot in ("llm", "stt", "tts"):
            self.assertEqual(report[slot]["status"], "ok", report)
            self.assertEqual(report[slot]["provider"], "openai")
        self.assertIn("fake-chat", report["llm"]["message"])
        requests = {path: (headers, body) for path, headers, body in self.good.requests[before:]}
        self.assertEqual(set(requests), {"/v1/chat/completions", "/v1/audio/transcriptions",
                                         "/v1/audio/speech"})
        for path, (headers, _) in requests.items():
            self.assertEqual(headers.get("Authorization"), f"Bearer {BYOK_KEY}", path)
        chat = json.loads(requests["/v1/chat/completions"][1])
        self.assertEqual(chat["model"], "fake-chat")
        self.assertEqual(chat["max_completion_tokens"], 1)  # openai's name for the cap
        speech = json.loads(requests["/v1/audio/speech"][1])
        self.assertLessEqual(len(speech["input"]), 8)
        self.assertEqual(speech["voice"], "alloy")
        # 0.2 s of 8 kHz 16-bit audio plus a WAV header and the multipart fields.
        self.assertLess(len(requests["/v1/audio/transcriptions"][1]), 4000)

    def test_environment_key_is_used_when_the_organization_has_none(self):
        before = len(self.good.requests)
        report = self.report(self.assistant(**network_configs("mistral", self.good.base_url)))
        self.assertEqual({s: report[s]["status"] for s in report},
                         {"llm": "ok", "stt": "ok", "tts": "ok"}, report)
        for path, headers, body in self.good.requests[before:]:
            self.assertEqual(headers.get("Authorization"), f"Bearer {ENV_KEY}", path)
            if path.endswith("/chat/completions"):
                self.assertEqual(json.loads(body)["max_tokens"], 1)

    def test_auth_failed_against_a_server_answering_401_and_the_key_is_masked(self):
        report = self.report(self.assistant(**network_configs("openai", self.denied.base_url)))
        for slot in ("llm", "stt", "tts"):
            self.assertEqual(report[slot]["status"], "auth_failed", report)
            self.assertIn("401", report[slot]["message"])
            self.assertIn("Incorrect API key", report[slot]["message"])

    def test_unreachable_against_a_closed_port(self):
        base = f"http://127.0.0.1:{refused_port()}/v1"
        report = self.report(self.assistant(**network_configs("openai_compatible", base)))
        for slot in ("llm", "stt", "tts"):
            self.assertEqual(report[slot]["status"], "unreachable", report)
            self.assertIn("refused", report[slot]["message"])
        self.assertLess(self.elapsed, 5)

    def test_not_configured_without_a_key_or_base_url(self):
        configs = {
            "llm_config": {"provider": "groq", "model": "m"},
            "stt_config": {"provider": "groq", "model": "m"},
            "tts_config": {"provider": "xai", "model": "m", "voice_id": "v"},
        }
        report = self.report(self.assistant(**configs))
        for slot in ("llm", "stt", "tts"):
            self.assertEqual(report[slot]["status"], "not_configured", report)
        self.assertEqual(report["llm"]["provider"], "groq")
        self.assertIn("TRUNKLINE_GROQ_API_KEY", report["llm"]["message"])
        self.assertIn("TRUNKLINE_XAI_API_KEY", report["tts"]["message"])

    def test_keyless_openai_in_another_organization_is_not_configured(self):
        # Organization B has no BYOK key for openai, and the server no TRUNKLINE_OPENAI_API_KEY.
        configs = {"llm_config": {"provider": "openai", "model": "gpt-4o-mini"}}
        key_b = self.server.key_b
        r = self.check(self.assistant(key=key_b, **configs), key=key_b)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["llm"]["status"], "not_configured", r.body)
        self.assertIn("TRUNKLINE_OPENAI_API_KEY", r.body["llm"]["message"])

    def test_no_configs_are_not_configured(self):
        report = self.report(self.assistant())
        for slot in ("llm", "stt", "tts"):
            self.assertEqual(report[slot]["status"], "not_configured", report)
            self.assertIsNone(report[slot]["provider"])
            self.assertTrue(report[slot]["message"])

    def test_embedded_engines_are_ok(self):
        configs = {"llm_config": SCRIPTED,
                   "stt_config": {"provider": "pocketsphinx"},
                   "tts_config": {"provider": "espeak-ng"}}
        report = self.report(self.assistant(**configs))
        self.assertEqual(report["llm"], {"provider": "scripted", "status": "ok",
                                         "message": report["llm"]["message"]})
        self.assertEqual(report["stt"]["provider"], "pocketsphinx")
        self.assertEqual(report["stt"]["status"], "ok", report)
        self.assertIn("1 phrase", report["stt"]["message"])
        self.assertEqual(report["tts"]["provider"], "espeak-ng")
        self.assertEqual(report["tts"]["status"], "ok", report)

    def test_hms_provider_is_checked_as_the_embedded_engine_standing_in(self):
        configs = {"llm_config": SCRIPTED, "stt_config": {"provider": "deepgram"},
                   "tts_config": {"provider": "elevenlabs", "voice_id": "x"}}
        report = self.report(self.assistant(**configs))
        self.assertEqual(report["stt"]["status"], "ok", report)
        self.assertIn("pocketsphinx stands in", report["stt"]["message"])
        self.assertEqual(report["tts"]["status"], "ok", report)
        self.assertIn("espeak-ng stands in", report["tts"]["message"])

    def test_other_organization_and_malformed_ids_are_404(self):
        assistant_id = self.assistant(llm_config=SCRIPTED)
        self.assertStatus(self.check(assistant_id, key=self.server.key_b), 404)
        self.assertStatus(self.check("not-a-uuid"), 404)
        self.assertStatus(self.check("00000000-0000-4000-8000-000000000000"), 404)
        self.assertStatus(self.check(assistant_id, key=None), 401)

    def test_cli_prints_the_same_report_and_exits_1_on_a_failure(self):
        good = self.assistant(**network_configs("openai", self.good.base_url))
        out = self.server.cli("assistants", "check", good, "--data-dir", self.server.data_dir)
        self.assertRegex(out.stdout, r"llm\s+openai\s+ok\s+chat completion")
        self.assertNotIn(BYOK_KEY, out.stdout + out.stderr)
        denied = self.assistant(**network_configs("openai", self.denied.base_url))
        out = self.server.cli("assistants", "check", denied, "--json", "--data-dir",
                              self.server.data_dir, check=False)
        self.assertEqual(out.returncode, 1, out.stderr)
        report = json.loads(out.stdout)
        self.assertEqual(report["tts"]["status"], "auth_failed")
        self.assertNotIn(BYOK_KEY, out.stdout + out.stderr)
        missing = self.server.cli("assistants", "check", "00000000-0000-4000-8000-000000000000",
                                  "--data-dir", self.server.data_dir, check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no assistant", missing.stderr)


class TestAssistantCheckTimeout(ServerTestCase):
    """A provider that never answers in time: unreachable after the probe's 5 s bound, and the
    server answers other requests meanwhile."""

    @classmethod
    def setUpServer(cls):
        cls.slow = FakeOpenAi(delay=8.0)

    @classmethod
    def tearDownClass(cls):
        cls.slow.close()
        super().tearDownClass()

    def test_timeout_is_bounded_and_does_not_block_other_requests(self):
        configs = {"llm_config": {"provider": "openai_compatible", "model": "m",
                                  "base_url": self.slow.base_url}}
        r = self.api("POST", "/assistants", {"name": "Slow", **configs})
        self.assertStatus(r, 201)
        assistant_id = r.body["assistant"]["id"]
        result = {}

        def check():
            conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
            started = time.monotonic()
            conn.request("GET", f"/api/v1/assistants/{assistant_id}/check",
                         headers={"Authorization": f"Bearer {self.server.key_a}"})
            resp = conn.getresponse()
            result["status"] = resp.status
            result["body"] = json.loads(resp.read())
            result["elapsed"] = time.monotonic() - started
            conn.close()

        thread = threading.Thread(target=check)
        thread.start()
        time.sleep(1.0)
        started = time.monotonic()
        self.assertStatus(self.server.request("GET", "/health", key=None), 200)
        self.assertLess(time.monotonic() - started, 1.0)
        thread.join(30)
        self.assertEqual(result.get("status"), 200, result)
        llm = result["body"]["llm"]
        self.assertEqual(llm["status"], "unreachable", result)
        self.assertIn("timed out", llm["message"])
        self.assertGreater(result["elapsed"], 4.5)
        self.assertLess(result["elapsed"], 9.0)


if __name__ == "__main__":
    unittest.main()
