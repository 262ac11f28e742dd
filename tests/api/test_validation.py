"""Every validation error of the spec, table-driven.

Each row is (change to a valid body, expected code(s), expected field). Every rejected request must
answer 400 (or 413) with `error`, `message` and `code`, name the field, and change nothing: the
collection list (or the object) is the same before and after.
"""

import json
import unittest

from harness import API, Field, ServerTestCase

DEL = object()  # "remove this key from the base body"

PHONE = ("invalid_phone_number", "invalid_request")
ANY_400 = ("invalid_request", "invalid_json", "missing_field")


def apply(base, change):
    body = dict(base)
    for k, v in change.items():
        if v is DEL:
            body.pop(k, None)
        else:
            body[k] = v
    return body


TRUNK_BASE = {"name": "Validated", "host": "pbx.example.com", "username": "u", "password": "p"}

TRUNK_CREATE_CASES = [
    # name
    ({"name": DEL}, "missing_field", "name"),
    ({"name": ""}, "invalid_request", "name"),
    ({"name": "x" * 256}, "invalid_request", "name"),
    ({"name": 42}, "invalid_request", "name"),
    ({"name": None}, ("invalid_request", "missing_field"), "name"),
    # host: hostname, IPv4 or IPv6 literal
    ({"host": DEL}, "missing_field", "host"),
    ({"host": ""}, "invalid_request", "host"),
    ({"host": "not a host"}, "invalid_request", "host"),
    ({"host": "-bad.example.com"}, "invalid_request", "host"),
    ({"host": "bad-.example.com"}, "invalid_request", "host"),
    ({"host": "pbx..example.com"}, "invalid_request", "host"),
    ({"host": "pbx.example.com:5060"}, "invalid_request", "host"),
    ({"host": "sip:pbx.example.com"}, "invalid_request", "host"),
    ({"host": "a" * 64 + ".example.com"}, "invalid_request", "host"),
    ({"host": "2001:db8::zz"}, "invalid_request", "host"),
    ({"host": "10.0.0.0/8"}, "invalid_request", "host"),
    ({"host": "pbx.example.com\r\nX: y"}, "invalid_request", "host"),
    ({"host": 1234}, "invalid_request", "host"),
    # port 1-65535
    ({"port": 0}, "invalid_request", "port"),
    ({"port": 65536}, "invalid_request", "port"),
    ({"port": -1}, "invalid_request", "port"),
    ({"port": "5060"}, "invalid_request", "port"),
    ({"port": 5060.5}, "invalid_request", "port"),
    ({"port": True}, "invalid_request", "port"),
    # enums
    ({"direction": "sideways"}, "invalid_request", "direction"),
    ({"transport": "sctp"}, "invalid_request", "transport"),
    ({"auth_type": "basic"}, "invalid_request", "auth_type"),
    ({"transfer_method": "blind"}, "invalid_request", "transfer_method"),
    ({"transport": 1}, "invalid_request", "transport"),
    # E.164
    ({"caller_id": "0850835037"}, PHONE, "caller_id"),
    ({"caller_id": "+31 85 083 5037"}, PHONE, "caller_id"),
    ({"caller_id": "+0850835037"}, PHONE, "caller_id"),
    ({"numbers": ["+31850835037", "12345"]}, PHONE, Field("numbers")),
    ({"numbers": ["+1234567890123456"]}, PHONE, Field("numbers")),
    ({"numbers": [5]}, PHONE, Field("numbers")),
    ({"numbers": "+31850835037"}, "invalid_request", Field("numbers")),
    # allowed_addresses: IPv4/IPv6 CIDRs or addresses
    ({"allowed_addresses": ["10.0.0.0/33"]}, "invalid_request", Field("allowed_addresses")),
    ({"allowed_addresses": ["not-an-ip"]}, "invalid_request", Field("allowed_addresses")),
    ({"allowed_addresses": ["300.1.1.1"]}, "invalid_request", Field("allowed_addresses")),
    ({"allowed_addresses": ["10.0.0.0/"]}, "invalid_request", Field("allowed_addresses")),
    ({"allowed_addresses": ["2001:db8::/129"]}, "invalid_request", Field("allowed_addresses")),
    ({"allowed_addresses": ["192.168.1.0/24", "1.2.3"]}, "invalid_request",
     Field("allowed_addresses")),
    ({"allowed_addresses": "10.0.0.0/8"}, "invalid_request", Field("allowed_addresses")),
    # headers: SIP token names, values without CR/LF
    ({"headers": {"Bad Header": "x"}}, "invalid_request", Field("headers")),
    ({"headers": {"": "x"}}, "invalid_request", Field("headers")),
    ({"headers": {"X-Ok": "line1\r\nInjected: yes"}}, "invalid_request", Field("headers")),
    ({"headers": {"X-Ok": "line1\nInjected: yes"}}, "invalid_request", Field("headers")),
    ({"headers": {"X-Ok": 5}}, "invalid_request", Field("headers")),
    ({"headers": ["X-Ok: 1"]}, "invalid_request", Field("headers")),
    # other types
    ({"is_active": "yes"}, "invalid_request", "is_active"),
    ({"username": 123}, "invalid_request", "username"),
    ({"password": ["p"]}, "invalid_request", "password"),
    # digest auth on an outbound/both trunk needs a password
    ({"password": DEL}, "missing_field", "password"),
    ({"password": DEL, "direction": "both"}, "missing_field", "password"),
    ({"username": DEL}, "missing_field", "username"),
    # unknown and read-only fields
    ({"unknown_thing": 1}, "unknown_field", "unknown_thing"),
    ({"provider": "twilio"}, "unknown_field", "provider"),
    ({"id": "0b7ae3d2-3c1e-4c55-9a43-64b0b6a0f1d1"}, ("unknown_field", "invalid_request"), "id"),
    ({"has_password": True}, ("unknown_field", "invalid_request"), "has_password"),
]

TRUNK_CREATE_OK = [
    {"name": "x" * 255},
    {"name": "x"},
    {"port": 1},
    {"port": 65535},
    {"host": "::1"},
    {"host": "2001:db8::1"},
    {"host": "192.0.2.10"},
    {"host": "a" * 63 + ".example.com"},
    {"caller_id": "+12"},
    {"numbers": ["+31850835037", "+442071234567"]},
    {"allowed_addresses": ["10.0.0.0/8", "192.168.1.10", "2001:db8::/32", "::1", "0.0.0.0/0"]},
    {"headers": {"X-Custom-Header": "any value; with=params", "P-Preferred-Identity": "<sip:a@b>"}},
    {"password": DEL, "auth_type": "ip"},
    {"password": DEL, "username": DEL, "direction": "inbound"},
    {"direction": "both", "transport": "tls", "transfer_method": "auto"},
    {"transfer_method": "refer", "transport": "tcp"},
]

TRUNK_PATCH_CASES = [
    ({"port": 0}, "invalid_request", "port"),
    ({"port": 65536}, "invalid_request", "port"),
    ({"name": ""}, "invalid_request", "name"),
    ({"name": "x" * 256}, "invalid_request", "name"),
    ({"name": None}, ("invalid_request", "missing_field"), "name"),
    ({"host": "bad host"}, "invalid_request", "host"),
    ({"host": None}, ("invalid_request", "missing_field"), "host"),
    ({"transport": "carrier-pigeon"}, "invalid_request", "transport"),
    ({"direction": "up"}, "invalid_request", "direction"),
    ({"auth_type": "none"}, "invalid_request", "auth_type"),
    ({"transfer_method": "x"}, "invalid_request", "transfer_method"),
    ({"caller_id": "123"}, PHONE, "caller_id"),
    ({"numbers": ["abc"]}, PHONE, Field("numbers")),
    ({"allowed_addresses": ["1.2.3.4/40"]}, "invalid_request", Field("allowed_addresses")),
    ({"headers": {"X-A": "a\r\nb"}}, "invalid_request", Field("headers")),
    ({"is_active": 1}, "invalid_request", "is_active"),
    ({"foo": "bar"}, "unknown_field", "foo"),
    ({"name": "ok", "port": 0}, "invalid_request", "port"),  # nothing of it is applied
    # the trunk must stay valid: digest auth on an outbound trunk keeps its credentials
    ({"password": None}, "missing_field", "password"),
    ({"username": None}, "missing_field", "username"),
]

NUMBER_BASE = {"phone_number": "+31850835099", "name": "Line"}

NUMBER_CREATE_CASES = [
    ({"phone_number": DEL}, "missing_field", "phone_number"),
    ({"phone_number": None}, ("missing_field", "invalid_request", "invalid_phone_number"),
     "phone_number"),
    ({"phone_number": "31850835037"}, PHONE, "phone_number"),
    ({"phone_number": "+0123456"}, PHONE, "phone_number"),
    ({"phone_number": "+1"}, PHONE, "phone_number"),
    ({"phone_number": "+"}, PHONE, "phone_number"),
    ({"phone_number": ""}, PHONE, "phone_number"),
    ({"phone_number": "+1234567890123456"}, PHONE, "phone_number"),
    ({"phone_number": "+31 85 083 5037"}, PHONE, "phone_number"),
    ({"phone_number": "+31-850-835037"}, PHONE, "phone_number"),
    ({"phone_number": "tel:+31850835037"}, PHONE, "phone_number"),
    ({"phone_number": "+31850835037 "}, PHONE, "phone_number"),
    ({"phone_number": "+3185083503a"}, PHONE, "phone_number"),
    ({"phone_number": "\uff0b31850835037"}, PHONE, "phone_number"),  # fullwidth plus
    ({"phone_number": 31850835037}, PHONE, "phone_number"),
    ({"name": ""}, "invalid_request", "name"),
    ({"name": "x" * 256}, "invalid_request", "name"),
    ({"name": 5}, "invalid_request", "name"),
    ({"is_active": "true"}, "invalid_request", "is_active"),
    ({"assistant_id": 5}, "invalid_request", "assistant_id"),
    ({"transfer_trunk_id": ["x"]}, "invalid_request", "transfer_trunk_id"),
    ({"foo": "bar"}, "unknown_field", "foo"),
    ({"workflow_id": None}, "unknown_field", "workflow_id"),
]

NUMBER_CREATE_OK = [{"name": "x" * 255}, {"name": DEL}, {"is_active": False},
                    {"assistant_id": None, "transfer_trunk_id": None}]

NUMBER_PATCH_CASES = [
    ({"phone_number": "123"}, PHONE, "phone_number"),
    ({"phone_number": None}, ("invalid_request", "invalid_phone_number", "missing_field"),
     "phone_number"),
    ({"name": ""}, "invalid_request", "name"),
    ({"name": "x" * 256}, "invalid_request", "name"),
    ({"is_active": 1}, "invalid_request", "is_active"),
    ({"assistant_id": "nope"}, "invalid_request", "assistant_id"),
    ({"bar": 1}, "unknown_field", "bar"),
    ({"name": "new", "phone_number": "0612"}, PHONE, "phone_number"),
]

NUMBER_DEST = {"type": "number", "number": "+31612345678", "description": "Sales"}
SIP_DEST = {"type": "sip", "sip_uri": "sip:desk@pbx.example.com", "description": "Desk"}


def transfer(*dests, **extra):
    return {"llm_config": {"tools": [{"type": "transfer_call", "destinations": list(dests),
                                      **extra}]}}


D0 = "llm_config.tools[0].destinations[0]"

ASSISTANT_BASE = {"name": "Validated"}

ASSISTANT_CREATE_CASES = [
    ({"name": DEL}, "missing_field", "name"),
    ({"name": ""}, "invalid_request", "name"),
    ({"name": "x" * 256}, "invalid_request", "name"),
    ({"name": 5}, "invalid_request", "name"),
    ({"bogus_field": 1}, "unknown_field", "bogus_field"),
    ({"agent_name": "x"}, "unknown_field", "agent_name"),
    # wrong JSON types
    ({"first_message": 5}, "invalid_request", "first_message"),
    ({"is_active": "yes"}, "invalid_request", "is_active"),
    ({"max_duration_seconds": "long"}, "invalid_request", "max_duration_seconds"),
    ({"autonomous_silence_handling": "on"}, "invalid_request", "autonomous_silence_handling"),
    ({"gdpr_mode": 1}, "invalid_request", "gdpr_mode"),
    ({"notification_emails": "ops@acme.example"}, "invalid_request", Field("notification_emails")),
    ({"webhook_secret": 5}, "invalid_request", "webhook_secret"),
    ({"metadata": "x"}, "invalid_request", "metadata"),
    ({"llm_config": "openai"}, "invalid_request", "llm_config"),
    ({"llm_config": {"tools": "end_call"}}, "invalid_request", Field("llm_config.tools")),
    ({"llm_config": {"tools": [5]}}, "invalid_request", Field("llm_config.tools[0]")),
    # unknown fields inside tools, named by their dotted path
    (transfer(NUMBER_DEST, {**SIP_DEST, "foo": 1}), "unknown_field",
     "llm_config.tools[0].destinations[1].foo"),
    ({"llm_config": {"tools": [{"type": "end_call"},
                               {"type": "transfer_call", "destinations": [NUMBER_DEST],
                                "bogus": True}]}},
     "unknown_field", "llm_config.tools[1].bogus"),
    # transfer_call destinations
    (transfer({**NUMBER_DEST, "number": "0612345678"}), PHONE, D0 + ".number"),
    (transfer({**NUMBER_DEST, "number": "+31 6 1234"}), PHONE, D0 + ".number"),
    (transfer({"type": "number", "description": "no number"}), "missing_field", D0 + ".number"),
    (transfer({"type": "number", "number": "+31612345678"}), "missing_field",
     D0 + ".description"),
    (transfer({**SIP_DEST, "sip_uri": "http://pbx.example.com"}), "invalid_request",
     D0 + ".sip_uri"),
    (transfer({**SIP_DEST, "sip_uri": "pbx.example.com"}), "invalid_request", D0 + ".sip_uri"),
    (transfer({"type": "sip", "description": "no uri"}), "missing_field", D0 + ".sip_uri"),
    (transfer({**SIP_DEST, "password": 5}), "invalid_request", D0 + ".password"),
    (transfer({**NUMBER_DEST, "type": "carrier"}), "invalid_request", D0 + ".type"),
    ({"llm_config": {"tools": [{"type": "transfer_call"}]}}, "missing_field",
     "llm_config.tools[0].destinations"),
    ({"llm_config": {"tools": [{"type": "teleport"}]}}, "invalid_request",
     "llm_config.tools[0].type"),
]

ASSISTANT_CREATE_OK = [{"name": "x" * 255}, transfer(NUMBER_DEST, SIP_DEST),
                       transfer({**SIP_DEST, "sip_uri": "sips:desk@pbx.example.com:5061",
                                 "username": "u", "password": "p", "message": "Hold on"})]

ASSISTANT_PATCH_CASES = [
    ({"name": ""}, "invalid_request", "name"),
    ({"name": None}, ("invalid_request", "missing_field"), "name"),
    ({"name": "x" * 256}, "invalid_request", "name"),
    ({"nope": 1}, "unknown_field", "nope"),
    (transfer(NUMBER_DEST, {**NUMBER_DEST, "extra": 1}), "unknown_field",
     "llm_config.tools[0].destinations[1].extra"),
    (transfer({**NUMBER_DEST, "number": "12"}), PHONE, D0 + ".number"),
    ({"first_message": "changed", "is_active": "no"}, "invalid_request", "is_active"),
]


class ValidationTestCase(ServerTestCase):
    COLLECTIONS = {"sip-trunks": "sip_trunk", "numbers": "number", "assistants": "assistant"}

    def check_create_rejected(self, collection, base, cases):
        for change, code, field in cases:
            body = apply(base, change)
            with self.subTest(collection=collection, body=body):
                before = self.snapshot(collection)
                r = self.api("POST", f"/{collection}", body)
                self.assertError(r, 400, code, field=field)
                self.assertEqual(self.snapshot(collection), before, "rejected create changed data")

    def check_create_ok(self, collection, base, cases, unique=None):
        for i, change in enumerate(cases):
            body = apply(base, change)
            if unique:
                body = unique(body, i)
            with self.subTest(collection=collection, body=body):
                r = self.api("POST", f"/{collection}", body)
                self.assertStatus(r, 201)

    def check_patch_rejected(self, collection, obj_id, cases):
        path = f"/{collection}/{obj_id}"
        for change, code, field in cases:
            with self.subTest(collection=collection, body=change):
                before = self.api("GET", path).body
                r = self.api("PATCH", path, change)
                self.assertError(r, 400, code, field=field)
                self.assertEqual(self.api("GET", path).body, before, "rejected PATCH changed data")


class TestTrunkValidation(ValidationTestCase):
    def test_create_rejections(self):
        self.check_create_rejected("sip-trunks", TRUNK_BASE, TRUNK_CREATE_CASES)

    def test_create_boundaries_accepted(self):
        self.check_create_ok("sip-trunks", TRUNK_BASE, TRUNK_CREATE_OK)

    def test_patch_rejections(self):
        trunk = self.srv.create("sip-trunks", TRUNK_BASE)
        self.check_patch_rejected("sip-trunks", trunk["id"], TRUNK_PATCH_CASES)


class TestNumberValidation(ValidationTestCase):
    def test_create_rejections(self):
        self.check_create_rejected("numbers", NUMBER_BASE, NUMBER_CREATE_CASES)

    def test_create_boundaries_accepted(self):
        self.check_create_ok("numbers", NUMBER_BASE, NUMBER_CREATE_OK,
                             unique=lambda b, i: {**b, "phone_number": f"+3185083510{i}"})

    def test_patch_rejections(self):
        number = self.srv.create("numbers", {"phone_number": "+31850835111"})
        self.check_patch_rejected("numbers", number["id"], NUMBER_PATCH_CASES)


class TestAssistantValidation(ValidationTestCase):
    def test_create_rejections(self):
        self.check_create_rejected("assistants", ASSISTANT_BASE, ASSISTANT_CREATE_CASES)

    def test_create_boundaries_accepted(self):
        self.check_create_ok("assistants", ASSISTANT_BASE, ASSISTANT_CREATE_OK)

    def test_patch_rejections(self):
        assistant = self.srv.create("assistants", {"name": "Patched", **transfer(NUMBER_DEST)})
        self.check_patch_rejected("assistants", assistant["id"], ASSISTANT_PATCH_CASES)


MALFORMED = [b'{"name": ', b'{name: "x"}', b"{'name': 'x'}", b'{"name": "x"} trailing',
             b'{"name": "x",}', b'{"name": "x"}{"name": "y"}', b"\xef\xbb", b"nul\x00l"]
NOT_AN_OBJECT = [b"[]", b'"name"', b"42", b"null", b"true", b'[{"name": "x"}]']


class TestBodyErrors(ValidationTestCase):
    @classmethod
    def setUpServer(cls):
        srv = cls.server
        cls.objects = {
            "sip-trunks": srv.create("sip-trunks", {"name": "body", "host": "h.example",
                                                    "auth_type": "ip"}),
            "numbers": srv.create("numbers", {"phone_number": "+31850835200"}),
            "assistants": srv.create("assistants", {"name": "body"}),
        }

    def targets(self):
        """(method, path, collection) of every JSON-body route."""
        for coll, obj in self.objects.items():
            yield "POST", f"/{coll}", coll
            yield "PATCH", f"/{coll}/{obj['id']}", coll

    def check_rejected(self, raw, code):
        for method, path, coll in self.targets():
            with self.subTest(method=method, path=path, body=raw[:40]):
                before = self.snapshot(coll)
                r = self.api(method, path, raw_body=raw)
                self.assertError(r, 400, code)
                self.assertEqual(self.snapshot(coll), before)

    def test_malformed_json_is_invalid_json(self):
        for raw in MALFORMED:
            self.check_rejected(raw, "invalid_json")

    def test_empty_body_is_invalid_json(self):
        self.check_rejected(b"", "invalid_json")

    def test_non_object_json_is_400(self):
        for raw in NOT_AN_OBJECT:
            self.check_rejected(raw, ("invalid_json", "invalid_request"))

    def test_invalid_utf8_is_400(self):
        self.check_rejected(b'{"name": "\xff\xfe"}', ("invalid_json", "invalid_request"))

    def test_empty_object_patch_is_fine(self):
        for coll, obj in self.objects.items():
            with self.subTest(coll):
                self.assertStatus(self.api("PATCH", f"/{coll}/{obj['id']}", {}), 200)

    def big_request(self, size, chunked=False):
        prefix, suffix = b'{"name":"big","first_message":"', b'"}'
        body = prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix
        assert len(body) == size
        head = (f"POST {API}/assistants HTTP/1.1\r\nHost: {self.srv.host}:{self.srv.port}\r\n"
                f"Authorization: Bearer {self.srv.key_a}\r\nContent-Type: application/json\r\n")
        if chunked:
            head += "Transfer-Encoding: chunked\r\n\r\n"
            parts = [b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                     for i in range(0, len(body), 65536)]
            return self.srv.raw_exchange(head.encode(), b"".join(parts) + b"0\r\n\r\n")
        head += f"Content-Length: {len(body)}\r\n\r\n"
        return self.srv.raw_exchange(head.encode(), body)

    def test_body_over_1_mib_is_413(self):
        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                before = self.snapshot("assistants")
                r = self.big_request(1024 * 1024 + 1, chunked=chunked)
                self.assertError(r, 413, "payload_too_large")
                self.srv.close_connection()
                self.assertEqual(self.snapshot("assistants"), before)

    def test_body_under_1_mib_is_not_413(self):
        r = self.big_request(1024 * 1024 - 1024)
        self.assertNotEqual(r.status, 413, r.body)
        self.assertLess(r.status, 500, r.body)

    def test_server_still_healthy_after_bad_bodies(self):
        self.assertStatus(self.srv.request("GET", "/health", key=None), 200)
        self.assertStatus(self.api("GET", "/sip-trunks"), 200)

    def test_error_bodies_are_json(self):
        r = self.api("POST", "/numbers", raw_body=b"{")
        self.assertIn("application/json", r.headers.get("Content-Type", ""))
        json.loads(r.raw)


if __name__ == "__main__":
    unittest.main()
