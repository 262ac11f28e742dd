"""Webhooks to https:// receivers from the real binary: a call's deliveries arrive over TLS at a
receiver whose certificate comes from a private CA given with --webhook-ca-file; a receiver the
server cannot verify gets nothing and the delivery records why; a CA file that is not PEM stops
the server at start-up, from the flag or from the TOML config file."""

import hashlib
import hmac
import http.server
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import unittest

from sip_harness import SipServerTestCase  # also puts ../api (harness) on the path
import harness  # noqa: E402

SECRET = "whsec_https_test_secret"
OPENSSL = shutil.which("openssl")


def make_ca(directory, name):
    """A CA (ca.pem) and a server certificate for localhost/127.0.0.1 it signed."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(os.path.join(directory, "leaf.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem")
    return {k: os.path.join(directory, f) for k, f in
            (("ca", "ca.pem"), ("cert", "leaf.pem"), ("key", "leaf.key"))}


class TlsReceiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cert, key):
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.requests.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path="/hooks"):
        return f"https://localhost:{self.server_address[1]}{path}"

    def received(self):
        with self.lock:
            return list(self.requests)


@unittest.skipIf(OPENSSL is None, "the openssl CLI is needed to make test certificates")
class TestHttpsWebhooks(SipServerTestCase):

    @classmethod
    def prepare_server(cls, server):
        cls.cert_dir = tempfile.mkdtemp(prefix="tl-webhook-tls-")
        os.mkdir(os.path.join(cls.cert_dir, "trusted"))
        os.mkdir(os.path.join(cls.cert_dir, "other"))
        cls.trusted = make_ca(os.path.join(cls.cert_dir, "trusted"), "Private Test CA")
        cls.other = make_ca(os.path.join(cls.cert_dir, "other"), "Unknown CA")
        cls.extra_args = ("--webhook-ca-file", cls.trusted["ca"],
                          "--webhook-retry-base-ms", "50", "--webhook-retry-max-ms", "200")
        super().prepare_server(server)

    @classmethod
    def setUpServer(cls):
        cls.receiver = TlsReceiver(cls.trusted["cert"], cls.trusted["key"])
        cls.untrusted = TlsReceiver(cls.other["cert"], cls.other["key"])
        super().setUpServer()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for rx in (cls.receiver, cls.untrusted):
                rx.shutdown()
                rx.server_close()
            shutil.rmtree(cls.cert_dir, ignore_errors=True)

    def use_webhook(self, url):
        r = self.server.api("PATCH", f"/assistants/{self.assistant_id}",
                            {"webhook_url": url, "webhook_secret": SECRET,
                             "webhook_events": ["status-update", "end-of-call-report"]})
        self.assertEqual(r.status, 200, r)

    def test_a_call_delivers_over_tls_to_a_private_ca_receiver(self):
        self.use_webhook(self.receiver.url())
        self.sipp("call_hangup.xml")
        got = self.wait_for(lambda: len(self.receiver.received()) >= 3 and
                            self.receiver.received(), timeout=15, what="three deliveries")
        events = []
        for headers, body in got:
            expected = "sha256=" + hmac.new(SECRET.encode(),
                                            headers["X-Webhook-Timestamp"].encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
            self.assertEqual(headers["X-Webhook-Signature"], expected)
            self.assertEqual(headers["Host"], f"localhost:{self.receiver.server_address[1]}")
            message = json.loads(body)["message"]
            events.append((message["type"], message["call"]["status"]))
        self.assertEqual(events, [("status-update", "in-progress"), ("status-update", "ended"),
                                  ("end-of-call-report", "ended")])

    def test_an_unverifiable_receiver_gets_nothing_and_the_reason_is_recorded(self):
        self.use_webhook(self.untrusted.url())
        self.sipp("call_hangup.xml")

        def rejected():
            r = self.server.api("GET", "/webhook-deliveries?status=pending&limit=1000")
            return [d for d in r.body["deliveries"]
                    if d["url"] == self.untrusted.url() and d["attempts"] >= 2]
        stuck = self.wait_for(rejected, timeout=15, what="retried TLS failures")
        self.assertIn("TLS certificate rejected", stuck[0]["last_error"])
        self.assertIn(f"localhost:{self.untrusted.server_address[1]}", stuck[0]["last_error"])
        self.assertEqual(self.untrusted.received(), [])


class TestWebhookCaFileAtStartUp(unittest.TestCase):
    """A CA file that is not PEM is a start-up error naming the file, flag or TOML key."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tl-webhook-ca-")
        self.not_pem = os.path.join(self.dir, "not.pem")
        with open(self.not_pem, "w") as f:
            f.write("not a certificate\n")
        self.config = os.path.join(self.dir, "trunkline.toml")
        with open(self.config, "w") as f:
            f.write(f'webhook-ca-file = "{self.not_pem}"\n')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, *args):
        data_dir = os.path.join(self.dir, "data")
        return subprocess.run([harness.BIN, "serve", "--data-dir", data_dir, "--api-listen",
                               "127.0.0.1:0", "--sip-listen", "127.0.0.1:0", *args],
                              capture_output=True, text=True, timeout=15,
                              env={k: v for k, v in os.environ.items()
                                   if not k.startswith("TRUNKLINE_")})

    def test_flag_and_config_key(self):
        for args in (("--webhook-ca-file", self.not_pem), ("--config", self.config)):
            with self.subTest(args=args):
                p = self.serve(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("--webhook-ca-file", p.stderr)
                self.assertIn(self.not_pem, p.stderr)


if __name__ == "__main__":
    unittest.main()
