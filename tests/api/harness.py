"""Black-box test harness for the `trunkline` binary (issue #2: the REST API).

`Server` runs the real binary against a fresh temporary data directory, creates API keys with the
`trunkline keys` CLI and talks HTTP/1.1 keep-alive to it. `ServerTestCase` gives each test class one
fresh server (setUpClass) and prints the tail of the server log when a test fails.

Environment:
  TRUNKLINE_BIN          the binary (default: <repo>/build/src/app/trunkline)
  TRUNKLINE_TEST_KEEP=1  keep data directories and logs after the run (their paths are printed)
"""

import base64
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from typing import Any, Optional

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TRUNKLINE_BIN") or os.path.join(REPO_ROOT, "build", "src", "app", "trunkline")
KEEP = os.environ.get("TRUNKLINE_TEST_KEEP") == "1"

API = "/api/v1"
LISTEN_RE = re.compile(r"trunkline: api listening on http://(\S+):(\d+)\s*$")
SIP_LISTEN_RE = re.compile(r"^trunkline: sip listening on sip:(\[[^\]]+\]|[^:]+):(\d+)$")
KEY_RE = re.compile(r"tl_live_[0-9A-Za-z]+")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UUID_ANY_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

ORG_A = "org-alpha"
ORG_B = "org-beta"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# The default limit (100/min per key) is far below what one test class sends; every fixture that is
# not about rate limiting raises it.
HIGH_RATE_LIMIT = 1000000

_DEFAULT = object()


class Response(tuple):
    """(status, headers, body) — unpacks as a 3-tuple; `.raw` holds the body bytes.
    headers: http.client.HTTPMessage (case-insensitive .get); body: parsed JSON, else text."""

    def __new__(cls, status: int, headers: Any, body: Any, raw: bytes = b""):
        self = super().__new__(cls, (status, headers, body))
        self.raw = raw
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])

    def __repr__(self):
        return f"Response(status={self.status}, body={self.body!r})"


def new_uuid() -> str:
    return str(uuid.uuid4())


def _parse_body(headers, raw: bytes):
    if not raw:
        return ""
    text = raw.decode("utf-8", errors="replace")
    ctype = (headers.get("Content-Type") or "").lower()
    if "json" in ctype or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class ServerError(AssertionError):
    pass


class Server:
    """One `trunkline serve` process with its own data directory.

    Keys: `key_a` / `key_b` belong to organizations ORG_A / ORG_B. `request(...)` uses `key_a`
    unless `key=` says otherwise (`key=None` sends no Authorization header).
    """

    def __init__(self, rate_limit: Optional[int] = HIGH_RATE_LIMIT, extra_args=(), env=None,
                 create_default_keys: bool = True):
        self.rate_limit = rate_limit
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.data_dir = tempfile.mkdtemp(prefix="trunkline-test-data-")
        self.log_dir = tempfile.mkdtemp(prefix="trunkline-test-log-")
        self.log_path = os.path.join(self.log_dir, "server.log")  # serve's stdout + stderr
        self.cli_log_path = os.path.join(self.log_dir, "cli.log")  # CLI runs (they print keys)
        self.proc: Optional[subprocess.Popen] = None
        self.host = None
        self.port = None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._reader: Optional[threading.Thread] = None
        self._log = None
        self.responses = []  # raw bytes of every response body received (test_secrets scans them)
        self.keys = {}
        self.key_a = self.key_b = None
        if create_default_keys:
            self.key_a = self.create_key(ORG_A)
            self.key_b = self.create_key(ORG_B)

    # ---------------------------------------------------------------- process management
    def child_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
        env.update(self.extra_env)
        return env

    def cli(self, *args, check=True, timeout=15):
        """Runs `trunkline ARGS...`; returns the CompletedProcess (text mode)."""
        proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                              env=self.child_env())
        with open(self.cli_log_path, "a", encoding="utf-8") as log:
            log.write(f"$ trunkline {' '.join(args)} -> {proc.returncode}\n"
                      f"{proc.stdout}{proc.stderr}")
        if check and proc.returncode != 0:
            raise ServerError(f"trunkline {' '.join(args)} exited {proc.returncode}\n"
                              f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def create_key(self, org: str) -> str:
        out = self.cli("keys", "create", "--data-dir", self.data_dir, "--org", org).stdout
        match = KEY_RE.search(out)
        key = match.group(0) if match else out.strip()
        if not key:
            raise ServerError(f"`keys create --org {org}` printed no key")
        self.keys.setdefault(org, []).append(key)
        return key

    def list_keys(self) -> str:
        return self.cli("keys", "list", "--data-dir", self.data_dir).stdout

    def key_id_for_org(self, org: str) -> str:
        """First whitespace-separated token of the `keys list` line naming `org` (id or prefix)."""
        for line in self.list_keys().splitlines():
            tokens = line.split()
            if org in tokens or any(t.strip(",;|") == org for t in tokens):
                return tokens[0].strip(",;|")
        raise ServerError(f"no line for organization {org!r} in `keys list`:\n{self.list_keys()}")

    def revoke_key(self, id_or_prefix: str):
        return self.cli("keys", "revoke", "--data-dir", self.data_dir, id_or_prefix)

    def start(self):
        assert self.proc is None, "server already running"
        args = [BIN, "serve", "--data-dir", self.data_dir, "--api-listen", "127.0.0.1:0",
                "--sip-listen", "127.0.0.1:0"]
        if self.rate_limit is not None:
            args += ["--api-rate-limit", str(self.rate_limit)]
        args += self.extra_args
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(f"$ {' '.join(args)}\n".encode())
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL, env=self.child_env())
        listening = threading.Event()
        found = {}

        def reader(stream, log):
            for line in iter(stream.readline, b""):
                log.write(line)
                if not listening.is_set():
                    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                    if text.startswith("{"):  # --log-format json: the banner is the msg
                        try:
                            text = json.loads(text).get("msg", text)
                        except ValueError:
                            pass
                    sip = SIP_LISTEN_RE.search(text)
                    if sip:
                        found["sip_host"], found["sip_port"] = sip.group(1), int(sip.group(2))
                    m = LISTEN_RE.search(text)
                    if m:
                        found["host"], found["port"] = m.group(1), int(m.group(2))
                        listening.set()
            stream.close()

        self._reader = threading.Thread(target=reader, args=(self.proc.stdout, self._log),
                                        daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                rc = self.proc.poll()
                if rc is None:
                    self.proc.kill()
                    self.proc.wait()
                self.proc = None
                raise ServerError(
                    ("server exited with %s" % rc if rc is not None else
                     "no 'trunkline: api listening on http://HOST:PORT' line within %ss"
                     % START_TIMEOUT) + "\n" + self.log_tail())
        self.host = found["host"].strip("[]")
        self.port = found["port"]
        self.sip_host = found.get("sip_host", "").strip("[]")
        self.sip_port = found.get("sip_port")
        return self

    def stop(self, sig=signal.SIGTERM) -> int:
        """Sends `sig` and waits; raises unless the process exits with status 0 within 10 s."""
        self.close_connection()
        if self.proc is None:
            return 0
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self._finish_reader()
            raise ServerError(f"server did not exit within {STOP_TIMEOUT}s of {sig!r}\n"
                              + self.log_tail())
        self._finish_reader()
        if rc != 0:
            raise ServerError(f"server exited with status {rc} after {sig!r} (expected 0)\n"
                              + self.log_tail())
        return rc

    def _finish_reader(self):
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        try:
            if self.proc is not None:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
            self._finish_reader()
        finally:
            if KEEP:
                sys.stderr.write(f"\n[kept] data dir {self.data_dir}, log {self.log_path}\n")
            else:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                shutil.rmtree(self.log_dir, ignore_errors=True)

    def log_text(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=60) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return f"--- server log ({self.log_path}), last {len(tail)} lines ---\n" + "\n".join(tail)

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "trunkline.db")

    # ---------------------------------------------------------------- HTTP
    def connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        return self._conn

    def close_connection(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, key=_DEFAULT, headers=None, raw_body=None,
                json_content_type=True) -> Response:
        """Sends one request on the keep-alive connection. `body` is JSON-encoded; `raw_body`
        (bytes or str) is sent as is. Returns Response(status, headers, body-json-or-text, raw)."""
        if key is _DEFAULT:
            key = self.key_a
        hdrs = {}
        if key is not None:
            hdrs["Authorization"] = f"Bearer {key}"
        payload = None
        if raw_body is not None:
            payload = raw_body.encode() if isinstance(raw_body, str) else raw_body
        elif body is not None:
            payload = json.dumps(body).encode()
        if payload is not None and json_content_type:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in (1, 2):
            conn = self.connection()
            try:
                conn.request(method, path, body=payload, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close_connection()
                if attempt == 2:
                    raise
        if resp.will_close:
            self.close_connection()
        self.responses.append(raw)
        return Response(resp.status, resp.headers, _parse_body(resp.headers, raw), raw)

    def api(self, method, rel_path, body=None, **kw) -> Response:
        return self.request(method, API + rel_path, body, **kw)

    def raw_exchange(self, head: bytes, body: bytes, timeout=10.0) -> Response:
        """Sends `head` then `body` on a fresh socket while reading, so that an early answer (a 413
        sent before the whole body was read) is seen even if the server then closes."""
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        received = b""
        try:
            sock.sendall(head)
            sent = 0
            sock.setblocking(False)
            deadline = time.monotonic() + timeout
            send_open = True
            while time.monotonic() < deadline:
                want_write = [sock] if send_open and sent < len(body) else []
                readable, writable, _ = select.select([sock], want_write, [], 0.2)
                if readable:
                    try:
                        data = sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        break
                    received += data
                    if _complete_response(received):
                        break
                    continue
                if writable:
                    try:
                        sent += sock.send(body[sent:sent + 65536])
                    except (BrokenPipeError, ConnectionResetError):
                        send_open = False
                    except BlockingIOError:
                        pass
        finally:
            sock.close()
        self.responses.append(received)
        return _parse_raw_response(received)

    # ---------------------------------------------------------------- helpers
    def create(self, collection: str, body: dict, key=_DEFAULT, wrapper: Optional[str] = None):
        """POSTs to /api/v1/<collection>; asserts 201 and returns the unwrapped object."""
        r = self.api("POST", f"/{collection}", body, key=key)
        if r.status != 201:
            raise ServerError(f"POST /{collection} {body!r} -> {r.status} {r.body!r}")
        wrapper = wrapper or {"sip-trunks": "sip_trunk", "numbers": "number",
                              "assistants": "assistant"}[collection]
        return r.body[wrapper]

    def org_id(self, key=_DEFAULT) -> str:
        r = self.api("GET", "/organizations", key=key)
        if r.status != 200:
            raise ServerError(f"GET /organizations -> {r.status} {r.body!r}")
        return r.body["id"]


def _complete_response(data: bytes) -> bool:
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return m is None or len(rest) >= int(m.group(1))


def _parse_raw_response(data: bytes) -> Response:
    if not data:
        raise ServerError("connection closed without a response")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    msg = http.client.HTTPMessage()
    for line in lines[1:]:
        name, _, value = line.partition(":")
        msg[name.strip()] = value.strip()
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    body = rest[: int(m.group(1))] if m else rest
    return Response(status, msg, _parse_body(msg, body), body)


# -------------------------------------------------------------------- seeding calls
CALL_DEFAULTS = {
    "direction": "inbound",
    "status": "ended",
    "caller_phone": None,
    "assistant_phone": None,
    "assistant_id": None,
    "number_id": None,
    "trunk_id": None,
    "end_reason": None,
    "error": None,
    "started_at": None,
    "ended_at": None,
    "duration_seconds": None,
    "sip_call_id": None,
}


def seed_calls(db_path: str, calls: list) -> None:
    """Inserts call rows straight into the (stopped) server's SQLite database.

    No API of issue #2 creates a call, so this is the only way to test GET /calls filters, the call
    object and call control against an existing call. The columns are discovered with
    PRAGMA table_info so that the test depends on field names (records.hpp), not on column order.
    Raises unittest.SkipTest when the schema cannot be matched.
    """
    db = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = "calls" if "calls" in tables else next(
            (t for t in tables if "call" in t.lower() and "event" not in t.lower()), None)
        if table is None:
            raise unittest.SkipTest(f"no calls table in {tables}")
        columns = list(db.execute(f"PRAGMA table_info({table})"))
        names = [c[1] for c in columns]
        for call in calls:
            values = dict(CALL_DEFAULTS)
            values.update(call)
            values.setdefault("updated_at", values["created_at"])
            row = {}
            for _, name, ctype, notnull, default, pk in columns:
                key = name
                if name in ("organization_id",):
                    key = "org_id"
                if name in ("messages_json", "transcript_json", "messages"):
                    row[name] = json.dumps(values.get("messages", []))
                elif key in values:
                    row[name] = values[key]
                elif notnull and default is None and not pk:
                    t = (ctype or "").upper()
                    row[name] = ("{}" if "json" in name else
                                 0 if "INT" in t else 0.0 if ("REAL" in t or "FLO" in t) else "")
            missing = [n for n in ("id", "status", "created_at") if n not in names]
            if missing or not any(n in names for n in ("org_id", "organization_id")):
                raise unittest.SkipTest(f"calls table columns not recognised: {names}")
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))
        db.commit()
    except sqlite3.Error as e:
        raise unittest.SkipTest(f"could not seed calls into {db_path}: {e}")
    finally:
        db.close()


# -------------------------------------------------------------------- test case base
class Field:
    """Matcher for an error's `field`: exact name, or any name starting with `prefix`."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def matches(self, value) -> bool:
        return isinstance(value, str) and value.startswith(self.prefix)

    def __repr__(self):
        return f"{self.prefix}*"


class ServerTestCase(unittest.TestCase):
    """One fresh server per test class. Subclasses may set `server_kwargs` and override
    `prepare_server(cls, server)` (runs before start) or `setUpServer(cls)` (after start)."""

    server_kwargs: dict = {}
    server: Server = None
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = Server(**cls.server_kwargs)
        try:
            cls.prepare_server(cls.server)
            cls.server.start()
            cls.setUpServer()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def prepare_server(cls, server: Server):
        pass

    @classmethod
    def setUpServer(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server.proc is not None:
                cls.server.stop()
        finally:
            cls.server.cleanup()
            super().tearDownClass()

    # Print the server log tail when a test fails (unittest keeps no per-test hook for that).
    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else None
        out = super().run(result)
        if result is not None and before is not None and \
                len(result.failures) + len(result.errors) > before and self.server is not None:
            sys.stderr.write("\n" + self.server.log_tail(40) + "\n")
        return out

    # ---------------------------------------------------------------- shortcuts
    @property
    def srv(self) -> Server:
        return self.server

    def api(self, method, rel_path, body=None, **kw) -> Response:
        return self.server.api(method, rel_path, body, **kw)

    # ---------------------------------------------------------------- assertions
    def assertStatus(self, resp: Response, status: int, msg=""):
        self.assertEqual(resp.status, status,
                         f"{msg} expected HTTP {status}, got {resp.status}: {resp.body!r}")

    def assertError(self, resp: Response, status: int, code, field=None, param=None, msg=""):
        """Asserts an error response: status, `error`/`message`/`code` present, `code` equal to
        `code` (or one of a tuple), `field` equal to `field` (a str or Field matcher); `param`:
        the error names that query parameter in `field` or in `message`."""
        self.assertStatus(resp, status, msg)
        body = resp.body
        self.assertIsInstance(body, dict, f"{msg} error body is not a JSON object: {body!r}")
        for k in ("error", "message", "code"):
            self.assertIsInstance(body.get(k), str, f"{msg} error body lacks string {k!r}: {body}")
            self.assertTrue(body[k], f"{msg} empty {k!r} in {body}")
        codes = code if isinstance(code, tuple) else (code,)
        self.assertIn(body["code"], codes, f"{msg} wrong code in {body}")
        if field is not None:
            got = body.get("field")
            ok = field.matches(got) if isinstance(field, Field) else got == field
            self.assertTrue(ok, f"{msg} expected field {field!r}, got {got!r} in {body}")
        if param is not None:
            self.assertTrue(body.get("field") == param or param in body["message"],
                            f"{msg} error does not name parameter {param!r}: {body}")
        return body

    def assertKeys(self, obj: dict, expected, optional=(), msg=""):
        self.assertIsInstance(obj, dict, msg)
        keys = set(obj)
        missing = set(expected) - keys
        extra = keys - set(expected) - set(optional)
        self.assertFalse(missing or extra,
                         f"{msg} missing keys {sorted(missing)}, unexpected keys {sorted(extra)} "
                         f"in {obj}")

    def assertSubset(self, expected, actual, path="$"):
        """Every key/value of `expected` appears in `actual` (recursively; lists element-wise)."""
        if isinstance(expected, dict):
            self.assertIsInstance(actual, dict, f"{path}: expected an object, got {actual!r}")
            for k, v in expected.items():
                self.assertIn(k, actual, f"{path}.{k} missing in {actual!r}")
                self.assertSubset(v, actual[k], f"{path}.{k}")
        elif isinstance(expected, list):
            self.assertIsInstance(actual, list, f"{path}: expected an array, got {actual!r}")
            self.assertEqual(len(expected), len(actual), f"{path}: length differs: {actual!r}")
            for i, (e, a) in enumerate(zip(expected, actual)):
                self.assertSubset(e, a, f"{path}[{i}]")
        elif isinstance(expected, float):
            self.assertAlmostEqual(expected, actual, places=6, msg=path)
        else:
            self.assertEqual(expected, actual, path)

    def assertUuid(self, value, msg=""):
        self.assertIsInstance(value, str, msg)
        self.assertRegex(value, UUID4_RE, f"{msg} not a UUID v4")

    def assertTimestamp(self, value, msg=""):
        self.assertIsInstance(value, str, msg)
        self.assertRegex(value, TIMESTAMP_RE, f"{msg} not ISO-8601 UTC with milliseconds")

    def snapshot(self, collection: str, key=_DEFAULT):
        """The JSON list of a collection, for 'a rejected request changes nothing' checks."""
        r = self.api("GET", f"/{collection}", key=key)
        self.assertStatus(r, 200, f"GET /{collection}")
        return r.body


def secret_variants(secret: str):
    """Byte strings whose presence anywhere means `secret` was stored or sent unsealed."""
    raw = secret.encode()
    aligned = raw[: len(raw) - len(raw) % 3]  # base64 of a prefix is stable wherever it starts
    return {
        "plain": raw,
        "utf-16": secret.encode("utf-16-le"),
        "hex": raw.hex().encode(),
        "base64": base64.b64encode(aligned),
        "base64url": base64.urlsafe_b64encode(aligned),
    }
