"""SIP trunks: /api/v1/sip-trunks happy paths and response shapes (validation: test_validation)."""

import unittest

import harness
from harness import ServerTestCase, new_uuid

TRUNK_KEYS = {
    "id", "name", "host", "port", "username", "direction", "transport", "auth_type", "caller_id",
    "allowed_addresses", "numbers", "transfer_method", "refer_uri", "headers", "inbound_username",
    "sip_endpoint", "has_password", "is_active", "created_at", "updated_at", "country_code",
    "from_user", "auth_username", "send_pai", "max_concurrent_calls", "max_calls_per_second",
    "options_ping_seconds", "status", "status_checked_at",
}

FULL_OUTBOUND = {
    "name": "Office PBX",
    "host": "pbx.example.com",
    "port": 5080,
    "username": "hms-sovereign",
    "password": "secure-password",
    "direction": "outbound",
    "transport": "tcp",
    "auth_type": "digest",
    "caller_id": "+31850835037",
    "allowed_addresses": ["203.0.113.0/24", "2001:db8::/32"],
    "numbers": ["+31850835038"],
    "transfer_method": "refer",
    "headers": {"X-Account": "acme-42"},
    "is_active": True,
}


class TrunkTestCase(ServerTestCase):
    def assertTrunkResponse(self, resp, status, create=False):
        """Checks the `{"sip_trunk": T, "trunk": T}` envelope and the trunk shape; returns T."""
        self.assertStatus(resp, status)
        # Create and update also say what will not work as configured (a list, maybe empty).
        self.assertKeys(resp.body, {"sip_trunk", "trunk"}, optional={"warnings"})
        if "warnings" in resp.body:
            self.assertIsInstance(resp.body["warnings"], list)
            for warning in resp.body["warnings"]:
                self.assertIsInstance(warning, str)
        trunk = resp.body["sip_trunk"]
        self.assertEqual(trunk, resp.body["trunk"], "sip_trunk and trunk must be the same object")
        self.assertKeys(trunk, TRUNK_KEYS, optional={"inbound_password"} if create else ())
        self.assertNotIn("password", trunk)
        if not create:
            self.assertIsNone(trunk.get("inbound_password"), "inbound_password only on create")
        self.assertUuid(trunk["id"])
        self.assertTimestamp(trunk["created_at"])
        self.assertTimestamp(trunk["updated_at"])
        return trunk


class TestTrunkCrud(TrunkTestCase):
    def test_create_full_outbound_trunk(self):
        trunk = self.assertTrunkResponse(self.api("POST", "/sip-trunks", FULL_OUTBOUND), 201,
                                         create=True)
        expected = {k: v for k, v in FULL_OUTBOUND.items() if k != "password"}
        self.assertSubset(expected, trunk)
        self.assertIs(trunk["has_password"], True)
        self.assertIsNone(trunk["sip_endpoint"], "outbound trunks have no sip_endpoint")
        self.assertIsNone(trunk["inbound_username"])
        self.assertIsNone(trunk.get("inbound_password"))
        self.assertEqual(trunk["created_at"], trunk["updated_at"])

    def test_create_minimal_trunk_gets_defaults(self):
        body = {"name": "FreePBX", "host": "192.168.1.100", "username": "trunk",
                "password": "your-trunk-password"}
        trunk = self.assertTrunkResponse(self.api("POST", "/sip-trunks", body), 201, create=True)
        self.assertEqual(trunk["port"], 5060)
        self.assertEqual(trunk["direction"], "outbound")
        self.assertEqual(trunk["transport"], "udp")
        self.assertEqual(trunk["auth_type"], "digest")
        self.assertEqual(trunk["transfer_method"], "bridge")
        self.assertIs(trunk["is_active"], True)
        self.assertEqual(trunk["allowed_addresses"], [])
        self.assertEqual(trunk["numbers"], [])
        self.assertEqual(trunk["headers"], {})
        self.assertIsNone(trunk["caller_id"])
        self.assertEqual(trunk["username"], "trunk")

    def test_seed_page_examples_are_accepted(self):
        # The three example bodies of the seed guide (FreePBX, 3CX, generic provider).
        for body in (
            {"name": "FreePBX", "host": "192.168.1.100", "port": 5060,
             "username": "hms-sovereign-trunk", "password": "your-trunk-password"},
            {"name": "3CX Office", "host": "yourcompany.3cx.com", "port": 5060,
             "username": "hms-sovereign", "password": "trunk-password"},
            {"name": "SIP Provider", "host": "sip.provider.com", "port": 5060,
             "username": "your-account", "password": "your-password"},
        ):
            with self.subTest(body["name"]):
                trunk = self.assertTrunkResponse(self.api("POST", "/sip-trunks", body), 201,
                                                 create=True)
                self.assertEqual(trunk["host"], body["host"])

    def test_ip_literal_hosts(self):
        for host in ("10.1.2.3", "::1", "2001:db8::10", "localhost", "sip-1.carrier.example"):
            with self.subTest(host=host):
                trunk = self.create_ip_trunk(host=host)
                self.assertEqual(trunk["host"], host)

    def create_ip_trunk(self, **extra):
        body = {"name": "IP-auth carrier", "host": "sip.carrier.example", "auth_type": "ip"}
        body.update(extra)
        return self.assertTrunkResponse(self.api("POST", "/sip-trunks", body), 201, create=True)

    def test_ip_auth_trunk_without_credentials(self):
        trunk = self.create_ip_trunk()
        self.assertEqual(trunk["auth_type"], "ip")
        self.assertIs(trunk["has_password"], False)
        self.assertIsNone(trunk["username"])

    def test_inbound_digest_trunk_gets_generated_credentials(self):
        body = {"name": "Carrier inbound", "host": "sip.carrier.example", "direction": "inbound",
                "numbers": ["+31201234567"]}
        r = self.api("POST", "/sip-trunks", body)
        trunk = self.assertTrunkResponse(r, 201, create=True)
        self.assertIsInstance(trunk["inbound_username"], str)
        self.assertTrue(trunk["inbound_username"])
        self.assertIsInstance(trunk.get("inbound_password"), str, "generated password on create")
        self.assertGreaterEqual(len(trunk["inbound_password"]), 12)
        self.assertIsInstance(trunk["sip_endpoint"], str)
        self.assertTrue(trunk["sip_endpoint"].startswith("sip:"), trunk["sip_endpoint"])
        # GET, list and PATCH never show the generated password again.
        got = self.assertTrunkResponse(self.api("GET", f"/sip-trunks/{trunk['id']}"), 200)
        self.assertEqual(got["inbound_username"], trunk["inbound_username"])
        self.assertEqual(got["sip_endpoint"], trunk["sip_endpoint"])
        listed = next(t for t in self.snapshot("sip-trunks")["trunks"] if t["id"] == trunk["id"])
        self.assertIsNone(listed.get("inbound_password"))
        r_patch = self.api("PATCH", f"/sip-trunks/{trunk['id']}", {"name": "Carrier in"})
        patched = self.assertTrunkResponse(r_patch, 200)
        self.assertEqual(patched["inbound_username"], trunk["inbound_username"])
        for later in (self.api("GET", f"/sip-trunks/{trunk['id']}"), self.api("GET", "/sip-trunks"),
                      r_patch):
            self.assertNotIn(trunk["inbound_password"].encode(), later.raw)

    def test_both_direction_trunk(self):
        body = {"name": "Both ways", "host": "sip.carrier.example", "direction": "both",
                "username": "out-user", "password": "out-pass"}
        trunk = self.assertTrunkResponse(self.api("POST", "/sip-trunks", body), 201, create=True)
        self.assertEqual(trunk["direction"], "both")
        self.assertTrue(trunk["inbound_username"])
        self.assertTrue(trunk.get("inbound_password"))
        self.assertTrue(trunk["sip_endpoint"].startswith("sip:"))
        self.assertIs(trunk["has_password"], True)

    def test_inbound_ip_trunk_has_no_generated_credentials(self):
        trunk = self.create_ip_trunk(direction="inbound", allowed_addresses=["198.51.100.7"])
        self.assertIsNone(trunk["inbound_username"])
        self.assertIsNone(trunk.get("inbound_password"))
        self.assertEqual(trunk["allowed_addresses"], ["198.51.100.7"])

    def test_get_one(self):
        created = self.assertTrunkResponse(self.api("POST", "/sip-trunks", FULL_OUTBOUND), 201,
                                           create=True)
        got = self.assertTrunkResponse(self.api("GET", f"/sip-trunks/{created['id']}"), 200)
        created.pop("inbound_password", None)
        self.assertEqual(got, created)

    def test_list(self):
        a = self.create_ip_trunk(name="list-1")
        b = self.create_ip_trunk(name="list-2")
        r = self.api("GET", "/sip-trunks")
        self.assertStatus(r, 200)
        self.assertKeys(r.body, {"trunks"})
        self.assertIsInstance(r.body["trunks"], list)
        by_id = {t["id"]: t for t in r.body["trunks"]}
        for t in r.body["trunks"]:
            self.assertKeys(t, TRUNK_KEYS)
            self.assertNotIn("password", t)
        a.pop("inbound_password", None)
        b.pop("inbound_password", None)
        self.assertEqual(by_id[a["id"]], a)
        self.assertEqual(by_id[b["id"]], b)

    def test_patch_updates_fields(self):
        created = self.assertTrunkResponse(self.api("POST", "/sip-trunks", FULL_OUTBOUND), 201,
                                           create=True)
        change = {"name": "Office PBX 2", "host": "10.0.0.5", "port": 5061, "transport": "tls",
                  "transfer_method": "auto", "caller_id": "+442071234567",
                  "allowed_addresses": ["10.0.0.0/8"], "numbers": ["+442071234568"],
                  "headers": {"X-Tenant": "t1", "P-Asserted-Identity": "<sip:+1@x>"},
                  "is_active": False, "password": "rotated-password"}
        r = self.api("PATCH", f"/sip-trunks/{created['id']}", change)
        patched = self.assertTrunkResponse(r, 200)
        self.assertSubset({k: v for k, v in change.items() if k != "password"}, patched)
        self.assertEqual(patched["id"], created["id"])
        self.assertEqual(patched["created_at"], created["created_at"])
        self.assertGreaterEqual(patched["updated_at"], created["updated_at"])
        self.assertEqual(patched["username"], created["username"], "unchanged field kept")
        self.assertEqual(patched["direction"], created["direction"])
        self.assertIs(patched["has_password"], True)
        got = self.assertTrunkResponse(self.api("GET", f"/sip-trunks/{created['id']}"), 200)
        self.assertEqual(got, patched)

    def test_patch_null_clears_optional_fields(self):
        created = self.assertTrunkResponse(self.api("POST", "/sip-trunks", FULL_OUTBOUND), 201,
                                           create=True)
        r = self.api("PATCH", f"/sip-trunks/{created['id']}",
                     {"auth_type": "ip", "username": None, "password": None, "caller_id": None})
        patched = self.assertTrunkResponse(r, 200)
        self.assertIsNone(patched["username"])
        self.assertIsNone(patched["caller_id"])
        self.assertIs(patched["has_password"], False)
        self.assertEqual(patched["auth_type"], "ip")

    def test_patch_empty_object_changes_nothing(self):
        created = self.create_ip_trunk(name="unchanged")
        created.pop("inbound_password", None)
        patched = self.assertTrunkResponse(self.api("PATCH", f"/sip-trunks/{created['id']}", {}),
                                           200)
        for k in TRUNK_KEYS - {"updated_at"}:
            self.assertEqual(patched[k], created[k], k)

    def test_delete(self):
        created = self.create_ip_trunk(name="to delete")
        r = self.api("DELETE", f"/sip-trunks/{created['id']}")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"success": True})
        self.assertError(self.api("GET", f"/sip-trunks/{created['id']}"), 404, "not_found")
        self.assertError(self.api("DELETE", f"/sip-trunks/{created['id']}"), 404, "not_found")
        self.assertNotIn(created["id"], [t["id"] for t in self.snapshot("sip-trunks")["trunks"]])

    def test_delete_nulls_transfer_trunk_id_on_numbers(self):
        trunk = self.create_ip_trunk(name="used by numbers")
        other = self.create_ip_trunk(name="kept")
        n1 = self.srv.create("numbers", {"phone_number": "+31850000101",
                                         "transfer_trunk_id": trunk["id"]})
        n2 = self.srv.create("numbers", {"phone_number": "+31850000102",
                                         "transfer_trunk_id": trunk["id"]})
        n3 = self.srv.create("numbers", {"phone_number": "+31850000103",
                                         "transfer_trunk_id": other["id"]})
        self.assertEqual(n1["transfer_trunk_id"], trunk["id"])
        self.assertStatus(self.api("DELETE", f"/sip-trunks/{trunk['id']}"), 200)
        for n in (n1, n2):
            got = self.api("GET", f"/numbers/{n['id']}")
            self.assertStatus(got, 200)
            self.assertIsNone(got.body["number"]["transfer_trunk_id"])
        got = self.api("GET", f"/numbers/{n3['id']}")
        self.assertEqual(got.body["number"]["transfer_trunk_id"], other["id"])

    def test_unknown_and_malformed_ids_are_404(self):
        for trunk_id in (new_uuid(), "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
            for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
                with self.subTest(method=method, id=trunk_id):
                    self.assertError(self.api(method, f"/sip-trunks/{trunk_id}", body), 404,
                                     "not_found")

    def test_ids_are_unique(self):
        ids = {self.create_ip_trunk(name=f"u{i}")["id"] for i in range(5)}
        self.assertEqual(len(ids), 5)


def ip_trunk(name, addresses, **extra):
    body = {"name": name, "direction": "inbound", "auth_type": "ip",
            "allowed_addresses": addresses}
    body.update(extra)
    return body


class TestInboundAddressOverlap(ServerTestCase):
    """An inbound trunk that identifies callers by address may not share addresses with another
    organization's (409 address_in_use, the other trunk unnamed); one organization may overlap
    itself (docs/api.md "Identifying inbound calls by address"). Each test uses its own ranges."""

    def create(self, body, key):
        r = self.api("POST", "/sip-trunks", body, key=key)
        self.assertStatus(r, 201)
        return r.body["trunk"]

    def trunks(self, key):
        r = self.api("GET", "/sip-trunks", key=key)
        self.assertStatus(r, 200)
        return r.body["trunks"]

    def assertAddressInUse(self, resp, field, address, hidden=()):
        body = self.assertError(resp, 409, "address_in_use", field=field)
        self.assertIn(field, body["message"])
        self.assertIn(address, body["message"])
        for secret in hidden:
            self.assertNotIn(secret, resp.raw.decode(), "the other organization's trunk leaked")
        return body

    def test_overlap_with_another_organization_is_refused_without_naming_it(self):
        a = self.create(ip_trunk("Secret carrier A", ["198.18.1.0/24"]), self.srv.key_a)
        hidden = (a["id"], a["name"], harness.ORG_A, self.srv.org_id(self.srv.key_a))
        before = self.trunks(self.srv.key_b)
        r = self.api("POST", "/sip-trunks", ip_trunk("B", ["198.18.9.9", "198.18.1.77"]),
                     key=self.srv.key_b)
        self.assertAddressInUse(r, "allowed_addresses[1]", "198.18.1.77", hidden)
        self.assertEqual(self.trunks(self.srv.key_b), before, "nothing half-written")
        # A's trunk is untouched, and B may take a range next to it.
        self.assertEqual(self.api("GET", f"/sip-trunks/{a['id']}").body["trunk"], a)
        self.create(ip_trunk("B next door", ["198.18.2.0/24"]), self.srv.key_b)

    def test_ranges_overlap_when_they_share_an_address(self):
        cases = [  # (A's addresses, B's addresses, the entry of B's that is refused)
            (["198.18.10.0/24"], ["198.18.0.0/16"], 0),           # B's range holds A's
            (["198.18.11.0/24"], ["198.18.11.128/25"], 0),        # A's range holds B's
            (["198.18.12.5"], ["198.18.12.5/32"], 0),             # a bare address is a /32
            (["2001:db8:aa00::/40"], ["2001:db8:aa12::7"], 0),    # IPv6
            (["2001:db8:bb00::1"], ["2001:db8:bb01::/48", "2001:db8:bb00::/48"], 1),
        ]
        for mine, theirs, index in cases:
            with self.subTest(a=mine, b=theirs):
                self.create(ip_trunk("A", mine), self.srv.key_a)
                r = self.api("POST", "/sip-trunks", ip_trunk("B", theirs), key=self.srv.key_b)
                self.assertAddressInUse(r, f"allowed_addresses[{index}]", theirs[index])
        # Neighbours and other families do not overlap.
        self.create(ip_trunk("A", ["198.18.13.0/25"]), self.srv.key_a)
        self.create(ip_trunk("B", ["198.18.13.128/25", "2001:db8:cc00::/40"]), self.srv.key_b)

    def test_one_organization_may_overlap_itself(self):
        first = self.create(ip_trunk("A1", ["198.18.20.0/24"], numbers=["+31850000201"]),
                            self.srv.key_a)
        second = self.create(ip_trunk("A2", ["198.18.20.7"], numbers=["+31850000202"],
                                      direction="both", host="sip.carrier.example"),
                             self.srv.key_a)
        self.assertNotEqual(first["id"], second["id"])
        r = self.api("PATCH", f"/sip-trunks/{second['id']}",
                     {"allowed_addresses": ["198.18.20.0/23"]})
        self.assertStatus(r, 200)

    def test_trunks_that_do_not_identify_by_address_never_conflict(self):
        self.create(ip_trunk("A", ["198.18.30.0/24"]), self.srv.key_a)
        outbound = self.create(ip_trunk("B out", ["198.18.30.1"], direction="outbound",
                                        host="sip.carrier.example"), self.srv.key_b)
        digest = self.create(ip_trunk("B digest", ["198.18.30.2"], auth_type="digest"),
                             self.srv.key_b)
        # Turning either into an address-identified inbound trunk is what is refused.
        for trunk, change in ((outbound, {"direction": "inbound"}),
                              (digest, {"auth_type": "ip"})):
            with self.subTest(change=change):
                r = self.api("PATCH", f"/sip-trunks/{trunk['id']}", change, key=self.srv.key_b)
                self.assertAddressInUse(r, "allowed_addresses[0]", trunk["allowed_addresses"][0])
                got = self.api("GET", f"/sip-trunks/{trunk['id']}", key=self.srv.key_b)
                for k, v in change.items():
                    self.assertNotEqual(got.body["trunk"][k], v, "nothing half-written")

    def test_patch_that_adds_an_overlap_is_refused_and_changes_nothing(self):
        self.create(ip_trunk("A", ["198.18.40.0/24"]), self.srv.key_a)
        b = self.create(ip_trunk("B", ["198.18.41.0/24"]), self.srv.key_b)
        r = self.api("PATCH", f"/sip-trunks/{b['id']}",
                     {"name": "B renamed", "allowed_addresses": ["198.18.41.0/24", "198.18.40.9"]},
                     key=self.srv.key_b)
        self.assertAddressInUse(r, "allowed_addresses[1]", "198.18.40.9")
        got = self.api("GET", f"/sip-trunks/{b['id']}", key=self.srv.key_b).body["trunk"]
        self.assertEqual(got["name"], "B")
        self.assertEqual(got["allowed_addresses"], ["198.18.41.0/24"])
        # A PATCH that keeps B's own addresses passes.
        r = self.api("PATCH", f"/sip-trunks/{b['id']}", {"name": "B renamed"}, key=self.srv.key_b)
        self.assertStatus(r, 200)

    def test_an_inactive_trunk_still_holds_its_addresses(self):
        self.create(ip_trunk("A off", ["198.18.50.0/24"], is_active=False), self.srv.key_a)
        r = self.api("POST", "/sip-trunks", ip_trunk("B", ["198.18.50.1"]), key=self.srv.key_b)
        self.assertAddressInUse(r, "allowed_addresses[0]", "198.18.50.1")


if __name__ == "__main__":
    unittest.main()


class TestTrunkCountryCode(ServerTestCase):
    """`country_code` turns national numbers a trunk delivers into E.164 (docs/calls.md)."""

    def test_valid_and_invalid_country_codes(self):
        r = self.api("POST", "/sip-trunks", {"name": "NL carrier", "direction": "inbound",
                                             "auth_type": "ip", "allowed_addresses": ["203.0.113.0/24"],
                                             "country_code": "31"})
        self.assertStatus(r, 201)
        trunk_id = r.body["trunk"]["id"]
        self.assertEqual(r.body["trunk"]["country_code"], "31")
        for bad in ("+31", "031", "1234", "3a", ""):
            r = self.api("PATCH", f"/sip-trunks/{trunk_id}", {"country_code": bad})
            self.assertError(r, 400, "invalid_request", field="country_code", msg=bad)
        r = self.api("PATCH", f"/sip-trunks/{trunk_id}", {"country_code": None})
        self.assertStatus(r, 200)
        self.assertIsNone(r.body["trunk"]["country_code"])
