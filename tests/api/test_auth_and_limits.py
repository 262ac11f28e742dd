import json
"""Authentication, organization isolation, rate limits, request ids, /health, /metrics, routing."""

import re
import socket
import time
import unittest

from harness import (API, HIGH_RATE_LIMIT, ORG_A, ORG_B, UUID_ANY_RE, ServerTestCase, new_uuid)

KEY_FORMAT = re.compile(r"^tl_live_[0-9A-Za-z]{43}$")
METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] of every sample line."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        if m:
            samples.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return samples


def every_protected_route():
    """(method, path, body) of every authenticated route of issue #2."""
    some = new_uuid()
    routes = [("GET", "/organizations", None), ("GET", "/calls", None),
              ("GET", f"/calls/{some}", None),
              ("POST", f"/calls/{some}/control", {"type": "end-call"})]
    bodies = {"sip-trunks": {"name": "t", "host": "h.example", "auth_type": "ip"},
              "numbers": {"phone_number": "+31850009999"},
              "assistants": {"name": "a"}}
    for coll, body in bodies.items():
        routes += [("GET", f"/{coll}", None), ("POST", f"/{coll}", body),
                   ("GET", f"/{coll}/{some}", None), ("PATCH", f"/{coll}/{some}", {"name": "x"}),
                   ("DELETE", f"/{coll}/{some}", None)]
    return routes


class TestAuthentication(ServerTestCase):
    @classmethod
    def prepare_server(cls, server):
        cls.revoke_key = server.create_key("revoke-by-id")
        cls.revoke_prefix_key = server.create_key("revoke-by-prefix")

    def test_key_format(self):
        for key in (self.srv.key_a, self.srv.key_b, self.revoke_key):
            self.assertRegex(key, KEY_FORMAT)
        self.assertNotEqual(self.srv.key_a, self.srv.key_b)

    def test_keys_create_prints_the_key_alone(self):
        out = self.srv.cli("keys", "create", "--data-dir", self.srv.data_dir, "--org",
                           "stdout-check").stdout
        self.assertRegex(out.strip(), KEY_FORMAT)
        self.assertEqual(len(out.strip().splitlines()), 1, f"stdout: {out!r}")

    def test_missing_key_is_401(self):
        before = [self.snapshot(c) for c in ("sip-trunks", "numbers", "assistants")]
        for method, path, body in every_protected_route():
            with self.subTest(method=method, path=path):
                r = self.api(method, path, body, key=None)
                body_ = self.assertError(r, 401, "unauthorized")
                self.assertEqual(body_["error"], "Unauthorized")
        # Nothing was created by the rejected POSTs.
        self.assertEqual([self.snapshot(c) for c in ("sip-trunks", "numbers", "assistants")],
                         before)

    def test_garbage_keys_are_401(self):
        fake = "tl_live_" + "A" * 43
        headers = [
            {"Authorization": "Bearer garbage"},
            {"Authorization": f"Bearer {fake}"},
            {"Authorization": "Bearer "},
            {"Authorization": "Bearer"},
            {"Authorization": self.srv.key_a},  # no scheme
            {"Authorization": f"Basic {self.srv.key_a}"},
            {"Authorization": f"Bearer {self.srv.key_a}x"},
            {"Authorization": f"Bearer {self.srv.key_a[:-1]}"},
            {"X-Api-Key": self.srv.key_a},
        ]
        for h in headers:
            with self.subTest(headers=h):
                r = self.api("GET", "/sip-trunks", key=None, headers=h)
                self.assertError(r, 401, "unauthorized")

    def test_auth_is_checked_before_the_resource_lookup(self):
        r = self.api("GET", f"/sip-trunks/{new_uuid()}", key=None)
        self.assertError(r, 401, "unauthorized")

    def test_revoked_key_by_id_is_401_api_key_revoked(self):
        self.assertStatus(self.api("GET", "/organizations", key=self.revoke_key), 200)
        key_id = self.srv.key_id_for_org("revoke-by-id")
        self.srv.revoke_key(key_id)
        r = self.poll_until_401(self.revoke_key)
        self.assertError(r, 401, "api_key_revoked")
        # Other keys are untouched.
        self.assertStatus(self.api("GET", "/organizations"), 200)
        self.assertStatus(self.api("GET", "/organizations", key=self.srv.key_b), 200)

    def test_revoked_key_by_prefix(self):
        key = self.revoke_prefix_key
        self.assertStatus(self.api("GET", "/organizations", key=key), 200)
        prefix = None
        for line in self.srv.list_keys().splitlines():
            if "revoke-by-prefix" in line.split():
                prefix = next((t for t in line.split() if len(t) >= 8 and key.startswith(t)), None)
        if prefix is None:
            self.skipTest("`keys list` shows no prefix of the key")
        self.srv.revoke_key(prefix)
        self.assertError(self.poll_until_401(key), 401, "api_key_revoked")

    def poll_until_401(self, key, timeout=3.0):
        """Revocation happens in another process; allow a short cache to notice it."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.api("GET", "/organizations", key=key)
            if r.status == 401 or time.monotonic() > deadline:
                return r
            time.sleep(0.1)

    def test_key_created_while_running_is_usable(self):
        key = self.srv.create_key("late-org")
        r = self.api("GET", "/organizations", key=key)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["name"], "late-org")
        # And a second key of an existing organization sees that organization's objects.
        trunk = self.srv.create("sip-trunks", {"name": "A's", "host": "a.example",
                                               "auth_type": "ip"})
        key2 = self.srv.create_key(ORG_A)
        ids = [t["id"] for t in self.api("GET", "/sip-trunks", key=key2).body["trunks"]]
        self.assertIn(trunk["id"], ids)
        self.assertStatus(self.api("DELETE", f"/sip-trunks/{trunk['id']}", key=key2), 200)

    def test_unauthenticated_endpoints(self):
        r = self.srv.request("GET", "/health", key=None)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"status": "ok", "version": "0.1.0"})
        r = self.srv.request("GET", "/metrics", key=None)
        self.assertStatus(r, 200)
        self.assertIn("text/plain", r.headers.get("Content-Type", ""))
        self.assertIn("version=0.0.4", r.headers.get("Content-Type", ""))
        r = self.srv.request("GET", f"{API}/openapi.json", key=None)
        self.assertStatus(r, 200)
        self.assertIsInstance(r.body, dict)


class TestOrganizationWebhook(ServerTestCase):
    def test_set_read_and_clear_the_webhook(self):
        r = self.api("PATCH", "/organizations", {"webhook_url": "https://hooks.example.com/tl",
                                                 "webhook_secret": "whsec_org_secret",
                                                 "webhook_events": ["end-of-call-report"]})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["webhook_url"], "https://hooks.example.com/tl")
        self.assertIs(r.body["has_webhook_secret"], True)
        self.assertEqual(r.body["webhook_events"], ["end-of-call-report"])
        self.assertNotIn("whsec_org_secret", json.dumps(r.body))
        got = self.api("GET", "/organizations").body
        self.assertEqual(got["webhook_url"], "https://hooks.example.com/tl")
        for bad, field in (({"webhook_url": "ftp://x"}, "webhook_url"),
                           ({"webhook_events": ["call-started"]}, "webhook_events[0]"),
                           ({"name": "renamed"}, "name"),
                           ({"colour": 1}, "colour")):
            r = self.api("PATCH", "/organizations", bad)
            self.assertStatus(r, 400, bad)
            self.assertEqual(r.body["field"], field)
        r = self.api("PATCH", "/organizations", {"webhook_url": None, "webhook_secret": None,
                                                 "webhook_events": None})
        self.assertStatus(r, 200)
        self.assertIsNone(r.body["webhook_url"])
        self.assertIs(r.body["has_webhook_secret"], False)


class TestOrganizations(ServerTestCase):
    def test_get_organization(self):
        r = self.api("GET", "/organizations")
        self.assertStatus(r, 200)
        org = r.body
        self.assertKeys(org, {"id", "name", "created_at", "active_numbers", "active_agents",
                              "active_calls", "webhook_url", "has_webhook_secret",
                              "webhook_events"})
        self.assertEqual(org["name"], ORG_A)
        self.assertUuid(org["id"])
        self.assertTimestamp(org["created_at"])
        for k in ("active_numbers", "active_agents", "active_calls"):
            self.assertIsInstance(org[k], int, k)
        self.assertEqual(org["active_calls"], 0)
        b = self.api("GET", "/organizations", key=self.srv.key_b).body
        self.assertEqual(b["name"], ORG_B)
        self.assertNotEqual(b["id"], org["id"])

    def test_counts_follow_the_objects(self):
        before = self.api("GET", "/organizations", key=self.srv.key_b).body
        a = self.srv.create("assistants", {"name": "counted"}, key=self.srv.key_b)
        self.srv.create("numbers", {"phone_number": "+31850005001", "assistant_id": a["id"]},
                        key=self.srv.key_b)
        after = self.api("GET", "/organizations", key=self.srv.key_b).body
        self.assertEqual(after["active_numbers"], before["active_numbers"] + 1)
        self.assertEqual(after["active_agents"], before["active_agents"] + 1)


class TestIsolation(ServerTestCase):
    """Organization B cannot see or touch organization A's objects."""

    @classmethod
    def setUpServer(cls):
        srv = cls.server
        cls.a_objects = {
            "sip-trunks": srv.create("sip-trunks", {"name": "A trunk", "host": "a.example",
                                                    "username": "u", "password": "p"}),
            "assistants": srv.create("assistants", {"name": "A assistant"}),
        }
        cls.a_objects["numbers"] = srv.create("numbers", {
            "phone_number": "+31850006001", "assistant_id": cls.a_objects["assistants"]["id"],
            "transfer_trunk_id": cls.a_objects["sip-trunks"]["id"]})
        cls.wrappers = {"sip-trunks": "sip_trunk", "assistants": "assistant", "numbers": "number"}
        cls.lists = {"sip-trunks": "trunks", "assistants": "assistants", "numbers": "numbers"}

    def get_as_a(self, coll):
        obj = self.a_objects[coll]
        r = self.api("GET", f"/{coll}/{obj['id']}")
        self.assertStatus(r, 200)
        return r.body[self.wrappers[coll]]

    def test_b_gets_404(self):
        for coll, obj in self.a_objects.items():
            with self.subTest(coll):
                self.assertError(self.api("GET", f"/{coll}/{obj['id']}", key=self.srv.key_b),
                                 404, "not_found")

    def test_b_cannot_patch(self):
        for coll, obj in self.a_objects.items():
            with self.subTest(coll):
                before = self.get_as_a(coll)
                r = self.api("PATCH", f"/{coll}/{obj['id']}", {"name": "hijacked"},
                             key=self.srv.key_b)
                self.assertError(r, 404, "not_found")
                self.assertEqual(self.get_as_a(coll), before)

    def test_b_cannot_delete(self):
        for coll, obj in self.a_objects.items():
            with self.subTest(coll):
                r = self.api("DELETE", f"/{coll}/{obj['id']}", key=self.srv.key_b)
                self.assertError(r, 404, "not_found")
                self.get_as_a(coll)
        number = self.get_as_a("numbers")
        self.assertEqual(number["assistant_id"], self.a_objects["assistants"]["id"])
        self.assertEqual(number["transfer_trunk_id"], self.a_objects["sip-trunks"]["id"])

    def test_b_lists_do_not_include_a_objects(self):
        for coll, obj in self.a_objects.items():
            with self.subTest(coll):
                listed = self.snapshot(coll, key=self.srv.key_b)[self.lists[coll]]
                self.assertNotIn(obj["id"], [o["id"] for o in listed])
                self.assertIn(obj["id"], [o["id"] for o in self.snapshot(coll)[self.lists[coll]]])


class TestHttpBehaviour(ServerTestCase):
    def test_request_id_on_every_response(self):
        for method, path, key in (("GET", "/health", None), ("GET", "/metrics", None),
                                  ("GET", f"{API}/sip-trunks", self.srv.key_a),
                                  ("GET", f"{API}/sip-trunks", None),
                                  ("GET", f"{API}/sip-trunks/{new_uuid()}", self.srv.key_a),
                                  ("GET", f"{API}/no-such-route", self.srv.key_a),
                                  ("POST", f"{API}/numbers", self.srv.key_a)):
            with self.subTest(method=method, path=path):
                r = self.srv.request(method, path, key=key,
                                     raw_body=b"{" if method == "POST" else None)
                rid = r.headers.get("X-Request-Id")
                self.assertTrue(rid, f"no X-Request-Id on {r.status}")

    def test_request_id_echo(self):
        r = self.api("GET", "/sip-trunks", headers={"X-Request-Id": "test-req-0001"})
        self.assertEqual(r.headers.get("X-Request-Id"), "test-req-0001")
        r = self.api("GET", "/nope", headers={"X-Request-Id": "abcDEF123-xyz"})
        self.assertEqual(r.headers.get("X-Request-Id"), "abcDEF123-xyz")
        for bad in ("x" * 129, "has space", "semi;colon\"quote"):
            with self.subTest(bad=bad):
                r = self.api("GET", "/sip-trunks", headers={"X-Request-Id": bad})
                rid = r.headers.get("X-Request-Id")
                self.assertNotEqual(rid, bad)
                self.assertRegex(rid or "", UUID_ANY_RE)

    def test_generated_request_ids_differ(self):
        ids = {self.srv.request("GET", "/health", key=None).headers.get("X-Request-Id")
               for _ in range(5)}
        self.assertEqual(len(ids), 5)

    def test_rate_limit_headers_on_normal_responses(self):
        for method, path, body in (("GET", "/sip-trunks", None), ("GET", "/organizations", None),
                                   ("GET", f"/numbers/{new_uuid()}", None),
                                   ("POST", "/numbers", {"phone_number": "bad"})):
            with self.subTest(method=method, path=path):
                r = self.api(method, path, body)
                self.assertEqual(r.headers.get("X-RateLimit-Limit"), str(HIGH_RATE_LIMIT))
                remaining = int(r.headers.get("X-RateLimit-Remaining"))
                self.assertTrue(0 <= remaining < HIGH_RATE_LIMIT)
                reset = int(r.headers.get("X-RateLimit-Reset"))
                self.assertTrue(time.time() - 2 <= reset <= time.time() + 62, reset)

    def test_json_content_type_accepted_on_get_and_delete(self):
        ct = {"Content-Type": "application/json"}
        trunk = self.srv.create("sip-trunks", {"name": "ct", "host": "ct.example",
                                               "auth_type": "ip"})
        for path in ("/sip-trunks", "/numbers", "/assistants", "/calls", "/organizations",
                     f"/sip-trunks/{trunk['id']}"):
            with self.subTest(path=path):
                self.assertStatus(self.api("GET", path, headers=ct), 200)
        r = self.api("DELETE", f"/sip-trunks/{trunk['id']}", headers=ct)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"success": True})
        # The HMS SDK may also send an empty JSON object on DELETE.
        a = self.srv.create("assistants", {"name": "del"})
        self.assertStatus(self.api("DELETE", f"/assistants/{a['id']}", raw_body=b""), 200)

    def test_unknown_route_is_404(self):
        for path in ("/nope", "/sip-trunks/x/y", "/agentz"):
            with self.subTest(path=path):
                self.assertError(self.api("GET", path), 404, "not_found")

    def test_wrong_method_is_405_with_allow(self):
        cases = [("PUT", "/sip-trunks", {"GET", "POST"}),
                 ("DELETE", "/numbers", {"GET", "POST"}),
                 ("POST", f"/assistants/{new_uuid()}", {"GET", "PATCH", "DELETE"}),
                 ("PUT", f"/sip-trunks/{new_uuid()}", {"GET", "PATCH", "DELETE"}),
                 ("DELETE", "/calls", {"GET"}),
                 ("GET", f"/calls/{new_uuid()}/control", {"POST"})]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                r = self.api(method, path, {} if method in ("PUT", "POST") else None)
                self.assertError(r, 405, "method_not_allowed")
                allow = {m.strip().upper() for m in (r.headers.get("Allow") or "").split(",")}
                self.assertTrue(allowed <= allow, f"Allow: {r.headers.get('Allow')!r}")

    def test_keep_alive(self):
        self.srv.close_connection()
        self.api("GET", "/sip-trunks")
        sock = self.srv.connection().sock
        for _ in range(3):
            r = self.api("GET", "/sip-trunks")
            self.assertStatus(r, 200)
            self.assertNotEqual((r.headers.get("Connection") or "").lower(), "close")
        self.assertIs(self.srv.connection().sock, sock, "connection was not kept alive")

    def test_metrics_count_requests(self):
        for _ in range(3):
            self.api("GET", "/sip-trunks")
        stray = new_uuid()
        self.api("GET", f"/sip-trunks/{stray}")
        self.api("GET", f"/{stray}")
        r = self.srv.request("GET", "/metrics", key=None)
        self.assertStatus(r, 200)
        text = r.body if isinstance(r.body, str) else r.raw.decode()
        samples = parse_metrics(text)
        counters = [(labels, v) for name, labels, v in samples
                    if name == "trunkline_http_requests_total"]
        self.assertTrue(counters, "no trunkline_http_requests_total samples")
        for labels, _ in counters:
            self.assertIn("route", labels)
            self.assertIn("status", labels)
        trunk_list = [v for labels, v in counters
                      if "sip-trunks" in labels["route"] and "{" not in labels["route"]
                      and labels["status"].startswith("2")]
        self.assertTrue(trunk_list and sum(trunk_list) >= 3,
                        f"no 2xx counter for the sip-trunks list route in {counters}")
        self.assertIn("# TYPE trunkline_http_requests_total counter", text)
        self.assertTrue(any(name == "trunkline_http_request_duration_seconds_bucket"
                            for name, _, _ in samples), "no request duration histogram")
        # Labels are route templates: ids never become label values (bounded cardinality).
        self.assertNotIn(stray, text)


class TestShutdownWithOpenConnection(ServerTestCase):
    def test_sigterm_with_idle_keep_alive_connection(self):
        self.assertStatus(self.api("GET", "/sip-trunks"), 200)
        idle = socket.create_connection((self.srv.host, self.srv.port))  # idle, never sends
        try:
            conn = self.srv.connection()
            self.srv._conn = None  # keep the keep-alive connection open across stop()
            self.srv.stop()  # asserts exit status 0 within 10 s
        finally:
            idle.close()
            conn.close()


class RateLimitTestCase(ServerTestCase):
    server_kwargs = {"rate_limit": 5}

    @classmethod
    def prepare_server(cls, server):
        cls.rl_keys = [server.create_key(f"rl-{i}") for i in range(3)]

    def start_fresh_window(self, key):
        """First request of a window; waits out a fixed window that is about to end."""
        r = self.api("GET", "/organizations", key=key)
        reset = int(r.headers["X-RateLimit-Reset"])
        if reset - time.time() < 8:
            time.sleep(max(0.0, reset - time.time()) + 1.1)
            r = self.api("GET", "/organizations", key=key)
        return r


class TestRateLimit(RateLimitTestCase):
    def test_limit_remaining_then_429(self):
        key = self.rl_keys[0]
        r = self.start_fresh_window(key)
        self.assertStatus(r, 200)
        for expected_remaining in (4, 3, 2, 1, 0):
            self.assertStatus(r, 200)
            self.assertEqual(r.headers.get("X-RateLimit-Limit"), "5")
            self.assertEqual(r.headers.get("X-RateLimit-Remaining"), str(expected_remaining))
            reset = int(r.headers.get("X-RateLimit-Reset"))
            self.assertTrue(time.time() - 2 <= reset <= time.time() + 62, reset)
            if expected_remaining:
                r = self.api("GET", "/sip-trunks", key=key)
        r = self.api("GET", "/sip-trunks", key=key)
        body = self.assertError(r, 429, "rate_limit_exceeded")
        retry_after = int(r.headers.get("Retry-After"))
        self.assertTrue(1 <= retry_after <= 60, retry_after)
        self.assertIsInstance(body.get("retry_after"), int)
        self.assertLessEqual(abs(body["retry_after"] - retry_after), 1)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "5")
        self.assertEqual(r.headers.get("X-RateLimit-Remaining"), "0")
        self.assertIsNotNone(r.headers.get("X-RateLimit-Reset"))
        self.assertTrue(r.headers.get("X-Request-Id"))
        # Still limited, for every route.
        self.assertError(self.api("POST", "/assistants", {"name": "x"}, key=key), 429,
                         "rate_limit_exceeded")

    def test_limits_are_per_key(self):
        key, other = self.rl_keys[1], self.rl_keys[2]
        self.start_fresh_window(key)
        statuses = [self.api("GET", "/sip-trunks", key=key).status for _ in range(6)]
        self.assertIn(429, statuses)
        self.assertEqual(statuses.count(200), 4, statuses)
        self.assertStatus(self.api("GET", "/sip-trunks", key=other), 200)
        self.assertStatus(self.srv.request("GET", "/health", key=None), 200)

    def test_rejected_request_creates_nothing(self):
        key = self.srv.key_b
        self.start_fresh_window(key)
        for _ in range(10):
            if self.api("GET", "/sip-trunks", key=key).status == 429:
                break
        r = self.api("POST", "/assistants", {"name": "should not exist"}, key=key)
        self.assertError(r, 429, "rate_limit_exceeded")
        # Look with a second key of organization B (its own, unused, budget).
        fresh = self.srv.create_key(ORG_B)
        listed = self.api("GET", "/assistants", key=fresh)
        self.assertStatus(listed, 200)
        self.assertEqual(listed.body, {"assistants": []})


class TestDefaultRateLimit(ServerTestCase):
    server_kwargs = {"rate_limit": None}

    def test_default_is_100_per_minute(self):
        r = self.api("GET", "/sip-trunks")
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "100")
        self.assertEqual(r.headers.get("X-RateLimit-Remaining"), "99")


class TestRateLimitFromEnvironment(ServerTestCase):
    server_kwargs = {"rate_limit": None, "env": {"TRUNKLINE_API_RATE_LIMIT": "7"}}

    def test_env_sets_the_limit(self):
        r = self.api("GET", "/sip-trunks")
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("X-RateLimit-Limit"), "7")


if __name__ == "__main__":
    unittest.main()
