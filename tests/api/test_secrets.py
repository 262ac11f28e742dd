"""Secrets never leak: not in any API response (create/get/list/patch, errors), not in the files of
the data directory (trunkline.db, -wal, -shm, ...) while running or after shutdown, and not in the
server's log output.

Secrets: a trunk password (and its rotated value), an inbound trunk's generated password (which the
create response shows once, by design), an assistant transfer destination password, an assistant
webhook_secret (and its rotated value), a rejected request's password, organization BYOK provider
keys (stored, replaced, deleted, rejected), a transient assistant's webhook_secret and transfer
destination password sent to POST /calls/outbound (accepted and refused requests), and the API keys
themselves (the store keeps only their hash).
"""

import os
import unittest

from harness import ServerTestCase, secret_variants

TRUNK_PW = "TrunkPw-7f3a9c1e-Sx"
TRUNK_PW_ROTATED = "TrunkPw-Rotated-0b12d"
INBOUND_TRUNK_PW = "InboundOutPw-5d6e7f8a"
DEST_PW = "DestPw-83bd41c7-Sip"
DEST_PW_2 = "DestPw-Second-29ac6e"
WEBHOOK_SECRET = "Whsec-5c2e9d01-Hook"
WEBHOOK_SECRET_ROTATED = "Whsec-Rotated-7a7a1b"
REJECTED_PW = "RejectedPw-44e0c2aa"
BYOK_KEY = "sk-ByokSecret-3e8f1a2b9c"
BYOK_KEY_ROTATED = "sk-ByokSecret-Rotated-6d5c"
BYOK_KEY_DELETED = "dg-ByokSecret-Deleted-0a9b"
BYOK_KEY_REJECTED = "sk-ByokSecret-Rejected-77f0"
OUTBOUND_WEBHOOK_SECRET = "Whsec-Outbound-4e1d2c3b"
OUTBOUND_DEST_PW = "DestPw-Outbound-91f0aa"
OUTBOUND_REJECTED_SECRET = "Whsec-OutboundRejected-55ab"


class TestSecrets(ServerTestCase):
    def test_secrets_never_leak(self):
        srv = self.srv
        secrets = {"trunk password": TRUNK_PW, "rotated trunk password": TRUNK_PW_ROTATED,
                   "inbound trunk outbound password": INBOUND_TRUNK_PW,
                   "destination password": DEST_PW, "second destination password": DEST_PW_2,
                   "webhook secret": WEBHOOK_SECRET, "rotated webhook secret": WEBHOOK_SECRET_ROTATED,
                   "rejected password": REJECTED_PW, "BYOK key": BYOK_KEY,
                   "rotated BYOK key": BYOK_KEY_ROTATED, "deleted BYOK key": BYOK_KEY_DELETED,
                   "rejected BYOK key": BYOK_KEY_REJECTED,
                   "outbound transient webhook secret": OUTBOUND_WEBHOOK_SECRET,
                   "outbound transient destination password": OUTBOUND_DEST_PW,
                   "outbound refused webhook secret": OUTBOUND_REJECTED_SECRET}

        # --- create, read, list, update everything that holds a secret
        trunk = srv.create("sip-trunks", {"name": "Secret PBX", "host": "pbx.example.com",
                                          "username": "user", "password": TRUNK_PW})
        self.assertIs(trunk["has_password"], True)
        n_before = len(srv.responses)
        r = self.api("POST", "/sip-trunks", {"name": "Secret inbound", "host": "carrier.example",
                                             "direction": "both", "username": "out",
                                             "password": INBOUND_TRUNK_PW})
        self.assertStatus(r, 201)
        inbound_create_index = n_before  # the one response allowed to show the generated one
        inbound = r.body["sip_trunk"]
        generated = inbound.get("inbound_password")
        self.assertIsInstance(generated, str, "both/digest trunk must get a generated password")
        secrets["generated inbound password"] = generated

        assistant = srv.create("assistants", {
            "name": "Secret assistant", "webhook_url": "https://hooks.example/x",
            "webhook_secret": WEBHOOK_SECRET,
            "llm_config": {"provider": "openai", "model": "gpt-4o-mini", "tools": [
                {"type": "transfer_call", "destinations": [
                    {"type": "sip", "sip_uri": "sip:desk@pbx.example.com", "username": "desk",
                     "password": DEST_PW, "description": "Desk"},
                    {"type": "number", "number": "+31612345678", "description": "Mobile"}]}]}})
        self.assertIs(assistant.get("has_webhook_secret"), True)
        srv.create("numbers", {"phone_number": "+31850835037", "assistant_id": assistant["id"],
                               "transfer_trunk_id": trunk["id"]})

        for coll, obj in (("sip-trunks", trunk), ("sip-trunks", inbound),
                          ("assistants", assistant)):
            self.assertStatus(self.api("GET", f"/{coll}/{obj['id']}"), 200)
            self.assertStatus(self.api("GET", f"/{coll}"), 200)
            self.assertStatus(self.api("PATCH", f"/{coll}/{obj['id']}", {"name": "renamed"}), 200)
        r = self.api("PATCH", f"/sip-trunks/{trunk['id']}", {"password": TRUNK_PW_ROTATED})
        self.assertStatus(r, 200)
        self.assertIs(r.body["sip_trunk"]["has_password"], True)
        r = self.api("PATCH", f"/assistants/{assistant['id']}", {
            "webhook_secret": WEBHOOK_SECRET_ROTATED,
            "llm_config": {"provider": "openai", "model": "gpt-4o-mini", "tools": [
                {"type": "transfer_call", "destinations": [
                    {"type": "sip", "sip_uri": "sip:desk2@pbx.example.com", "password": DEST_PW_2,
                     "description": "Desk 2"}]}]}})
        self.assertStatus(r, 200)
        # A rejected request must not echo the secret it carried.
        r = self.api("POST", "/sip-trunks", {"name": "bad", "host": "pbx.example.com", "port": 0,
                                             "username": "u", "password": REJECTED_PW})
        self.assertStatus(r, 400)
        r = self.api("PATCH", f"/sip-trunks/{trunk['id']}", {"password": REJECTED_PW,
                                                             "transport": "nope"})
        self.assertStatus(r, 400)
        # BYOK provider keys: stored, replaced, deleted, and rejected (unknown field).
        for provider, api_key in (("openai", BYOK_KEY), ("openai", BYOK_KEY_ROTATED),
                                  ("deepgram", BYOK_KEY_DELETED)):
            self.assertStatus(self.api("POST", "/byok", {"provider": provider, "api_key": api_key}),
                              200)
        self.assertStatus(self.api("DELETE", "/byok", {"provider": "deepgram"}), 200)
        r = self.api("POST", "/byok", {"provider": "openai", "api_key": BYOK_KEY_REJECTED,
                                       "extra": 1})
        self.assertStatus(r, 400)
        self.assertStatus(self.api("POST", "/byok/config",
                                   {"provider": "openai", "config": {"organization": "o"}}), 200)
        # A transient assistant's secrets on POST /calls/outbound: sealed before they reach the
        # engine (200 once it dials, 501 until then), never echoed, also when refused.
        transient = {"webhook_url": "https://hooks.example/t", "webhook_secret":
                     OUTBOUND_WEBHOOK_SECRET, "llm_config": {
                         "provider": "openai", "model": "gpt-4o-mini", "tools": [
                             {"type": "transfer_call", "destinations": [
                                 {"type": "sip", "sip_uri": "sip:desk@pbx.example.com",
                                  "password": OUTBOUND_DEST_PW, "description": "Desk"}]}]}}
        r = self.api("POST", "/calls/outbound", {"destination": "+31612345678",
                                                  "trunk_id": trunk["id"], "assistant": transient})
        self.assertIn(r.status, (200, 501), r)
        r = self.api("POST", "/calls/outbound", {
            "destination": "+31612345678", "trunk_id": trunk["id"],
            "assistant": {**transient, "webhook_secret": OUTBOUND_REJECTED_SECRET,
                          "webhook_url": "not-a-url"}})
        self.assertStatus(r, 400)
        r = self.api("POST", "/calls/outbound", {
            "destination": "+31612345678", "assistant_id": assistant["id"],
            "trunk_id": trunk["id"],
            "assistant_override": {"webhook_secret": OUTBOUND_REJECTED_SECRET, "bogus": 1}})
        self.assertStatus(r, 400)
        # Values survive a restart (read back and unsealed), still hidden.
        srv.restart()
        for coll in ("sip-trunks", "assistants", "numbers", "byok", "byok/config"):
            self.assertStatus(self.api("GET", f"/{coll}"), 200)
        self.assertIsNotNone(self.api("GET", "/byok").body["byok_keys"]["openai_secret_id"])
        got = self.api("GET", f"/assistants/{assistant['id']}").body["assistant"]
        self.assertIs(got.get("has_webhook_secret"), True)
        self.assertIs(got["llm_config"]["tools"][0]["destinations"][0].get("has_password"), True)

        # --- every response
        for i, raw in enumerate(srv.responses):
            for name, secret in secrets.items():
                if i == inbound_create_index and name == "generated inbound password":
                    continue
                for variant, needle in secret_variants(secret).items():
                    self.assertNotIn(needle, raw, f"{name} ({variant}) in response #{i}: {raw[:300]!r}")
        for key_name in ("password", "webhook_secret", "inbound_password_sealed",
                         "password_sealed", "api_key", "key_sealed"):
            for i, raw in enumerate(srv.responses):
                if i != inbound_create_index:
                    self.assertNotIn(f'"{key_name}"'.encode(), raw,
                                     f"response #{i} has a {key_name!r} key: {raw[:300]!r}")

        # --- data directory while running (the WAL holds the latest writes)
        self.assertNoSecretsInDataDir(secrets, "while running")

        # --- data directory after shutdown, and the server log
        srv.stop()
        self.assertTrue(os.path.exists(srv.db_path), "no trunkline.db in the data dir")
        self.assertNoSecretsInDataDir(secrets, "after shutdown")
        log = srv.log_text().encode()
        for name, secret in {**secrets, "API key A": srv.key_a, "API key B": srv.key_b}.items():
            for variant, needle in secret_variants(secret).items():
                self.assertNotIn(needle, log, f"{name} ({variant}) in the server log")

    def assertNoSecretsInDataDir(self, secrets, when):
        api_keys = {"API key A": self.srv.key_a, "API key B": self.srv.key_b}
        files = []
        for root, _, names in os.walk(self.srv.data_dir):
            files += [os.path.join(root, n) for n in names]
        self.assertTrue(files)
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            for name, secret in {**secrets, **api_keys}.items():
                for variant, needle in secret_variants(secret).items():
                    self.assertNotIn(needle, data,
                                     f"{name} ({variant}) found in {os.path.basename(path)} {when}")


if __name__ == "__main__":
    unittest.main()
