"""GET /api/v1/openapi.json: valid OpenAPI 3.1 JSON listing every route these tests exercise.
(The exact comparison with the router is a C++ test.)"""

import re
import unittest
import urllib.parse

from harness import API, ServerTestCase

EXERCISED_ROUTES = [
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", f"{API}/openapi.json"),
    ("get", f"{API}/organizations"),
    ("get", f"{API}/sip-trunks"), ("post", f"{API}/sip-trunks"),
    ("get", f"{API}/sip-trunks/{{id}}"), ("patch", f"{API}/sip-trunks/{{id}}"),
    ("delete", f"{API}/sip-trunks/{{id}}"),
    ("get", f"{API}/numbers"), ("post", f"{API}/numbers"),
    ("get", f"{API}/numbers/{{id}}"), ("patch", f"{API}/numbers/{{id}}"),
    ("delete", f"{API}/numbers/{{id}}"),
    ("get", f"{API}/assistants"), ("post", f"{API}/assistants"),
    ("get", f"{API}/assistants/{{id}}"), ("patch", f"{API}/assistants/{{id}}"),
    ("delete", f"{API}/assistants/{{id}}"),
    ("get", f"{API}/calls"), ("get", f"{API}/calls/{{id}}"),
    ("post", f"{API}/calls/{{id}}/control"),
    ("post", f"{API}/calls/outbound"),
    ("get", f"{API}/byok"), ("post", f"{API}/byok"), ("delete", f"{API}/byok"),
    ("get", f"{API}/byok/config"), ("post", f"{API}/byok/config"),
]

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def normalise(path):
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


class TestOpenApi(ServerTestCase):
    @classmethod
    def setUpServer(cls):
        cls.resp = cls.server.request("GET", f"{API}/openapi.json", key=None)

    def test_served_without_auth_as_json(self):
        self.assertStatus(self.resp, 200)
        self.assertIn("application/json", self.resp.headers.get("Content-Type", ""))
        self.assertIsInstance(self.resp.body, dict, "openapi.json is not a JSON object")

    def test_version_and_info(self):
        doc = self.resp.body
        self.assertIsInstance(doc.get("openapi"), str)
        self.assertTrue(doc["openapi"].startswith("3.1"), doc.get("openapi"))
        self.assertIsInstance(doc.get("info"), dict)
        self.assertTrue(doc["info"].get("title"))
        self.assertTrue(doc["info"].get("version"))
        self.assertIsInstance(doc.get("paths"), dict)

    def operations(self):
        """{(method, normalised full path)} from `paths`, also joined with servers[0].url."""
        doc = self.resp.body
        bases = {""}
        for server in doc.get("servers") or []:
            bases.add(urllib.parse.urlparse(server.get("url", "")).path.rstrip("/"))
        ops = set()
        for path, item in doc["paths"].items():
            for method in item:
                if method.lower() in METHODS:
                    for base in bases:
                        ops.add((method.lower(), normalise(base + path)))
        return ops

    def test_every_exercised_route_is_listed(self):
        ops = self.operations()
        missing = [(m, p) for m, p in EXERCISED_ROUTES if (m, normalise(p)) not in ops]
        self.assertFalse(missing, f"routes missing from openapi.json: {missing}")

    def test_operations_have_responses(self):
        for path, item in self.resp.body["paths"].items():
            for method, op in item.items():
                if method.lower() in METHODS:
                    with self.subTest(method=method, path=path):
                        self.assertIsInstance(op.get("responses"), dict)
                        self.assertTrue(op["responses"])

    def test_bearer_auth_is_described(self):
        schemes = (self.resp.body.get("components") or {}).get("securitySchemes") or {}
        self.assertTrue(any(s.get("type") == "http" and str(s.get("scheme")).lower() == "bearer"
                            for s in schemes.values()), f"no bearer security scheme: {schemes}")


if __name__ == "__main__":
    unittest.main()
