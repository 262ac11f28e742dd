"""Restarts keep every object; SIGTERM and SIGINT shut down gracefully (exit status 0)."""

import signal
import unittest

from harness import ORG_B, ServerTestCase

COLLECTIONS = {"sip-trunks": ("trunks", "sip_trunk"), "numbers": ("numbers", "number"),
               "assistants": ("assistants", "assistant")}


class TestPersistence(ServerTestCase):
    @classmethod
    def setUpServer(cls):
        srv = cls.server
        outbound = srv.create("sip-trunks", {
            "name": "Persisted PBX", "host": "pbx.example.com", "port": 5070,
            "username": "user", "password": "persisted-password", "transport": "tls",
            "caller_id": "+31850835037", "allowed_addresses": ["203.0.113.0/24"],
            "numbers": ["+31850835038"], "transfer_method": "auto",
            "headers": {"X-Tenant": "acme"}, "is_active": False})
        inbound = srv.create("sip-trunks", {"name": "Inbound", "host": "carrier.example",
                                            "direction": "inbound"})
        assistant = srv.create("assistants", {
            "name": "Persisted assistant", "first_message": "Hello!",
            "webhook_url": "https://hooks.example/x", "webhook_secret": "persisted-webhook",
            "metadata": {"a": [1, 2, {"b": None}]},
            "llm_config": {"provider": "openai", "model": "gpt-4o-mini", "tools": [
                {"type": "transfer_call", "destinations": [
                    {"type": "number", "number": "+31612345678", "description": "Sales"},
                    {"type": "sip", "sip_uri": "sip:desk@pbx.example.com", "username": "d",
                     "password": "persisted-dest", "description": "Desk"}]},
                {"type": "end_call"}]}})
        srv.create("numbers", {"phone_number": "+31850835037", "name": "Main",
                               "assistant_id": assistant["id"],
                               "transfer_trunk_id": outbound["id"]})
        srv.create("numbers", {"phone_number": "+31850835039", "agent_id": assistant["id"],
                               "is_active": False})
        b_assistant = srv.create("assistants", {"name": "B's"}, key=srv.key_b)
        srv.create("numbers", {"phone_number": "+442071234567",
                               "assistant_id": b_assistant["id"]}, key=srv.key_b)
        cls.created = {"outbound": outbound, "inbound": inbound, "assistant": assistant}

    def everything(self):
        """Every list and every object of both organizations, as the API shows them."""
        state = {}
        for org, key in (("A", self.srv.key_a), ("B", self.srv.key_b)):
            org_r = self.api("GET", "/organizations", key=key)
            self.assertStatus(org_r, 200)
            state[(org, "organization")] = org_r.body
            for coll, (list_key, wrapper) in COLLECTIONS.items():
                listed = self.snapshot(coll, key=key)[list_key]
                state[(org, coll)] = listed
                for obj in listed:
                    r = self.api("GET", f"/{coll}/{obj['id']}", key=key)
                    self.assertStatus(r, 200)
                    state[(org, coll, obj["id"])] = r.body
        state["calls"] = self.api("GET", "/calls").body
        return state

    @staticmethod
    def _without_endpoints(value):
        """`sip_endpoint` names where this process listens (an ephemeral port in tests): it is
        configuration, not stored data, so it may change across a restart."""
        if isinstance(value, dict):
            return {k: TestPersistence._without_endpoints(v) for k, v in value.items()
                    if k != "sip_endpoint"}
        if isinstance(value, list):
            return [TestPersistence._without_endpoints(v) for v in value]
        return value

    def assertSameAfter(self, restart):
        before = self.everything()
        self.assertTrue(before[("A", "sip-trunks")] and before[("A", "numbers")])
        restart()
        after = self.everything()
        self.assertEqual(after.keys(), before.keys())
        for k in before:
            self.assertEqual(self._without_endpoints(after[k]), self._without_endpoints(before[k]),
                             f"{k} changed across the restart")

    def test_1_restart_after_sigterm_keeps_everything(self):
        self.assertSameAfter(self.srv.restart)  # stop() asserts exit status 0 within 10 s

    def test_2_restart_after_sigint_keeps_everything(self):
        def restart():
            self.srv.stop(sig=signal.SIGINT)
            self.srv.start()
        self.assertSameAfter(restart)

    def test_3_secrets_still_flagged_after_restart(self):
        self.srv.restart()
        trunk = self.api("GET", f"/sip-trunks/{self.created['outbound']['id']}").body["sip_trunk"]
        self.assertIs(trunk["has_password"], True)
        inbound = self.api("GET", f"/sip-trunks/{self.created['inbound']['id']}").body["trunk"]
        self.assertEqual(inbound["inbound_username"], self.created["inbound"]["inbound_username"])
        a = self.api("GET", f"/assistants/{self.created['assistant']['id']}").body["assistant"]
        self.assertIs(a.get("has_webhook_secret"), True)
        self.assertIs(a["llm_config"]["tools"][0]["destinations"][1].get("has_password"), True)

    def test_4_writes_after_restart_persist(self):
        self.srv.restart()
        n = self.srv.create("numbers", {"phone_number": "+31850835040"})
        self.assertStatus(self.api("PATCH", f"/numbers/{n['id']}", {"name": "after restart"}), 200)
        doomed = self.srv.create("assistants", {"name": "doomed"})
        self.assertStatus(self.api("DELETE", f"/assistants/{doomed['id']}"), 200)
        self.srv.restart()
        self.assertEqual(self.api("GET", f"/numbers/{n['id']}").body["number"]["name"],
                         "after restart")
        self.assertError(self.api("GET", f"/assistants/{doomed['id']}"), 404, "not_found")
        # Duplicate detection also survives the restart.
        self.assertError(self.api("POST", "/numbers", {"phone_number": "+31850835040"},
                                  key=self.srv.key_b), 409, "conflict")

    def test_5_keys_and_revocations_survive_restart(self):
        revoked = self.srv.create_key("revoked-org")
        self.srv.revoke_key(self.srv.key_id_for_org("revoked-org"))
        self.srv.restart()
        self.assertStatus(self.api("GET", "/organizations"), 200)
        r = self.api("GET", "/organizations", key=self.srv.key_b)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["name"], ORG_B)
        self.assertError(self.api("GET", "/organizations", key=revoked), 401, "api_key_revoked")

    def test_6_migrate_on_an_existing_data_dir(self):
        self.srv.stop()
        out = self.srv.cli("migrate", "--data-dir", self.srv.data_dir).stdout
        self.assertRegex(out, r"\d")
        self.srv.start()
        self.assertTrue(self.snapshot("numbers")["numbers"])


if __name__ == "__main__":
    unittest.main()
