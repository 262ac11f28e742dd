"""Outbound calls: POST /api/v1/calls/outbound (api-contract.md §4.3, issue 7) and the outbound
fields of SIP trunks (from_user, auth_username, send_pai, max_concurrent_calls,
max_calls_per_second).

The API resolves the request (assistant, trunk, caller-ID number) and hands it to the call engine.
Until the engine places outbound calls it answers 501 `not_implemented`; a well-formed request is
therefore asserted as either 200 `{success: true, call_id, status: "dialing"}` or 501
`not_implemented`, so these tests hold before and after the engine lands. Every refused request
names the field to blame and leaves nothing behind (no call appears in GET /calls).
"""

import time
import unittest

from harness import ServerTestCase, new_uuid

DEST = "+31612345678"
LLM = {"provider": "openai", "model": "gpt-4o-mini"}
DEL = object()  # "remove this key from the base body"

# Trunks point at the discard port of the loopback address: once the engine dials, a call fails
# fast there instead of reaching anyone.
TRUNK = {"name": "Carrier", "host": "127.0.0.1", "port": 9, "auth_type": "ip",
         "caller_id": "+31850835037"}
OUTBOUND_FIELDS = ("from_user", "auth_username", "send_pai", "max_concurrent_calls",
                   "max_calls_per_second")


def apply(base, change):
    body = dict(base)
    for k, v in change.items():
        if v is DEL:
            body.pop(k, None)
        else:
            body[k] = v
    return body


class OutboundTestCase(ServerTestCase):
    def dial(self, body, **kw):
        return self.api("POST", "/calls/outbound", body, **kw)

    def assertDialAccepted(self, resp, msg=""):
        """200 {success, call_id, status: dialing} once the engine dials; 501 until then."""
        self.assertIn(resp.status, (200, 501), f"{msg} {resp!r}")
        if resp.status == 200:
            self.assertKeys(resp.body, {"success", "call_id", "status"}, optional={"room_name"},
                            msg=msg)
            self.assertIs(resp.body["success"], True, msg)
            self.assertEqual(resp.body["status"], "dialing", msg)
            self.assertIsInstance(resp.body["call_id"], str, msg)
            self.assertTrue(resp.body["call_id"], msg)
        else:
            self.assertError(resp, 501, "not_implemented", msg=msg)

    def call_count(self, key=None):
        r = self.api("GET", "/calls?limit=1", **({} if key is None else {"key": key}))
        self.assertStatus(r, 200)
        return r.body["pagination"]["total"]

    def assertRefused(self, body, status, code, field, contains=None, key=None):
        kw = {} if key is None else {"key": key}
        before = self.call_count(key)
        r = self.dial(body, **kw)
        err = self.assertError(r, status, code, field=field, msg=repr(body))
        if contains is not None:
            self.assertIn(contains, err["message"], repr(body))
        self.assertEqual(self.call_count(key), before, f"refused request left a call: {body!r}")
        return err


class TestOutboundCalls(OutboundTestCase):
    """Organization A has one active outbound trunk (plus an inactive and an inbound-only one,
    which do not count), an active and an inactive assistant, and numbers with and without a
    trunk. Organization B has its own assistant, trunk and number."""

    @classmethod
    def setUpServer(cls):
        srv = cls.server
        cls.trunk = srv.create("sip-trunks", TRUNK)
        cls.inactive_trunk = srv.create("sip-trunks", {**TRUNK, "name": "Off",
                                                       "is_active": False})
        cls.inbound_trunk = srv.create("sip-trunks", {
            "name": "In only", "direction": "inbound", "auth_type": "ip",
            "allowed_addresses": ["203.0.113.0/24"]})
        cls.assistant = srv.create("assistants", {
            "name": "Caller", "first_message": "Hello, this is Trunkline.", "llm_config": LLM,
            "webhook_url": "https://hooks.example/outbound"})
        cls.inactive_assistant = srv.create("assistants", {"name": "Sleeping", "llm_config": LLM,
                                                           "is_active": False})
        cls.number = srv.create("numbers", {"phone_number": "+31850835001",
                                            "transfer_trunk_id": cls.trunk["id"]})
        cls.bare_number = srv.create("numbers", {"phone_number": "+31850835002"})
        cls.inactive_number = srv.create("numbers", {"phone_number": "+31850835003",
                                                     "transfer_trunk_id": cls.trunk["id"],
                                                     "is_active": False})
        cls.number_on_inactive_trunk = srv.create("numbers", {
            "phone_number": "+31850835004", "transfer_trunk_id": cls.inactive_trunk["id"]})
        cls.number_on_inbound_trunk = srv.create("numbers", {
            "phone_number": "+31850835005", "transfer_trunk_id": cls.inbound_trunk["id"]})
        b = srv.key_b
        cls.b_trunk = srv.create("sip-trunks", {**TRUNK, "name": "B carrier"}, key=b)
        cls.b_assistant = srv.create("assistants", {"name": "B", "llm_config": LLM}, key=b)
        cls.b_number = srv.create("numbers", {"phone_number": "+31850835009",
                                              "transfer_trunk_id": cls.b_trunk["id"]}, key=b)

    def base(self, **change):
        return apply({"destination": DEST, "assistant_id": self.assistant["id"]}, change)

    # ------------------------------------------------------------------ accepted requests
    def test_reference_mode_uses_the_only_outbound_trunk(self):
        self.assertDialAccepted(self.dial(self.base()))

    def test_accepted_variants(self):
        a = self.assistant["id"]
        cases = {
            "agent_id alias": {"destination": DEST, "agent_id": a},
            "both aliases, equal": self.base(agent_id=a),
            "trunk_id": self.base(trunk_id=self.trunk["id"]),
            "number_id": self.base(number_id=self.number["id"]),
            "number_id without a trunk, with trunk_id": self.base(
                number_id=self.bare_number["id"], trunk_id=self.trunk["id"]),
            "first_message": self.base(first_message="Hi, calling about your order."),
            "first_message 4096": self.base(first_message="x" * 4096),
            "nulls are absent": self.base(number_id=None, trunk_id=None, first_message=None,
                                          assistant=None, assistant_override=None),
            "transient": {"destination": DEST, "assistant": {
                "name": "One-off", "first_message": "Hello", "llm_config": {
                    **LLM, "messages": [{"role": "system", "content": "Be brief."}]},
                "stt_config": {"provider": "deepgram"}, "tts_config": {"provider": "espeak"},
                "max_duration_seconds": 120, "voicemail_detection": True,
                "voicemail_message": "Please call us back.", "metadata": {"lead": 42},
                "webhook_url": "https://hooks.example/t", "webhook_events": ["status-update"]}},
            "transient, minimal": {"destination": DEST, "assistant": {"llm_config": LLM}},
            "hybrid": self.base(assistant_override={
                "first_message": "Override", "llm_config": {"temperature": 0.2},
                "metadata": {"campaign": "spring"}}),
            "hybrid, empty override": self.base(assistant_override={}),
        }
        for name, body in cases.items():
            with self.subTest(name):
                self.assertDialAccepted(self.dial(body), name)

    def test_both_direction_trunk_is_outbound_capable(self):
        both = self.srv.create("sip-trunks", {**TRUNK, "name": "Both", "direction": "both",
                                              "allowed_addresses": ["127.0.0.1"]})
        try:
            self.assertDialAccepted(self.dial(self.base(trunk_id=both["id"])))
        finally:
            self.assertStatus(self.api("DELETE", f"/sip-trunks/{both['id']}"), 200)

    def test_accepted_request_stores_nothing_before_the_engine(self):
        before = self.call_count()
        r = self.dial(self.base())
        self.assertDialAccepted(r)
        if r.status == 501:
            self.assertEqual(self.call_count(), before, "a 501 must leave no call behind")
        else:
            # The engine records the call; give it a moment.
            deadline = time.monotonic() + 5
            got = self.api("GET", f"/calls/{r.body['call_id']}")
            while got.status == 404 and time.monotonic() < deadline:
                time.sleep(0.1)
                got = self.api("GET", f"/calls/{r.body['call_id']}")
            self.assertStatus(got, 200, "the engine's call record")
            self.assertEqual(got.body["direction"], "outbound")

    # ------------------------------------------------------------------ body validation
    def test_body_validation(self):
        a = self.assistant["id"]
        phone = ("invalid_phone_number",)
        cases = [
            # destination: required, E.164
            ({"destination": DEL}, "missing_field", "destination"),
            ({"destination": None}, "missing_field", "destination"),
            ({"destination": ""}, phone, "destination"),
            ({"destination": "0612345678"}, phone, "destination"),
            ({"destination": "31612345678"}, phone, "destination"),
            ({"destination": "+0612345678"}, phone, "destination"),
            ({"destination": "+31 6 12345678"}, phone, "destination"),
            ({"destination": "tel:+31612345678"}, phone, "destination"),
            ({"destination": "sip:bob@example.com"}, phone, "destination"),
            ({"destination": "+1234567890123456"}, phone, "destination"),
            ({"destination": 31612345678}, phone, "destination"),
            # unknown fields
            ({"foo": 1}, "unknown_field", "foo"),
            ({"context": "older docs"}, "unknown_field", "context"),
            ({"room_name": "x"}, "unknown_field", "room_name"),
            # the assistant: exactly one of assistant_id / assistant
            ({"assistant_id": DEL}, "missing_field", "assistant_id"),
            ({"assistant_id": None}, "missing_field", "assistant_id"),
            ({"assistant_id": 5}, "invalid_request", "assistant_id"),
            ({"assistant_id": ""}, "invalid_request", "assistant_id"),
            ({"agent_id": 5}, "invalid_request", "agent_id"),
            ({"agent_id": new_uuid()}, "invalid_request", "agent_id"),  # differs from assistant_id
            ({"assistant": {"llm_config": LLM}}, "invalid_request", "assistant"),
            ({"assistant_id": DEL, "agent_id": a, "assistant": {"llm_config": LLM}},
             "invalid_request", "assistant"),
            ({"assistant_id": DEL, "assistant": "Sales"}, "invalid_request", "assistant"),
            ({"assistant_id": DEL, "assistant": [LLM]}, "invalid_request", "assistant"),
            ({"assistant_override": "x"}, "invalid_request", "assistant_override"),
            ({"assistant_override": []}, "invalid_request", "assistant_override"),
            ({"assistant_id": DEL, "assistant_override": {"first_message": "x"}},
             "invalid_request", "assistant_override"),
            ({"assistant_id": DEL, "assistant": {"llm_config": LLM},
              "assistant_override": {"first_message": "x"}}, "invalid_request",
             "assistant_override"),
            # optional fields
            ({"number_id": 5}, "invalid_request", "number_id"),
            ({"number_id": ""}, "invalid_request", "number_id"),
            ({"trunk_id": ["x"]}, "invalid_request", "trunk_id"),
            ({"trunk_id": ""}, "invalid_request", "trunk_id"),
            ({"first_message": ""}, "invalid_request", "first_message"),
            ({"first_message": "x" * 4097}, "invalid_request", "first_message"),
            ({"first_message": 5}, "invalid_request", "first_message"),
        ]
        for change, code, field in cases:
            with self.subTest(change=change):
                self.assertRefused(self.base(**{k: v for k, v in change.items()}), 400,
                                   code if isinstance(code, tuple) else (code,), field)

    def test_non_object_bodies(self):
        for raw in (b"", b"[]", b'"+31612345678"', b"{", b"null"):
            with self.subTest(raw=raw):
                r = self.srv.request("POST", "/api/v1/calls/outbound", raw_body=raw)
                self.assertError(r, 400, "invalid_json")

    def test_transient_assistant_validation(self):
        dest0 = "assistant.llm_config.tools[0].destinations[0]"
        cases = [
            ({}, "missing_field", "assistant.llm_config"),
            ({"name": "No brain"}, "missing_field", "assistant.llm_config"),
            ({"llm_config": None}, "missing_field", "assistant.llm_config"),
            ({"llm_config": "gpt-4o"}, "invalid_request", "assistant.llm_config"),
            ({"llm_config": LLM, "foo": 1}, "unknown_field", "assistant.foo"),
            ({"llm_config": {**LLM, "foo": 1}}, "unknown_field", "assistant.llm_config.foo"),
            ({"llm_config": {**LLM, "temperature": 3}}, "invalid_request",
             "assistant.llm_config.temperature"),
            ({"llm_config": LLM, "is_active": True}, "invalid_request", "assistant.is_active"),
            ({"llm_config": LLM, "id": new_uuid()}, "invalid_request", "assistant.id"),
            ({"llm_config": LLM, "name": ""}, "invalid_request", "assistant.name"),
            ({"llm_config": LLM, "webhook_url": "ftp://hooks.example"}, "invalid_request",
             "assistant.webhook_url"),
            ({"llm_config": LLM, "webhook_events": ["call-started"]}, "invalid_request",
             "assistant.webhook_events[0]"),
            ({"llm_config": LLM, "max_duration_seconds": 5}, "invalid_request",
             "assistant.max_duration_seconds"),
            ({"llm_config": LLM, "first_message": 7}, "invalid_request",
             "assistant.first_message"),
            ({"llm_config": {**LLM, "tools": [{"type": "transfer_call", "destinations": [
                {"type": "number", "number": "12", "description": "x"}]}]}},
             ("invalid_phone_number", "invalid_request"), dest0 + ".number"),
        ]
        for doc, code, field in cases:
            with self.subTest(assistant=doc):
                err = self.assertRefused({"destination": DEST, "assistant": doc}, 400,
                                         code if isinstance(code, tuple) else (code,), field)
                # The message names the field by the same path.
                if code != "unknown_field":
                    self.assertIn(field, err["message"])

    def test_override_validation(self):
        cases = [
            ({"llm_config": {"temperature": 3}}, "invalid_request",
             "assistant_override.llm_config.temperature"),
            ({"llm_config": {"bogus": 1}}, "unknown_field", "assistant_override.llm_config.bogus"),
            ({"bogus": 1}, "unknown_field", "assistant_override.bogus"),
            ({"is_active": False}, "invalid_request", "assistant_override.is_active"),
            ({"is_active": True}, "invalid_request", "assistant_override.is_active"),
            ({"created_at": "2025-01-01"}, "invalid_request", "assistant_override.created_at"),
            ({"max_duration_seconds": 0}, "invalid_request",
             "assistant_override.max_duration_seconds"),
            ({"webhook_url": "hooks.example"}, "invalid_request",
             "assistant_override.webhook_url"),
        ]
        for override, code, field in cases:
            with self.subTest(override=override):
                self.assertRefused(self.base(assistant_override=override), 400, code, field)
        # The stored assistant is never changed by an override.
        got = self.api("GET", f"/assistants/{self.assistant['id']}").body["assistant"]
        self.assertEqual(got["first_message"], self.assistant["first_message"])
        self.assertEqual(got["llm_config"], self.assistant["llm_config"])

    # ------------------------------------------------------------------ references: 404
    def test_unknown_references_are_404(self):
        unknown = new_uuid()
        b = self
        cases = [
            (self.base(assistant_id=unknown), "assistant_id"),
            (self.base(assistant_id="not-a-uuid"), "assistant_id"),
            (self.base(assistant_id=DEL, agent_id=unknown), "agent_id"),
            (self.base(assistant_id=unknown, assistant_override={"first_message": "x"}),
             "assistant_id"),
            (self.base(number_id=unknown), "number_id"),
            (self.base(number_id="00000000-0000-0000-0000-000000000000"), "number_id"),
            (self.base(trunk_id=unknown), "trunk_id"),
            (self.base(trunk_id="x"), "trunk_id"),
            # another organization's objects look exactly like missing ones (never 403)
            (self.base(assistant_id=b.b_assistant["id"]), "assistant_id"),
            (self.base(number_id=b.b_number["id"]), "number_id"),
            (self.base(trunk_id=b.b_trunk["id"]), "trunk_id"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                self.assertRefused(body, 404, "not_found", field)

    def test_organization_b_cannot_use_organization_a_objects(self):
        kb = self.srv.key_b
        body = {"destination": DEST, "assistant_id": self.b_assistant["id"]}
        self.assertRefused({**body, "assistant_id": self.assistant["id"]}, 404, "not_found",
                           "assistant_id", key=kb)
        self.assertRefused({**body, "trunk_id": self.trunk["id"]}, 404, "not_found", "trunk_id",
                           key=kb)
        self.assertRefused({**body, "number_id": self.number["id"]}, 404, "not_found",
                           "number_id", key=kb)
        # B's own objects work for B.
        self.assertDialAccepted(self.dial({**body, "number_id": self.b_number["id"]}, key=kb))

    # ------------------------------------------------------------------ state: 400
    def test_unusable_references_are_400_saying_why(self):
        cases = [
            (self.base(assistant_id=self.inactive_assistant["id"]), "assistant_id", "inactive"),
            (self.base(assistant_id=DEL, agent_id=self.inactive_assistant["id"]), "agent_id",
             "inactive"),
            (self.base(trunk_id=self.inactive_trunk["id"]), "trunk_id", "inactive"),
            (self.base(trunk_id=self.inbound_trunk["id"]), "trunk_id", "inbound-only"),
            (self.base(number_id=self.bare_number["id"]), "number_id", "no sip trunk"),
            (self.base(number_id=self.inactive_number["id"]), "number_id", "inactive"),
            (self.base(number_id=self.number_on_inactive_trunk["id"]), "number_id", "inactive"),
            (self.base(number_id=self.number_on_inbound_trunk["id"]), "number_id",
             "inbound-only"),
        ]
        for body, field, why in cases:
            with self.subTest(body=body):
                self.assertRefused(body, 400, "invalid_request", field, contains=why)


class TestTrunkSelection(OutboundTestCase):
    """Which trunk is used without trunk_id/number_id: the organization's only active outbound
    trunk; none is 400 invalid_request, several is 400 missing_field (trunk_id)."""

    def test_trunk_choice_follows_the_organization(self):
        key = self.srv.create_key("org-gamma")
        assistant = self.srv.create("assistants", {"name": "G", "llm_config": LLM}, key=key)
        body = {"destination": DEST, "assistant_id": assistant["id"]}
        self.assertRefused(body, 400, "invalid_request", "trunk_id", contains="no active outbound",
                           key=key)
        self.srv.create("sip-trunks", {"name": "In", "direction": "inbound", "auth_type": "ip",
                                       "allowed_addresses": ["192.0.2.1"]}, key=key)
        self.srv.create("sip-trunks", {**TRUNK, "name": "Off", "is_active": False}, key=key)
        self.assertRefused(body, 400, "invalid_request", "trunk_id", key=key)
        first = self.srv.create("sip-trunks", {**TRUNK, "name": "First"}, key=key)
        self.assertDialAccepted(self.dial(body, key=key))
        second = self.srv.create("sip-trunks", {**TRUNK, "name": "Second", "direction": "both",
                                                "username": "u", "password": "p",
                                                "auth_type": "digest"}, key=key)
        err = self.assertRefused(body, 400, "missing_field", "trunk_id", key=key)
        self.assertIn("number_id", err["message"])
        self.assertDialAccepted(self.dial({**body, "trunk_id": second["id"]}, key=key))
        number = self.srv.create("numbers", {"phone_number": "+31850835077",
                                             "transfer_trunk_id": first["id"]}, key=key)
        self.assertDialAccepted(self.dial({**body, "number_id": number["id"]}, key=key))


class TestTrunkOutboundFields(ServerTestCase):
    FULL = {**TRUNK, "from_user": "acme-main", "auth_username": "acme@carrier.example",
            "send_pai": True, "max_concurrent_calls": 30, "max_calls_per_second": 2.5}

    def trunk_body(self, resp, status):
        self.assertStatus(resp, status)
        self.assertEqual(resp.body["trunk"], resp.body["sip_trunk"])
        return resp.body["trunk"]

    def test_defaults(self):
        trunk = self.srv.create("sip-trunks", TRUNK)
        self.assertIsNone(trunk["from_user"])
        self.assertIsNone(trunk["auth_username"])
        self.assertIs(trunk["send_pai"], False)
        self.assertIsNone(trunk["max_concurrent_calls"])
        self.assertIsNone(trunk["max_calls_per_second"])

    def test_stored_returned_patched_and_cleared(self):
        trunk = self.trunk_body(self.api("POST", "/sip-trunks", self.FULL), 201)
        for k in OUTBOUND_FIELDS:
            self.assertEqual(trunk[k], self.FULL[k], k)
        got = self.trunk_body(self.api("GET", f"/sip-trunks/{trunk['id']}"), 200)
        self.assertEqual({k: got[k] for k in OUTBOUND_FIELDS},
                         {k: self.FULL[k] for k in OUTBOUND_FIELDS})
        listed = next(t for t in self.api("GET", "/sip-trunks").body["trunks"]
                      if t["id"] == trunk["id"])
        self.assertEqual({k: listed[k] for k in OUTBOUND_FIELDS},
                         {k: self.FULL[k] for k in OUTBOUND_FIELDS})
        change = {"from_user": "%2B31850835037", "auth_username": "other",
                  "send_pai": False, "max_concurrent_calls": 10000, "max_calls_per_second": 0.1}
        patched = self.trunk_body(self.api("PATCH", f"/sip-trunks/{trunk['id']}", change), 200)
        self.assertEqual({k: patched[k] for k in OUTBOUND_FIELDS}, change)
        # A PATCH without them keeps them.
        kept = self.trunk_body(self.api("PATCH", f"/sip-trunks/{trunk['id']}", {"name": "K"}), 200)
        self.assertEqual({k: kept[k] for k in OUTBOUND_FIELDS}, change)
        # null restores the default.
        cleared = self.trunk_body(self.api("PATCH", f"/sip-trunks/{trunk['id']}", {
            "from_user": None, "auth_username": None, "max_concurrent_calls": None,
            "max_calls_per_second": None}), 200)
        for k in ("from_user", "auth_username", "max_concurrent_calls", "max_calls_per_second"):
            self.assertIsNone(cleared[k], k)
        # They survive a restart.
        self.api("PATCH", f"/sip-trunks/{trunk['id']}", self.FULL)
        self.srv.restart()
        again = self.trunk_body(self.api("GET", f"/sip-trunks/{trunk['id']}"), 200)
        self.assertEqual({k: again[k] for k in OUTBOUND_FIELDS},
                         {k: self.FULL[k] for k in OUTBOUND_FIELDS})

    def test_boundaries_accepted(self):
        for change in ({"from_user": "a"}, {"from_user": "x" * 64},
                       {"from_user": "+31850835037"}, {"from_user": "a.b_c-d!~*'()&=+$,;?/"},
                       {"from_user": "caf%C3%A9"}, {"auth_username": "x" * 255},
                       {"auth_username": "user@realm.example"}, {"send_pai": True},
                       {"max_concurrent_calls": 1}, {"max_concurrent_calls": 10000},
                       {"max_calls_per_second": 0.1}, {"max_calls_per_second": 1000},
                       {"max_calls_per_second": 5}, {"from_user": None, "auth_username": None,
                                                     "max_concurrent_calls": None,
                                                     "max_calls_per_second": None}):
            with self.subTest(change=change):
                self.assertStatus(self.api("POST", "/sip-trunks", {**TRUNK, **change}), 201)

    def test_rejections_name_the_field(self):
        cases = [
            ({"from_user": ""}, "from_user"),
            ({"from_user": "x" * 65}, "from_user"),
            ({"from_user": "two words"}, "from_user"),
            ({"from_user": "sip:alice"}, "from_user"),
            ({"from_user": "alice@example.com"}, "from_user"),
            ({"from_user": "bad%zz"}, "from_user"),
            ({"from_user": "bad%2"}, "from_user"),
            ({"from_user": "line\r\nX: y"}, "from_user"),
            ({"from_user": 31850835037}, "from_user"),
            ({"auth_username": ""}, "auth_username"),
            ({"auth_username": "x" * 256}, "auth_username"),
            ({"auth_username": "a\r\nb"}, "auth_username"),
            ({"auth_username": 5}, "auth_username"),
            ({"send_pai": "yes"}, "send_pai"),
            ({"send_pai": 1}, "send_pai"),
            ({"send_pai": None}, "send_pai"),
            ({"max_concurrent_calls": 0}, "max_concurrent_calls"),
            ({"max_concurrent_calls": 10001}, "max_concurrent_calls"),
            ({"max_concurrent_calls": -1}, "max_concurrent_calls"),
            ({"max_concurrent_calls": 1.5}, "max_concurrent_calls"),
            ({"max_concurrent_calls": "5"}, "max_concurrent_calls"),
            ({"max_concurrent_calls": True}, "max_concurrent_calls"),
            ({"max_calls_per_second": 0}, "max_calls_per_second"),
            ({"max_calls_per_second": 0.05}, "max_calls_per_second"),
            ({"max_calls_per_second": 1000.5}, "max_calls_per_second"),
            ({"max_calls_per_second": -2}, "max_calls_per_second"),
            ({"max_calls_per_second": "1"}, "max_calls_per_second"),
            ({"max_calls_per_second": False}, "max_calls_per_second"),
        ]
        trunk = self.srv.create("sip-trunks", TRUNK)
        for change, field in cases:
            with self.subTest(change=change):
                before = self.api("GET", "/sip-trunks").body
                r = self.api("POST", "/sip-trunks", {**TRUNK, **change})
                err = self.assertError(r, 400, "invalid_request", field=field)
                self.assertIn(field, err["message"])
                r = self.api("PATCH", f"/sip-trunks/{trunk['id']}", change)
                self.assertError(r, 400, "invalid_request", field=field)
                self.assertEqual(self.api("GET", "/sip-trunks").body, before,
                                 "a rejected request changed data")

    def test_existing_rules_still_hold(self):
        # The new fields change none of the old rules.
        digest = {"name": "D", "host": "pbx.example.com", "send_pai": True,
                  "auth_username": "only-auth-user", "password": "p"}
        self.assertError(self.api("POST", "/sip-trunks", digest), 400, "missing_field",
                         field="username")
        self.assertError(self.api("POST", "/sip-trunks", {"name": "N", "send_pai": True}), 400,
                         "missing_field", field="host")


if __name__ == "__main__":
    unittest.main()
