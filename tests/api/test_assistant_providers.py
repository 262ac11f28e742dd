"""Assistant providers (docs/api.md "Providers and warnings"): stt_config, llm_config and
tts_config name a provider the conversation runtime can run, or the write is 400
`unsupported_provider` naming the field, listing the valid values and the closest one; a network
provider that no key reaches is accepted with a top-level `warnings` sentence naming the slot,
computed again on every GET (so storing a key makes it disappear).
"""

import unittest

from harness import ServerTestCase

DEST = "+31612345678"
RUNTIME = {
    "stt_config": ["pocketsphinx", "openai", "mistral", "xai", "groq", "openai_compatible"],
    "llm_config": ["scripted", "openai", "mistral", "xai", "groq", "openai_compatible"],
    "tts_config": ["espeak-ng", "espeak", "openai", "mistral", "xai", "groq", "openai_compatible"],
}
HMS_ONLY = {
    "stt_config": ["deepgram", "elevenlabs", "gladia", "google"],
    "tts_config": ["elevenlabs", "11labs", "inworld", "google"],
}
NETWORK = ("openai", "mistral", "xai", "groq", "openai_compatible")
LOCAL = "http://127.0.0.1:9/v1"  # never contacted: the API does not call providers


def slot_config(slot, provider, **extra):
    """The smallest config of `slot` that `provider` accepts."""
    config = {"provider": provider}
    if provider in NETWORK:
        config["model"] = "m"
        if slot == "tts_config":
            config["voice_id"] = "alloy"
        if provider == "openai_compatible":
            config["base_url"] = LOCAL
    if provider == "scripted":
        config["rules"] = [{"when": ["hello"], "reply": "Hi."}]
    config.update(extra)
    return config


# (slot, provider sent, suggestion expected or None)
REFUSED = [
    ("llm_config", "OpenAI", "openai"),
    ("llm_config", "OPENAI", "openai"),
    ("llm_config", "opena1", "openai"),
    ("llm_config", "open-ai", "openai"),
    ("llm_config", "Scripted", "scripted"),
    ("llm_config", "grok", "groq"),
    ("llm_config", "openai-compatible", "openai_compatible"),
    ("llm_config", "anthropic", None),
    ("llm_config", "google", None),  # an HMS language model Trunkline does not run
    ("llm_config", "deepgram", None),
    ("stt_config", "OpenAI", "openai"),
    ("stt_config", "Deepgram", "deepgram"),
    ("stt_config", "pocketsfinx", "pocketsphinx"),
    ("stt_config", "anthropic", None),
    ("stt_config", "whisper", None),
    ("tts_config", "OpenAI", "openai"),
    ("tts_config", "espeak_ng", "espeak-ng"),
    ("tts_config", "ElevenLabs", "elevenlabs"),
    ("tts_config", "anthropic", None),
]


class ProvidersTestCase(ServerTestCase):
    def setUp(self):
        # Each test starts with no BYOK keys in organization A.
        r = self.api("GET", "/byok")
        self.assertStatus(r, 200)
        for name, value in r.body["byok_keys"].items():
            if value is not None:
                self.assertStatus(self.api("DELETE", "/byok",
                                           {"provider": name[: -len("_secret_id")]}), 200)

    def created(self, body, msg=""):
        r = self.api("POST", "/assistants", {"name": "Providers", **body})
        self.assertStatus(r, 201, msg)
        self.assertKeys(r.body, {"assistant", "warnings"}, msg=msg)
        self.assertIsInstance(r.body["warnings"], list, msg)
        self.assertEqual(r.body["assistant"]["warnings"], r.body["warnings"], msg)
        return r.body["assistant"], r.body["warnings"]

    def warnings_of(self, assistant_id):
        r = self.api("GET", f"/assistants/{assistant_id}")
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"assistant", "warnings"})
        return r.body["warnings"]

    def assertRefused(self, resp, slot, provider, suggestion, prefix=""):
        body = self.assertError(resp, 400, "unsupported_provider", field=f"{prefix}{slot}.provider")
        message = body["message"]
        self.assertIn(f"'{provider}'", message)
        for valid in RUNTIME[slot]:
            self.assertIn(valid, message, "the message lists the valid values")
        if suggestion:
            self.assertIn(f"did you mean '{suggestion}'?", message)
        else:
            self.assertNotIn("did you mean", message)
        return body

    def assertKeyWarning(self, warnings, slot, provider):
        matching = [w for w in warnings if w.startswith(f"{slot}: provider {provider} ")]
        self.assertEqual(len(matching), 1, f"no {slot} warning for {provider} in {warnings}")
        w = matching[0]
        self.assertIn("no API key", w)
        self.assertIn("/api/v1/byok", w)
        self.assertIn(f"TRUNKLINE_{provider.upper()}_API_KEY", w)


class TestProviderValidation(ProvidersTestCase):
    def test_unknown_and_mistyped_providers_are_refused_on_create(self):
        for slot, provider, suggestion in REFUSED:
            with self.subTest(slot=slot, provider=provider):
                r = self.api("POST", "/assistants",
                             {"name": "Typo", slot: slot_config(slot, provider)})
                self.assertRefused(r, slot, provider, suggestion)
        names = [a["name"] for a in self.api("GET", "/assistants").body["assistants"]]
        self.assertNotIn("Typo", names, "a refused create stored nothing")

    def test_unknown_and_mistyped_providers_are_refused_on_patch(self):
        a, _ = self.created({"llm_config": slot_config("llm_config", "scripted")})
        before = self.api("GET", f"/assistants/{a['id']}").body
        for slot, provider, suggestion in REFUSED:
            with self.subTest(slot=slot, provider=provider):
                r = self.api("PATCH", f"/assistants/{a['id']}", {slot: slot_config(slot, provider)})
                self.assertRefused(r, slot, provider, suggestion)
        self.assertEqual(self.api("GET", f"/assistants/{a['id']}").body, before,
                         "refused PATCHes changed nothing")

    def test_the_message_of_openai_in_capitals(self):
        r = self.api("POST", "/assistants", {"name": "Caps", "llm_config": {
            "provider": "OpenAI", "model": "gpt-4o-mini"}})
        body = self.assertRefused(r, "llm_config", "OpenAI", "openai")
        self.assertEqual(body["error"], "Unsupported provider")

    def test_wrong_types_stay_invalid_request(self):
        for slot in RUNTIME:
            for value in (42, "", ["openai"]):
                with self.subTest(slot=slot, value=value):
                    r = self.api("POST", "/assistants", {"name": "x", slot: {"provider": value}})
                    self.assertError(r, 400, "invalid_request", field=f"{slot}.provider")

    def test_every_runtime_provider_is_accepted_in_its_slot(self):
        for slot, providers in RUNTIME.items():
            for provider in providers:
                with self.subTest(slot=slot, provider=provider):
                    a, _ = self.created({slot: slot_config(slot, provider)})
                    self.assertEqual(a[slot]["provider"], provider)

    def test_hms_names_are_accepted_with_a_warning_saying_who_stands_in(self):
        stand_in = {"stt_config": "pocketsphinx", "tts_config": "espeak-ng"}
        for slot, providers in HMS_ONLY.items():
            for provider in providers:
                with self.subTest(slot=slot, provider=provider):
                    a, warnings = self.created({slot: {"provider": provider}})
                    self.assertEqual(len(warnings), 1, warnings)
                    self.assertTrue(warnings[0].startswith(f"{slot}: provider {provider} "),
                                    warnings)
                    self.assertIn(stand_in[slot], warnings[0])
                    self.assertEqual(self.warnings_of(a["id"]), warnings)

    def test_network_recognisers_and_voices_check_their_own_fields(self):
        cases = [
            ("stt_config", {"provider": "openai"}, "missing_field", "stt_config.model"),
            ("tts_config", {"provider": "openai", "model": "tts-1"}, "missing_field",
             "tts_config.voice_id"),
            ("stt_config", {"provider": "openai_compatible", "model": "m"}, "missing_field",
             "stt_config.base_url"),
            ("tts_config", {"provider": "groq", "model": "m", "voice_id": "v",
                            "response_format": "mp3"}, "invalid_request",
             "tts_config.response_format"),
        ]
        for slot, config, code, field in cases:
            with self.subTest(config=config):
                self.assertError(self.api("POST", "/assistants", {"name": "x", slot: config}),
                                 400, code, field=field)

    def test_transient_outbound_assistant_is_checked_like_a_stored_one(self):
        for slot, provider, suggestion in REFUSED[:2] + REFUSED[-2:]:
            with self.subTest(slot=slot, provider=provider):
                assistant = {"llm_config": slot_config("llm_config", "scripted")}
                assistant[slot] = slot_config(slot, provider)
                r = self.api("POST", "/calls/outbound",
                             {"destination": DEST, "assistant": assistant})
                self.assertRefused(r, slot, provider, suggestion, prefix="assistant.")


class TestProviderWarnings(ProvidersTestCase):
    def test_nothing_to_say_is_an_empty_array(self):
        for body in ({}, {"llm_config": slot_config("llm_config", "scripted"),
                          "stt_config": {"provider": "pocketsphinx", "language": "en"},
                          "tts_config": {"provider": "espeak-ng"}}):
            with self.subTest(body=body):
                a, warnings = self.created(body)
                self.assertEqual(warnings, [])
                self.assertEqual(self.warnings_of(a["id"]), [])

    def test_keyless_llm_warns_until_a_byok_key_is_stored(self):
        a, warnings = self.created({"llm_config": slot_config("llm_config", "openai")})
        self.assertEqual(len(warnings), 1, warnings)
        self.assertKeyWarning(warnings, "llm_config", "openai")
        self.assertEqual(self.warnings_of(a["id"]), warnings)

        self.assertStatus(self.api("POST", "/byok", {"provider": "openai",
                                                     "api_key": "sk-providers-test-1"}), 200)
        self.assertEqual(self.warnings_of(a["id"]), [], "the stored key reaches the provider")
        # Another organization's key does not count.
        r = self.api("GET", f"/assistants/{a['id']}")
        self.assertNotIn(b"sk-providers-test-1", r.raw)
        b = self.srv.create("assistants", {"name": "B", "llm_config": slot_config(
            "llm_config", "openai")}, key=self.srv.key_b)
        self.assertKeyWarning(self.api("GET", f"/assistants/{b['id']}", key=self.srv.key_b)
                              .body["warnings"], "llm_config", "openai")

        self.assertStatus(self.api("DELETE", "/byok", {"provider": "openai"}), 200)
        self.assertKeyWarning(self.warnings_of(a["id"]), "llm_config", "openai")

    def test_every_slot_is_named(self):
        a, warnings = self.created({
            "stt_config": slot_config("stt_config", "groq"),
            "llm_config": slot_config("llm_config", "mistral"),
            "tts_config": slot_config("tts_config", "xai"),
        })
        self.assertEqual(len(warnings), 3, warnings)
        self.assertKeyWarning(warnings, "stt_config", "groq")
        self.assertKeyWarning(warnings, "llm_config", "mistral")
        self.assertKeyWarning(warnings, "tts_config", "xai")
        self.assertStatus(self.api("POST", "/byok", {"provider": "groq", "api_key": "gsk-1"}), 200)
        after = self.warnings_of(a["id"])
        self.assertEqual(len(after), 2, after)
        self.assertFalse(any(w.startswith("stt_config:") for w in after), after)

    def test_base_url_needs_no_key(self):
        for slot in RUNTIME:
            with self.subTest(slot=slot):
                a, warnings = self.created({slot: slot_config(slot, "openai", base_url=LOCAL)})
                self.assertEqual(warnings, [])
                self.assertEqual(self.warnings_of(a["id"]), [])
        _, warnings = self.created({"llm_config": slot_config("llm_config", "openai_compatible")})
        self.assertEqual(warnings, [])

    def test_patch_answers_with_the_warnings_of_the_result(self):
        a, _ = self.created({"llm_config": slot_config("llm_config", "scripted")})
        r = self.api("PATCH", f"/assistants/{a['id']}",
                     {"tts_config": slot_config("tts_config", "openai")})
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"assistant", "warnings"})
        self.assertKeyWarning(r.body["warnings"], "tts_config", "openai")
        r = self.api("PATCH", f"/assistants/{a['id']}", {"name": "Renamed"})
        self.assertStatus(r, 200)
        self.assertKeyWarning(r.body["warnings"], "tts_config", "openai")
        r = self.api("PATCH", f"/assistants/{a['id']}", {"tts_config": None})
        self.assertEqual(r.body["warnings"], [])

    def test_list_is_unchanged(self):
        self.created({"llm_config": slot_config("llm_config", "openai")})
        r = self.api("GET", "/assistants")
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"assistants"})


class TestDeploymentKey(ProvidersTestCase):
    """The server's own TRUNKLINE_<PROVIDER>_API_KEY reaches every organization's calls."""

    DEPLOYMENT_KEY = "sk-deployment-key-for-providers-test"
    server_kwargs = {"env": {"TRUNKLINE_OPENAI_API_KEY": DEPLOYMENT_KEY}}

    def test_environment_key_silences_the_warning_for_its_provider_only(self):
        a, warnings = self.created({"llm_config": slot_config("llm_config", "openai"),
                                    "tts_config": slot_config("tts_config", "openai")})
        self.assertEqual(warnings, [])
        r = self.api("GET", f"/assistants/{a['id']}")
        self.assertEqual(r.body["warnings"], [])
        self.assertNotIn(self.DEPLOYMENT_KEY.encode(), r.raw)
        _, warnings = self.created({"llm_config": slot_config("llm_config", "groq")})
        self.assertKeyWarning(warnings, "llm_config", "groq")



class TestWordsTheRecogniserCannotHear(ProvidersTestCase):
    """Words of scripted rules outside the embedded recogniser's dictionary are named when the
    assistant is saved (docs/listening.md "Words it cannot hear")."""

    RULES = {"provider": "scripted",
             "rules": [{"when": ["acmecorp", "sales", "zyxwv please", "1"], "reply": "Ok."}]}

    def test_unknown_words_are_named_on_create_update_and_get(self):
        assistant, warnings = self.created({"llm_config": self.RULES})
        words = [w for w in warnings if "embedded recogniser" in w]
        self.assertEqual(len(words), 1, warnings)
        self.assertIn("'acmecorp'", words[0])
        self.assertIn("'zyxwv'", words[0])
        self.assertNotIn("'sales'", words[0], "a dictionary word is not named")
        self.assertNotIn("'1'", words[0], "a digit is a key press")
        self.assertIn("llm_config.rules", words[0])
        self.assertEqual(self.warnings_of(assistant["id"]), warnings)
        r = self.api("PATCH", f"/assistants/{assistant['id']}", {"llm_config": {
            "provider": "scripted", "rules": [{"when": ["sales"], "reply": "Ok."}]}})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["warnings"], [])
        self.assertEqual(r.body["assistant"]["warnings"], [])

    def test_an_open_vocabulary_recogniser_hears_any_word(self):
        _, warnings = self.created({
            "llm_config": self.RULES,
            "stt_config": {"provider": "openai_compatible", "model": "whisper",
                           "base_url": "http://127.0.0.1:9/v1"}})
        self.assertEqual([w for w in warnings if "embedded recogniser" in w], [], warnings)


if __name__ == "__main__":
    unittest.main()
