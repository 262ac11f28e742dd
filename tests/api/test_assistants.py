"""Assistants: /api/v1/assistants happy paths, tools (transfer_call, end_call, function tools)."""

import copy
import unittest

from harness import ServerTestCase, new_uuid

TRANSFER_TOOL = {
    "type": "transfer_call",
    "destinations": [
        {"type": "number", "number": "+31612345678",
         "description": "Sales team - for pricing and quotes",
         "message": "I'm transferring you to our sales team, one moment please."},
        {"type": "sip", "sip_uri": "sip:support@pbx.example.com", "username": "xfer-user",
         "password": "dest-password-1", "description": "Office PBX support queue"},
        {"type": "sip", "sip_uri": "sips:billing@pbx.example.com:5061",
         "description": "Billing over TLS", "message": "Transferring you to billing."},
    ],
}

FULL_ASSISTANT = {
    "name": "Support Assistant",
    "first_message": "Welcome to Acme support, how can I help you?",
    "is_active": True,
    "max_duration_seconds": 600,
    "autonomous_silence_handling": True,
    "silence_timeout_seconds": 10,
    "voicemail_detection": False,
    "voicemail_message": "Please call us back.",
    "gdpr_mode": True,
    "business_name": "Acme B.V.",
    "notification_email": "ops@acme.example",
    "notification_emails": ["ops@acme.example", "lead@acme.example"],
    "recording_consent": {"enabled": True, "message": "Press 1 to agree to recording."},
    "webhook_url": "https://hooks.acme.example/trunkline",
    "webhook_secret": "whsec-assistant-secret",
    "webhook_events": ["status-update", "end-of-call-report"],
    "analysis_plan": {"structured_data_plan": {"enabled": True,
                                               "schema": {"type": "object",
                                                          "properties": {"ok": {"type": "boolean"}}}},
                      "min_messages_threshold": 2},
    "stt_config": {"provider": "deepgram", "model": "nova-3", "language": "nl"},
    "llm_config": {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "temperature": 0.5,
        "messages": [{"role": "system", "content": "You are a support agent for Acme."}],
        "tools": [
            TRANSFER_TOOL,
            {"type": "end_call"},
            {"type": "function",
             "function": {"name": "lookup_order", "description": "Finds an order",
                          "parameters": {"type": "object",
                                         "properties": {"order_id": {"type": "string"}}}},
             "server": {"url": "https://tools.acme.example/lookup"}},
            {"name": "check_stock", "description": "Checks stock", "url":
             "https://tools.acme.example/stock", "async": False, "message": "One moment."},
        ],
    },
    "tts_config": {"provider": "elevenlabs", "voice_id": "voice-123", "stability": 0.5},
    "speech_config": {"end_call_message": "Goodbye!"},
    "metadata": {"team": "support", "tier": 2},
}


def without_secrets(assistant_body):
    """The request body minus what is never echoed (webhook_secret, destination passwords)."""
    body = copy.deepcopy(assistant_body)
    body.pop("webhook_secret", None)
    for tool in body.get("llm_config", {}).get("tools", []):
        for dest in tool.get("destinations", []):
            dest.pop("password", None)
    return body


class AssistantTestCase(ServerTestCase):
    def assertAssistantResponse(self, resp, status):
        self.assertStatus(resp, status)
        # `warnings` beside the assistant: what a call would lack (test_assistant_providers.py).
        self.assertKeys(resp.body, {"assistant", "warnings"})
        self.assertIsInstance(resp.body["warnings"], list)
        a = resp.body["assistant"]
        for k in ("id", "name", "created_at", "updated_at"):
            self.assertIn(k, a)
        self.assertUuid(a["id"])
        self.assertTimestamp(a["created_at"])
        self.assertTimestamp(a["updated_at"])
        self.assertNotIn("webhook_secret", a)
        for tool in (a.get("llm_config") or {}).get("tools") or []:
            for dest in tool.get("destinations") or []:
                self.assertNotIn("password", dest)
        return a


class TestAssistantCrud(AssistantTestCase):
    def test_create_minimal(self):
        a = self.assertAssistantResponse(self.api("POST", "/assistants", {"name": "Minimal"}), 201)
        self.assertEqual(a["name"], "Minimal")
        self.assertFalse(a.get("has_webhook_secret"), "no webhook secret was set")

    def test_create_full_round_trips_every_field(self):
        a = self.assertAssistantResponse(self.api("POST", "/assistants", FULL_ASSISTANT), 201)
        self.assertSubset(without_secrets(FULL_ASSISTANT), a)
        self.assertIs(a.get("has_webhook_secret"), True)
        dests = a["llm_config"]["tools"][0]["destinations"]
        self.assertIs(dests[1].get("has_password"), True)
        self.assertFalse(dests[0].get("has_password"), "number destination has no password")
        self.assertFalse(dests[2].get("has_password"), "sip destination without password")
        self.assertEqual(self.assertAssistantResponse(
            self.api("GET", f"/assistants/{a['id']}"), 200), a)

    def test_voicemail_detection_needs_llm_config(self):
        # It runs in the conversation: without llm_config it would be accepted and never done.
        r = self.api("POST", "/assistants", {"name": "VM", "voicemail_detection": True})
        self.assertStatus(r, 400)
        self.assertEqual((r.body["code"], r.body["field"]), ("invalid_request", "voicemail_detection"))
        self.assertIn("llm_config", r.body["message"])
        scripted = {"provider": "scripted", "rules": [{"when": ["hello"], "reply": "Hi"}]}
        a = self.assertAssistantResponse(self.api("POST", "/assistants", {
            "name": "VM", "voicemail_detection": True, "llm_config": scripted}), 201)
        # Taking llm_config away later is refused the same way, and changes nothing.
        r = self.api("PATCH", f"/assistants/{a['id']}", {"llm_config": None})
        self.assertStatus(r, 400)
        self.assertEqual(r.body["field"], "voicemail_detection")
        self.assertEqual(self.api("GET", f"/assistants/{a['id']}").body["assistant"]["llm_config"]
                         ["provider"], "scripted")
        self.assertAssistantResponse(self.api("PATCH", f"/assistants/{a['id']}", {
            "llm_config": None, "voicemail_detection": False}), 200)

    def test_fallback_is_validated_against_the_transfer_destinations(self):
        # What a provider failure mid-call leads to (docs/conversation.md): absent is null.
        a = self.assertAssistantResponse(self.api("POST", "/assistants", {"name": "F"}), 201)
        self.assertIsNone(a["fallback"])
        tools = {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "number", "number": "+31201234567", "description": "Reception"}]}]}
        for fallback in ({"action": "transfer", "destination": 0},
                         {"action": "transfer", "destination": "reception"},
                         {"action": "transfer", "destination": "+31209999999"},
                         {"action": "transfer", "destination": "sip:desk@pbx.example.com"},
                         {"action": "transfer"},
                         {"action": "end_call", "message": "Please call back later."},
                         {"action": "end_call"}):
            with self.subTest(fallback=fallback):
                a = self.assertAssistantResponse(self.api("POST", "/assistants", {
                    "name": "F", "llm_config": tools, "fallback": fallback}), 201)
                self.assertEqual(a["fallback"], fallback)
        for fallback, field in ((["transfer"], "fallback"),
                                ({"action": "wait"}, "fallback.action"),
                                ({"destination": 0}, "fallback.action"),
                                ({"action": "transfer", "destination": 1}, "fallback.destination"),
                                ({"action": "transfer", "destination": "sales"},
                                 "fallback.destination"),
                                ({"action": "transfer", "destination": 1.5},
                                 "fallback.destination"),
                                ({"action": "transfer", "message": "hi"}, "fallback.message"),
                                ({"action": "end_call", "destination": 0}, "fallback.destination"),
                                ({"action": "end_call", "message": 7}, "fallback.message"),
                                ({"action": "end_call", "colour": "red"}, "fallback.colour")):
            with self.subTest(fallback=fallback):
                self.assertError(self.api("POST", "/assistants", {
                    "name": "F", "llm_config": tools, "fallback": fallback}), 400,
                    "invalid_request", field=field)
        # Without transfer destinations a transfer fallback needs one of its own.
        self.assertError(self.api("POST", "/assistants", {
            "name": "F", "fallback": {"action": "transfer"}}), 400, "invalid_request",
            field="fallback.destination")
        # Taking away the destination a fallback names is refused, and changes nothing.
        a = self.assertAssistantResponse(self.api("POST", "/assistants", {
            "name": "F", "llm_config": tools,
            "fallback": {"action": "transfer", "destination": "Reception"}}), 201)
        self.assertError(self.api("PATCH", f"/assistants/{a['id']}", {"llm_config": None}), 400,
                         "invalid_request", field="fallback.destination")
        self.assertEqual(self.api("GET", f"/assistants/{a['id']}").body["assistant"]["fallback"],
                         {"action": "transfer", "destination": "Reception"})
        a = self.assertAssistantResponse(self.api("PATCH", f"/assistants/{a['id']}", {
            "llm_config": None, "fallback": None}), 200)
        self.assertIsNone(a["fallback"])

    def test_transfer_and_end_call_tools_from_the_seed_guide(self):
        body = {
            "name": "Support Assistant",
            "first_message": "Welcome to Acme support, how can I help you?",
            "llm_config": {
                "provider": "openai", "model": "gpt-4o-mini",
                "messages": [{"role": "system", "content": "Transfer only if asked."}],
                "tools": [
                    {"type": "transfer_call", "destinations": [
                        {"type": "number", "number": "+31612345678",
                         "description": "Human support assistant",
                         "message": "Ik verbind u door met een collega."}]},
                    {"type": "end_call"},
                ],
            },
        }
        a = self.assertAssistantResponse(self.api("POST", "/assistants", body), 201)
        self.assertSubset(body, a)

    def test_patch_adds_transfer_tool_like_the_seed_guide(self):
        a = self.srv.create("assistants", {"name": "Patch me", "first_message": "Hi"})
        change = {"llm_config": {"tools": [{"type": "transfer_call", "destinations": [
            {"type": "number", "number": "+31687654321",
             "description": "Technical support", "message": "Transferring to support."},
            {"type": "number", "number": "+31698765432",
             "description": "Billing department"}]}]}}
        patched = self.assertAssistantResponse(
            self.api("PATCH", f"/assistants/{a['id']}", change), 200)
        self.assertSubset(change, patched)
        self.assertEqual(patched["name"], "Patch me", "PATCH is partial")
        self.assertEqual(patched["first_message"], "Hi")
        self.assertEqual(patched["created_at"], a["created_at"])
        self.assertGreaterEqual(patched["updated_at"], a["updated_at"])
        self.assertEqual(self.api("GET", f"/assistants/{a['id']}").body["assistant"], patched)

    def test_patch_fields_and_nulls(self):
        a = self.srv.create("assistants", FULL_ASSISTANT)
        patched = self.assertAssistantResponse(self.api(
            "PATCH", f"/assistants/{a['id']}",
            {"name": "Renamed", "first_message": None, "is_active": False,
             "webhook_secret": None, "metadata": {"team": "sales"}}), 200)
        self.assertEqual(patched["name"], "Renamed")
        self.assertIsNone(patched.get("first_message"))
        self.assertIs(patched["is_active"], False)
        self.assertFalse(patched.get("has_webhook_secret"), "webhook_secret cleared")
        self.assertEqual(patched["metadata"], {"team": "sales"})
        self.assertEqual(patched["business_name"], FULL_ASSISTANT["business_name"])

    def test_patch_sets_webhook_secret(self):
        a = self.srv.create("assistants", {"name": "Secretless"})
        patched = self.assertAssistantResponse(self.api(
            "PATCH", f"/assistants/{a['id']}", {"webhook_secret": "new-secret-value"}), 200)
        self.assertIs(patched.get("has_webhook_secret"), True)

    def test_list(self):
        a = self.srv.create("assistants", {"name": "Listed 1"})
        b = self.srv.create("assistants", FULL_ASSISTANT)
        r = self.api("GET", "/assistants")
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"assistants"})
        by_id = {x["id"]: x for x in r.body["assistants"]}
        # One assistant carries its `warnings` inside it; the list carries none.
        self.assertEqual(a["warnings"], [])
        without_warnings = lambda x: {k: v for k, v in x.items() if k != "warnings"}
        self.assertEqual(by_id[a["id"]], without_warnings(a))
        self.assertEqual(by_id[b["id"]], without_warnings(b))
        self.assertNotIn(b"whsec-assistant-secret", r.raw)
        self.assertNotIn(b"dest-password-1", r.raw)

    def test_delete_unassigns_numbers(self):
        a = self.srv.create("assistants", {"name": "Doomed"})
        n = self.srv.create("numbers", {"phone_number": "+31850000401", "assistant_id": a["id"]})
        r = self.api("DELETE", f"/assistants/{a['id']}")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"success": True})
        self.assertError(self.api("GET", f"/assistants/{a['id']}"), 404, "not_found")
        self.assertError(self.api("DELETE", f"/assistants/{a['id']}"), 404, "not_found")
        number = self.api("GET", f"/numbers/{n['id']}").body["number"]
        self.assertIsNone(number["assistant_id"])
        self.assertIsNone(number["agent_id"])

    def test_unknown_and_malformed_ids_are_404(self):
        for assistant_id in (new_uuid(), "x", "zzzzzzzz-zzzz-4zzz-8zzz-zzzzzzzzzzzz"):
            for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
                with self.subTest(method=method, id=assistant_id):
                    self.assertError(self.api(method, f"/assistants/{assistant_id}", body), 404,
                                     "not_found")

    def test_tool_shapes_accepted(self):
        tools = [
            [{"type": "end_call"}],
            [{"type": "transfer_call", "destinations": [
                {"type": "sip", "sip_uri": "sip:100@10.0.0.1", "description": "Ext 100"}]}],
            [{"name": "get_weather", "description": "Weather for a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
              "server": {"url": "https://tools.example/weather", "secret": "tool-secret"}}],
            [{"type": "function", "function": {"name": "_private_tool"}}],
        ]
        for i, t in enumerate(tools):
            with self.subTest(i=i):
                r = self.api("POST", "/assistants",
                             {"name": f"tools {i}", "llm_config": {"provider": "openai",
                                                                   "model": "gpt-4o-mini",
                                                                   "tools": t}})
                self.assertAssistantResponse(r, 201)
                self.assertEqual(len(r.body["assistant"]["llm_config"]["tools"]), 1)


if __name__ == "__main__":
    unittest.main()
