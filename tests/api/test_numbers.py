"""Phone numbers: /api/v1/numbers happy paths, agent_id alias, references, duplicates."""

import unittest

from harness import ORG_B, ServerTestCase, new_uuid

NUMBER_KEYS = {"id", "phone_number", "name", "assistant_id", "agent_id", "transfer_trunk_id",
               "is_active", "created_at", "updated_at"}


class NumberTestCase(ServerTestCase):
    @classmethod
    def setUpServer(cls):
        srv = cls.server
        cls.assistant = srv.create("assistants", {"name": "Support"})
        cls.assistant2 = srv.create("assistants", {"name": "Sales"})
        cls.trunk = srv.create("sip-trunks", {"name": "PBX", "host": "pbx.example.com",
                                              "auth_type": "ip"})
        cls.b_assistant = srv.create("assistants", {"name": "B support"}, key=srv.key_b)
        cls.b_trunk = srv.create("sip-trunks", {"name": "B PBX", "host": "pbx.b.example",
                                                "auth_type": "ip"}, key=srv.key_b)

    def assertNumberResponse(self, resp, status):
        self.assertStatus(resp, status)
        self.assertKeys(resp.body, {"number"})
        number = resp.body["number"]
        self.assertKeys(number, NUMBER_KEYS)
        self.assertUuid(number["id"])
        self.assertEqual(number["agent_id"], number["assistant_id"], "agent_id mirrors assistant_id")
        self.assertTimestamp(number["created_at"])
        self.assertTimestamp(number["updated_at"])
        return number


class TestNumberCrud(NumberTestCase):
    def test_create_full(self):
        body = {"phone_number": "+31850835037", "name": "Main Support Line",
                "assistant_id": self.assistant["id"], "transfer_trunk_id": self.trunk["id"],
                "is_active": True}
        number = self.assertNumberResponse(self.api("POST", "/numbers", body), 201)
        self.assertSubset(body, number)
        self.assertEqual(number["agent_id"], self.assistant["id"])

    def test_create_minimal_defaults(self):
        number = self.assertNumberResponse(
            self.api("POST", "/numbers", {"phone_number": "+31201234567"}), 201)
        self.assertIsNone(number["assistant_id"])
        self.assertIsNone(number["agent_id"])
        self.assertIsNone(number["transfer_trunk_id"])
        self.assertIs(number["is_active"], True)

    def test_e164_boundaries_accepted(self):
        for phone in ("+12", "+123456789012345", "+442071234567"):
            with self.subTest(phone=phone):
                number = self.assertNumberResponse(
                    self.api("POST", "/numbers", {"phone_number": phone}), 201)
                self.assertEqual(number["phone_number"], phone)

    def test_agent_id_alias_on_create(self):
        body = {"phone_number": "+31850000201", "agent_id": self.assistant["id"]}
        number = self.assertNumberResponse(self.api("POST", "/numbers", body), 201)
        self.assertEqual(number["assistant_id"], self.assistant["id"])
        self.assertEqual(number["agent_id"], self.assistant["id"])

    def test_agent_id_and_assistant_id_together(self):
        same = {"phone_number": "+31850000210", "assistant_id": self.assistant["id"],
                "agent_id": self.assistant["id"]}
        self.assertNumberResponse(self.api("POST", "/numbers", same), 201)
        before = self.snapshot("numbers")
        differ = {"phone_number": "+31850000211", "assistant_id": self.assistant["id"],
                  "agent_id": self.assistant2["id"]}
        r = self.api("POST", "/numbers", differ)
        self.assertError(r, 400, "invalid_request")
        self.assertIn(r.body.get("field"), ("agent_id", "assistant_id"))
        self.assertEqual(self.snapshot("numbers"), before)

    def test_agent_id_alias_on_patch(self):
        number = self.srv.create("numbers", {"phone_number": "+31850000202"})
        patched = self.assertNumberResponse(
            self.api("PATCH", f"/numbers/{number['id']}", {"agent_id": self.assistant2["id"]}),
            200)
        self.assertEqual(patched["assistant_id"], self.assistant2["id"])
        patched = self.assertNumberResponse(
            self.api("PATCH", f"/numbers/{number['id']}", {"agent_id": None}), 200)
        self.assertIsNone(patched["assistant_id"])

    def test_get_one_and_list(self):
        number = self.srv.create("numbers", {"phone_number": "+31850000203", "name": "Sales Line",
                                             "assistant_id": self.assistant["id"]})
        got = self.assertNumberResponse(self.api("GET", f"/numbers/{number['id']}"), 200)
        self.assertEqual(got, number)
        r = self.api("GET", "/numbers")
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"numbers"})
        for n in r.body["numbers"]:
            self.assertKeys(n, NUMBER_KEYS)
        self.assertIn(number, r.body["numbers"])

    def test_patch_partial_and_detach(self):
        number = self.srv.create("numbers", {"phone_number": "+31850000204", "name": "Before",
                                             "assistant_id": self.assistant["id"],
                                             "transfer_trunk_id": self.trunk["id"]})
        patched = self.assertNumberResponse(
            self.api("PATCH", f"/numbers/{number['id']}", {"name": "After"}), 200)
        self.assertEqual(patched["name"], "After")
        self.assertEqual(patched["assistant_id"], self.assistant["id"], "partial update")
        self.assertEqual(patched["transfer_trunk_id"], self.trunk["id"])
        self.assertEqual(patched["phone_number"], "+31850000204")
        self.assertEqual(patched["created_at"], number["created_at"])
        self.assertGreaterEqual(patched["updated_at"], number["updated_at"])
        patched = self.assertNumberResponse(
            self.api("PATCH", f"/numbers/{number['id']}",
                     {"assistant_id": None, "transfer_trunk_id": None, "is_active": False}), 200)
        self.assertIsNone(patched["assistant_id"])
        self.assertIsNone(patched["agent_id"])
        self.assertIsNone(patched["transfer_trunk_id"])
        self.assertIs(patched["is_active"], False)
        self.assertEqual(self.api("GET", f"/numbers/{number['id']}").body["number"], patched)

    def test_patch_reassigns(self):
        number = self.srv.create("numbers", {"phone_number": "+31850000205"})
        patched = self.assertNumberResponse(
            self.api("PATCH", f"/numbers/{number['id']}",
                     {"assistant_id": self.assistant2["id"], "transfer_trunk_id": self.trunk["id"],
                      "phone_number": "+31850000295"}), 200)
        self.assertEqual(patched["assistant_id"], self.assistant2["id"])
        self.assertEqual(patched["transfer_trunk_id"], self.trunk["id"])
        self.assertEqual(patched["phone_number"], "+31850000295")

    def test_delete(self):
        number = self.srv.create("numbers", {"phone_number": "+31850000206"})
        r = self.api("DELETE", f"/numbers/{number['id']}")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"success": True})
        self.assertError(self.api("GET", f"/numbers/{number['id']}"), 404, "not_found")
        self.assertError(self.api("DELETE", f"/numbers/{number['id']}"), 404, "not_found")
        # The phone number is free again.
        self.srv.create("numbers", {"phone_number": "+31850000206"})

    def test_unknown_and_malformed_ids_are_404(self):
        for number_id in (new_uuid(), "nope", "1"):
            for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
                with self.subTest(method=method, id=number_id):
                    self.assertError(self.api(method, f"/numbers/{number_id}", body), 404,
                                     "not_found")


class TestNumberReferences(NumberTestCase):
    def test_unknown_assistant_or_trunk_is_400_naming_the_field(self):
        cases = [
            ({"assistant_id": new_uuid()}, "assistant_id"),
            ({"agent_id": new_uuid()}, ("agent_id", "assistant_id")),
            ({"transfer_trunk_id": new_uuid()}, "transfer_trunk_id"),
            ({"assistant_id": "not-a-uuid"}, "assistant_id"),
            ({"transfer_trunk_id": "not-a-uuid"}, "transfer_trunk_id"),
            # An assistant id where a trunk id belongs, and the reverse.
            ({"transfer_trunk_id": self.assistant["id"]}, "transfer_trunk_id"),
            ({"assistant_id": self.trunk["id"]}, "assistant_id"),
            # Organization B's objects do not exist for organization A.
            ({"assistant_id": self.b_assistant["id"]}, "assistant_id"),
            ({"transfer_trunk_id": self.b_trunk["id"]}, "transfer_trunk_id"),
        ]
        for i, (extra, field) in enumerate(cases):
            with self.subTest(extra):
                before = self.snapshot("numbers")
                body = {"phone_number": f"+3185000031{i}", **extra}
                r = self.api("POST", "/numbers", body)
                self.assertStatus(r, 400)
                fields = field if isinstance(field, tuple) else (field,)
                self.assertError(r, 400, "invalid_request")
                self.assertIn(r.body.get("field"), fields, r.body)
                self.assertEqual(self.snapshot("numbers"), before)

    def test_b_cannot_assign_a_objects_on_create_or_patch(self):
        b_number = self.srv.create("numbers", {"phone_number": "+31850000302"},
                                   key=self.srv.key_b)
        for i, (extra, field) in enumerate((
                ({"assistant_id": self.assistant["id"]}, "assistant_id"),
                ({"agent_id": self.assistant["id"]}, ("agent_id", "assistant_id")),
                ({"transfer_trunk_id": self.trunk["id"]}, "transfer_trunk_id"))):
            fields = field if isinstance(field, tuple) else (field,)
            with self.subTest(op="create", **{"field": fields[0]}):
                r = self.api("POST", "/numbers", {"phone_number": f"+3185000032{i}", **extra},
                             key=self.srv.key_b)
                self.assertError(r, 400, "invalid_request")
                self.assertIn(r.body.get("field"), fields)
            with self.subTest(op="patch", **{"field": fields[0]}):
                r = self.api("PATCH", f"/numbers/{b_number['id']}", extra, key=self.srv.key_b)
                self.assertError(r, 400, "invalid_request")
                self.assertIn(r.body.get("field"), fields)
                got = self.api("GET", f"/numbers/{b_number['id']}", key=self.srv.key_b)
                self.assertEqual(got.body["number"], b_number)
        # B's own objects are fine.
        r = self.api("PATCH", f"/numbers/{b_number['id']}",
                     {"assistant_id": self.b_assistant["id"],
                      "transfer_trunk_id": self.b_trunk["id"]}, key=self.srv.key_b)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["number"]["assistant_id"], self.b_assistant["id"])

    def test_duplicate_number_is_409(self):
        self.srv.create("numbers", {"phone_number": "+31850000304"})
        before_a, before_b = self.snapshot("numbers"), self.snapshot("numbers", key=self.srv.key_b)
        for key in (self.srv.key_a, self.srv.key_b):  # "anywhere": across organizations too
            with self.subTest(org="A" if key == self.srv.key_a else ORG_B):
                r = self.api("POST", "/numbers", {"phone_number": "+31850000304"}, key=key)
                self.assertError(r, 409, "conflict")
        self.assertEqual(self.snapshot("numbers"), before_a)
        self.assertEqual(self.snapshot("numbers", key=self.srv.key_b), before_b)

    def test_patch_to_duplicate_number_is_409(self):
        self.srv.create("numbers", {"phone_number": "+31850000305"})
        other = self.srv.create("numbers", {"phone_number": "+31850000306"})
        r = self.api("PATCH", f"/numbers/{other['id']}", {"phone_number": "+31850000305"})
        self.assertError(r, 409, "conflict")
        self.assertEqual(self.api("GET", f"/numbers/{other['id']}").body["number"], other)

    def test_deleting_assistant_nulls_assistant_id(self):
        assistant = self.srv.create("assistants", {"name": "Short-lived"})
        keep = self.srv.create("assistants", {"name": "Kept"})
        n1 = self.srv.create("numbers", {"phone_number": "+31850000307",
                                         "assistant_id": assistant["id"],
                                         "transfer_trunk_id": self.trunk["id"]})
        n2 = self.srv.create("numbers", {"phone_number": "+31850000308",
                                         "assistant_id": keep["id"]})
        self.assertStatus(self.api("DELETE", f"/assistants/{assistant['id']}"), 200)
        got = self.api("GET", f"/numbers/{n1['id']}").body["number"]
        self.assertIsNone(got["assistant_id"])
        self.assertIsNone(got["agent_id"])
        self.assertEqual(got["transfer_trunk_id"], self.trunk["id"], "trunk untouched")
        self.assertEqual(self.api("GET", f"/numbers/{n2['id']}").body["number"]["assistant_id"],
                         keep["id"])

    def test_deleting_trunk_nulls_transfer_trunk_id(self):
        trunk = self.srv.create("sip-trunks", {"name": "Temp", "host": "10.9.9.9",
                                               "auth_type": "ip"})
        n = self.srv.create("numbers", {"phone_number": "+31850000309",
                                        "assistant_id": self.assistant["id"],
                                        "transfer_trunk_id": trunk["id"]})
        self.assertStatus(self.api("DELETE", f"/sip-trunks/{trunk['id']}"), 200)
        got = self.api("GET", f"/numbers/{n['id']}").body["number"]
        self.assertIsNone(got["transfer_trunk_id"])
        self.assertEqual(got["assistant_id"], self.assistant["id"], "assistant untouched")


if __name__ == "__main__":
    unittest.main()
