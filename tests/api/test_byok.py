"""Organization BYOK provider keys: GET/POST/DELETE /api/v1/byok and GET/POST /api/v1/byok/config.

Covers every endpoint, replacement (a new secret_id, settings kept), deletion, settings merged as a
JSON Merge Patch, every validation error naming its field (and changing nothing), organization
isolation, persistence across a restart, and that a key's bytes appear in no response, no log line
and no file of the data directory, where only its sealed form is stored.
"""

import os
import sqlite3
import unittest

from harness import UUID4_RE, ServerTestCase, secret_variants

PROVIDERS = ["deepgram", "openai", "elevenlabs", "inworld", "resend", "xai", "gladia", "mistral",
             "google", "google_vertex", "groq", "openai_compatible"]
SECRET_ID_KEYS = {f"{p}_secret_id" for p in PROVIDERS}
DEL = object()  # "remove this key from the base body"


def apply(base, change):
    body = dict(base)
    for k, v in change.items():
        if v is DEL:
            body.pop(k, None)
        else:
            body[k] = v
    return body


class ByokTestCase(ServerTestCase):
    def setUp(self):
        # Each test starts with no keys in either organization.
        for key in (self.srv.key_a, self.srv.key_b):
            r = self.api("GET", "/byok", key=key)
            self.assertStatus(r, 200)
            for name, value in r.body["byok_keys"].items():
                if value is not None:
                    provider = name[: -len("_secret_id")]
                    self.assertStatus(self.api("DELETE", "/byok", {"provider": provider}, key=key),
                                      200)

    def keys(self, key=None):
        r = self.api("GET", "/byok", key=key or self.srv.key_a)
        self.assertStatus(r, 200)
        self.assertKeys(r.body, ["byok_keys"])
        return r.body["byok_keys"]

    def set_key(self, provider, api_key, key=None):
        r = self.api("POST", "/byok", {"provider": provider, "api_key": api_key},
                     key=key or self.srv.key_a)
        self.assertStatus(r, 200, f"POST /byok {provider}")
        self.assertKeys(r.body, ["success", "byok_keys"])
        self.assertIs(r.body["success"], True)
        return r.body["byok_keys"]

    def config_state(self, key=None):
        r = self.api("GET", "/byok/config", key=key or self.srv.key_a)
        self.assertStatus(r, 200)
        return r.body


class TestByokKeys(ByokTestCase):
    def test_get_lists_every_provider_as_null_when_nothing_is_stored(self):
        keys = self.keys()
        self.assertEqual(set(keys), SECRET_ID_KEYS)
        self.assertTrue(all(v is None for v in keys.values()), keys)

    def test_set_key_returns_a_secret_id_and_get_shows_it(self):
        keys = self.set_key("openai", "sk-test-openai-0001")
        self.assertEqual(set(keys), SECRET_ID_KEYS)
        self.assertUuid(keys["openai_secret_id"])
        self.assertEqual([k for k, v in keys.items() if v is not None], ["openai_secret_id"])
        self.assertEqual(self.keys(), keys)

    def test_every_provider_is_accepted(self):
        for i, provider in enumerate(PROVIDERS):
            self.set_key(provider, f"key-{provider}-{i:04d}")
        keys = self.keys()
        for name in SECRET_ID_KEYS:
            self.assertRegex(keys[name] or "", UUID4_RE, name)
        self.assertEqual(len(set(keys.values())), len(PROVIDERS), "secret ids are not distinct")

    def test_replacing_a_key_gives_a_new_secret_id_and_keeps_the_settings(self):
        first = self.set_key("deepgram", "dg-first-key")["deepgram_secret_id"]
        r = self.api("POST", "/byok/config", {"provider": "deepgram", "config": {"region": "eu"}})
        self.assertStatus(r, 200)
        second = self.set_key("deepgram", "dg-second-key")["deepgram_secret_id"]
        self.assertUuid(second)
        self.assertNotEqual(first, second)
        self.assertEqual(self.keys()["deepgram_secret_id"], second)
        self.assertEqual(self.config_state()["byok_config"], {"deepgram": {"region": "eu"}})
        # The same key again is still a replacement.
        third = self.set_key("deepgram", "dg-second-key")["deepgram_secret_id"]
        self.assertNotEqual(second, third)

    def test_delete_removes_the_key_and_a_second_delete_is_404(self):
        self.set_key("elevenlabs", "el-key-to-delete")
        kept = self.set_key("xai", "xai-key-kept")["xai_secret_id"]
        r = self.api("DELETE", "/byok", {"provider": "elevenlabs"})
        self.assertStatus(r, 200)
        self.assertKeys(r.body, ["success", "byok_keys"])
        self.assertIs(r.body["success"], True)
        self.assertIsNone(r.body["byok_keys"]["elevenlabs_secret_id"])
        self.assertEqual(r.body["byok_keys"]["xai_secret_id"], kept)
        self.assertEqual(self.keys(), r.body["byok_keys"])
        r = self.api("DELETE", "/byok", {"provider": "elevenlabs"})
        self.assertError(r, 404, "not_found", field="provider")
        r = self.api("DELETE", "/byok", {"provider": "gladia"})  # never stored
        self.assertError(r, 404, "not_found", field="provider")

    def test_delete_also_removes_the_settings(self):
        self.set_key("mistral", "mistral-key-1")
        self.assertStatus(self.api("POST", "/byok/config",
                                   {"provider": "mistral", "config": {"model": "m"}}), 200)
        self.assertStatus(self.api("DELETE", "/byok", {"provider": "mistral"}), 200)
        self.assertEqual(self.config_state()["byok_config"], {})
        self.set_key("mistral", "mistral-key-2")
        self.assertEqual(self.config_state()["byok_config"], {"mistral": {}})

    def test_authentication_is_required(self):
        for method, path, body in (("GET", "/byok", None),
                                   ("POST", "/byok", {"provider": "openai", "api_key": "k"}),
                                   ("DELETE", "/byok", {"provider": "openai"}),
                                   ("GET", "/byok/config", None),
                                   ("POST", "/byok/config", {"provider": "openai", "config": {}})):
            with self.subTest(method=method, path=path):
                self.assertError(self.api(method, path, body, key=None), 401, "unauthorized")
                self.assertError(self.api(method, path, body, key="tl_live_" + "x" * 43), 401,
                                 "unauthorized")

    def test_other_methods_are_405(self):
        r = self.api("PATCH", "/byok", {"provider": "openai"})
        self.assertError(r, 405, "method_not_allowed")
        self.assertIn("DELETE", r.headers.get("Allow", ""))
        r = self.api("DELETE", "/byok/config", {"provider": "openai"})
        self.assertError(r, 405, "method_not_allowed")


class TestByokConfig(ByokTestCase):
    def test_config_needs_a_stored_key(self):
        r = self.api("POST", "/byok/config", {"provider": "openai", "config": {"a": 1}})
        body = self.assertError(r, 404, "not_found", field="provider")
        self.assertIn("POST /api/v1/byok", body["message"])
        self.assertEqual(self.config_state()["byok_config"], {})

    def test_config_is_merged_and_returned_for_every_provider_with_a_key(self):
        self.set_key("openai_compatible", "local-server-token")
        self.set_key("deepgram", "dg-key")
        r = self.api("POST", "/byok/config", {"provider": "openai_compatible", "config": {
            "base_url": "http://127.0.0.1:8000/v1", "headers": {"X-A": "1", "X-B": "2"}}})
        self.assertStatus(r, 200)
        self.assertKeys(r.body, ["byok_config"])
        self.assertEqual(r.body["byok_config"], {
            "openai_compatible": {"base_url": "http://127.0.0.1:8000/v1",
                                  "headers": {"X-A": "1", "X-B": "2"}},
            "deepgram": {}})
        # RFC 7396: members replace, nested objects merge, null removes.
        r = self.api("POST", "/byok/config", {"provider": "openai_compatible", "config": {
            "headers": {"X-A": None, "X-C": "3"}, "model": "llama-3.1-8b"}})
        self.assertStatus(r, 200)
        expected = {"base_url": "http://127.0.0.1:8000/v1", "headers": {"X-B": "2", "X-C": "3"},
                    "model": "llama-3.1-8b"}
        self.assertEqual(r.body["byok_config"]["openai_compatible"], expected)
        r = self.api("POST", "/byok/config",
                     {"provider": "openai_compatible", "config": {"base_url": None}})
        self.assertStatus(r, 200)
        expected.pop("base_url")
        self.assertEqual(r.body["byok_config"]["openai_compatible"], expected)
        # An empty patch changes nothing and still answers the settings.
        r = self.api("POST", "/byok/config", {"provider": "openai_compatible", "config": {}})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["byok_config"]["openai_compatible"], expected)
        self.assertEqual(self.config_state()["byok_config"],
                         {"openai_compatible": expected, "deepgram": {}})
        # Settings do not change the key's secret id.
        before = self.keys()["openai_compatible_secret_id"]
        self.api("POST", "/byok/config", {"provider": "openai_compatible", "config": {"x": 1}})
        self.assertEqual(self.keys()["openai_compatible_secret_id"], before)

    def test_get_config_lists_the_provider_catalog(self):
        self.set_key("groq", "gsk-groq-key")
        state = self.config_state()
        self.assertKeys(state, ["providers", "byok_config"])
        self.assertEqual([p["id"] for p in state["providers"]], PROVIDERS)
        for p in state["providers"]:
            with self.subTest(provider=p["id"]):
                self.assertKeys(p, ["id", "name", "category", "docsUrl", "models", "configured"])
                self.assertTrue(p["name"])
                self.assertIn(p["category"], ("stt", "llm", "tts", "email"))
                self.assertIs(p["configured"], p["id"] == "groq")
                if p["docsUrl"] is not None:
                    self.assertTrue(p["docsUrl"].startswith("https://"), p["docsUrl"])
                self.assertLessEqual(sum(1 for m in p["models"] if m["default"]), 1)
                for m in p["models"]:
                    self.assertKeys(m, ["id", "name", "default"])
        self.assertEqual(state["byok_config"], {"groq": {}})


# Validation tables: (change to a valid body, expected code(s), expected field).
SET_BASE = {"provider": "openai", "api_key": "sk-valid-key-123"}
SET_CASES = [
    ({"provider": DEL}, "missing_field", "provider"),
    ({"provider": None}, "missing_field", "provider"),
    ({"provider": ""}, "invalid_request", "provider"),
    ({"provider": "anthropic"}, "invalid_request", "provider"),
    ({"provider": "OpenAI"}, "invalid_request", "provider"),
    ({"provider": "openai_secret_id"}, "invalid_request", "provider"),
    ({"provider": 42}, "invalid_request", "provider"),
    ({"provider": ["openai"]}, "invalid_request", "provider"),
    ({"api_key": DEL}, "missing_field", "api_key"),
    ({"api_key": None}, "missing_field", "api_key"),
    ({"api_key": ""}, "invalid_request", "api_key"),
    ({"api_key": "k" * 4097}, "invalid_request", "api_key"),
    ({"api_key": 1234}, "invalid_request", "api_key"),
    ({"api_key": {"key": "x"}}, "invalid_request", "api_key"),
    ({"api_key": "sk-with-newline\n"}, "invalid_request", "api_key"),
    ({"api_key": "sk-with\ttab"}, "invalid_request", "api_key"),
    ({"api_key": "sk-with-nul\u0000x"}, "invalid_request", "api_key"),
    ({"api_key": "sk-with-del\u007f"}, "invalid_request", "api_key"),
    ({"api_key": " sk-leading-space"}, "invalid_request", "api_key"),
    ({"api_key": "sk-trailing-space "}, "invalid_request", "api_key"),
    ({"key": "sk-x"}, "unknown_field", "key"),
    ({"secret_id": "x"}, "unknown_field", "secret_id"),
    ({"config": {}}, "unknown_field", "config"),
]
DELETE_BASE = {"provider": "openai"}
DELETE_CASES = [
    ({"provider": DEL}, "missing_field", "provider"),
    ({"provider": None}, "missing_field", "provider"),
    ({"provider": "nope"}, "invalid_request", "provider"),
    ({"provider": 7}, "invalid_request", "provider"),
    ({"api_key": "sk-x"}, "unknown_field", "api_key"),
]
CONFIG_BASE = {"provider": "openai", "config": {"region": "eu"}}
CONFIG_CASES = [
    ({"provider": DEL}, "missing_field", "provider"),
    ({"provider": "nope"}, "invalid_request", "provider"),
    ({"config": DEL}, "missing_field", "config"),
    ({"config": None}, "missing_field", "config"),
    ({"config": "region=eu"}, "invalid_request", "config"),
    ({"config": ["region"]}, "invalid_request", "config"),
    ({"config": 1}, "invalid_request", "config"),
    ({"config": {"big": "x" * 17000}}, "invalid_request", "config"),
    ({"config": {"api_key": "sk-in-config"}}, "invalid_request", "config.api_key"),
    ({"config": {"base_url": "ftp://example.com"}}, "invalid_request", "config.base_url"),
    ({"config": {"base_url": "http://"}}, "invalid_request", "config.base_url"),
    ({"config": {"base_url": "localhost:8000"}}, "invalid_request", "config.base_url"),
    ({"config": {"base_url": "http://a b/v1"}}, "invalid_request", "config.base_url"),
    ({"config": {"base_url": 8000}}, "invalid_request", "config.base_url"),
    ({"api_key": "sk-x"}, "unknown_field", "api_key"),
    ({"settings": {}}, "unknown_field", "settings"),
]


class TestByokValidation(ByokTestCase):
    def state(self):
        return self.keys(), self.config_state()

    def check_rejected(self, method, path, body, code, field):
        before = self.state()
        r = self.api(method, path, body)
        self.assertError(r, 400, code, field=field, msg=f"{method} {path} {body!r}:")
        # The message never echoes a submitted key.
        api_key = body.get("api_key") if isinstance(body, dict) else None
        if isinstance(api_key, str) and len(api_key) >= 8:
            self.assertNotIn(api_key.strip().encode(), r.raw)
        self.assertEqual(self.state(), before, f"{method} {path} {body!r} changed something")

    def test_set_key_errors_name_the_field_and_change_nothing(self):
        self.set_key("openai", "sk-existing-key")
        for change, code, field in SET_CASES:
            with self.subTest(change=repr(change)[:80]):
                self.check_rejected("POST", "/byok", apply(SET_BASE, change), code, field)

    def test_delete_errors_name_the_field_and_change_nothing(self):
        self.set_key("openai", "sk-existing-key")
        for change, code, field in DELETE_CASES:
            with self.subTest(change=change):
                self.check_rejected("DELETE", "/byok", apply(DELETE_BASE, change), code, field)

    def test_config_errors_name_the_field_and_change_nothing(self):
        self.set_key("openai", "sk-existing-key")
        self.assertStatus(self.api("POST", "/byok/config",
                                   {"provider": "openai", "config": {"keep": True}}), 200)
        for change, code, field in CONFIG_CASES:
            with self.subTest(change=repr(change)[:80]):
                self.check_rejected("POST", "/byok/config", apply(CONFIG_BASE, change), code,
                                    field)

    def test_malformed_bodies_are_invalid_json(self):
        for method, path in (("POST", "/byok"), ("DELETE", "/byok"), ("POST", "/byok/config")):
            for raw in ("", "not json", "[]", '"openai"', "{"):
                with self.subTest(method=method, path=path, raw=raw):
                    before = self.state()
                    r = self.api(method, path, raw_body=raw)
                    self.assertError(r, 400, "invalid_json")
                    self.assertEqual(self.state(), before)

    def test_limits_are_inclusive(self):
        keys = self.set_key("openai", "k" * 4096)
        self.assertUuid(keys["openai_secret_id"])
        self.assertUuid(self.set_key("resend", "r")["resend_secret_id"])
        r = self.api("POST", "/byok/config", {"provider": "openai", "config": {
            "base_url": "https://" + "a" * 2040}})
        self.assertStatus(r, 200)


class TestByokOrganizationIsolation(ByokTestCase):
    def test_an_organization_sees_and_changes_only_its_own_keys(self):
        a_id = self.set_key("openai", "sk-org-a-key")["openai_secret_id"]
        self.assertStatus(self.api("POST", "/byok/config",
                                   {"provider": "openai", "config": {"owner": "a"}}), 200)
        key_b = self.srv.key_b
        self.assertTrue(all(v is None for v in self.keys(key=key_b).values()))
        self.assertEqual(self.config_state(key=key_b)["byok_config"], {})
        self.assertFalse(any(p["configured"] for p in self.config_state(key=key_b)["providers"]))
        self.assertError(self.api("DELETE", "/byok", {"provider": "openai"}, key=key_b), 404,
                         "not_found", field="provider")
        self.assertError(self.api("POST", "/byok/config",
                                  {"provider": "openai", "config": {"owner": "b"}}, key=key_b),
                         404, "not_found", field="provider")
        # B stores its own key for the same provider: A's is untouched, and vice versa.
        b_id = self.set_key("openai", "sk-org-b-key", key=key_b)["openai_secret_id"]
        self.assertNotEqual(a_id, b_id)
        self.assertEqual(self.keys()["openai_secret_id"], a_id)
        self.assertEqual(self.config_state()["byok_config"], {"openai": {"owner": "a"}})
        self.assertEqual(self.config_state(key=key_b)["byok_config"], {"openai": {}})
        self.assertStatus(self.api("DELETE", "/byok", {"provider": "openai"}, key=key_b), 200)
        self.assertEqual(self.keys()["openai_secret_id"], a_id)
        self.assertIsNone(self.keys(key=key_b)["openai_secret_id"])


class TestByokPersistenceAndSecrecy(ServerTestCase):
    """Keys survive a restart; their bytes are never in a response, a log line or a file."""

    KEYS = {"openai": "sk-proj-Byok0penAiKey-7d1e4b9a2c",
            "deepgram": "dg-ByokDeepgramKey-55aa0f13e7",
            "openai_compatible": "local-ByokVllmToken-0c9d8e7f"}
    ROTATED = ("openai", "sk-proj-Byok0penAiRotated-93b1c2d4")
    DELETED = ("groq", "gsk_ByokGroqDeletedKey-1f2e3d4c")
    REJECTED = "sk-ByokRejectedKey-with-newline-aa11\n"

    def test_keys_persist_and_never_leak(self):
        srv = self.srv
        secrets = dict(self.KEYS)
        secrets["rotated"] = self.ROTATED[1]
        secrets["deleted"] = self.DELETED[1]
        secrets["rejected"] = self.REJECTED.strip()

        for provider, api_key in self.KEYS.items():
            self.assertStatus(self.api("POST", "/byok", {"provider": provider, "api_key": api_key}),
                              200)
        self.assertStatus(self.api("POST", "/byok", {"provider": self.ROTATED[0],
                                                     "api_key": self.ROTATED[1]}), 200)
        self.assertStatus(self.api("POST", "/byok", {"provider": self.DELETED[0],
                                                     "api_key": self.DELETED[1]}), 200)
        self.assertStatus(self.api("DELETE", "/byok", {"provider": self.DELETED[0]}), 200)
        self.assertStatus(self.api("POST", "/byok", {"provider": "xai",
                                                     "api_key": self.REJECTED}), 400)
        self.assertStatus(self.api("POST", "/byok", {"provider": "not-a-provider",
                                                     "api_key": self.KEYS["deepgram"]}), 400)
        self.assertStatus(self.api("POST", "/byok/config", {
            "provider": "openai_compatible", "config": {"base_url": "http://127.0.0.1:8000/v1"}}),
            200)
        before = self.api("GET", "/byok").body
        config_before = self.api("GET", "/byok/config").body

        # Persisted across a restart, unchanged.
        srv.restart()
        self.assertEqual(self.api("GET", "/byok").body, before)
        self.assertEqual(self.api("GET", "/byok/config").body, config_before)
        self.assertIsNone(before["byok_keys"]["groq_secret_id"])
        self.assertIsNone(before["byok_keys"]["xai_secret_id"])

        for i, raw in enumerate(srv.responses):
            for name, secret in secrets.items():
                for variant, needle in secret_variants(secret).items():
                    self.assertNotIn(needle, raw,
                                     f"{name} key ({variant}) in response #{i}: {raw[:300]!r}")
            # (An error may name the field, `"field":"api_key"`, but no member carries a value.)
            self.assertNotIn(b'"api_key":', raw, f"response #{i} has an api_key: {raw[:300]!r}")
            self.assertNotIn(b"tlsb1:", raw, f"response #{i} has a sealed value: {raw[:300]!r}")

        self.assertNoKeysInDataDir(secrets, "while running")
        srv.stop()
        self.assertNoKeysInDataDir(secrets, "after shutdown")
        log = srv.log_text().encode()
        self.assertTrue(log)
        for name, secret in secrets.items():
            for variant, needle in secret_variants(secret).items():
                self.assertNotIn(needle, log, f"{name} key ({variant}) in the server log")

        # What is stored is the sealed form, one row per provider that has a key.
        db = sqlite3.connect(srv.db_path)
        try:
            rows = dict(db.execute("SELECT provider, key_sealed FROM byok_keys"))
        finally:
            db.close()
        self.assertEqual(set(rows), {"openai", "deepgram", "openai_compatible"})
        for provider, sealed in rows.items():
            self.assertTrue(sealed.startswith("tlsb1:"), f"{provider}: {sealed[:20]!r}")

    def assertNoKeysInDataDir(self, secrets, when):
        files = []
        for root, _, names in os.walk(self.srv.data_dir):
            files += [os.path.join(root, n) for n in names]
        self.assertTrue(any(os.path.basename(f) == "trunkline.db" for f in files), files)
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            for name, secret in secrets.items():
                for variant, needle in secret_variants(secret).items():
                    self.assertNotIn(needle, data,
                                     f"{name} key ({variant}) in {os.path.basename(path)} {when}")


if __name__ == "__main__":
    unittest.main()
