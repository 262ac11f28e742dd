"""Seeing why a call failed: the failure reason, SIP code, hint and warn log line of a transfer
that did not go through (credentials refused, a host that does not resolve, a closed port, a
destination that never answers or only rings), and of an outbound call to a closed port; the
per-call SIP capture of a bridged transfer as JSON, ladder diagram and pcap (read back with
tshark); who may read a capture, and that credentials never appear in one."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

from raw_sip import RawDialog, header, status_of
from sip_harness import (DID, SCENARIOS, SIPP, DigestTrunkTestCase, SipServerTestCase,
                         free_udp_port, wait_until_bound)
from test_digest_replay import challenge_param, md5

DESTINATION = "+31201234567"
TRUNK_USER = "trunkline"
TRUNK_PASSWORD = "Pbx-Secret-77"
TRANSFER_TIMEOUT = 3  # --transfer-timeout of these servers, seconds
TSHARK = shutil.which("tshark")
# A digest response value that escaped redaction: 32 hex digits right after response=.
DIGEST_RESPONSE_RE = re.compile(r'response\s*=\s*\\?"?[0-9a-fA-F]{32}')


def parse_ladder(text):
    """The ladder as (column names, rows); a row is (label, from column, to column)."""
    lines = text.splitlines()
    names = lines[1].split()
    lifelines = [i for i, c in enumerate(lines[2]) if c == "|"]
    assert len(lifelines) == len(names), text
    rows = []
    for line in lines[3:]:
        if not line.strip():
            continue
        heads = [m.start() for m in re.finditer(r"\|[-<]", line)]
        tails = [m.start() + 1 for m in re.finditer(r"[->]\|", line)]
        assert heads and tails, f"no arrow in ladder row {line!r}"
        start, end = heads[0], tails[-1]
        assert start in lifelines and end in lifelines, f"arrow off the lifelines: {line!r}"
        body = line[start + 1:end]
        label = body.strip("-<>")
        left, right = lifelines.index(start), lifelines.index(end)
        if body.startswith("<"):
            rows.append((label, names[right], names[left]))
        else:
            assert body.endswith(">"), line
            rows.append((label, names[left], names[right]))
    return names, rows


class DiagnosticsTestCase(SipServerTestCase):
    extra_args = ("--transfer-timeout", str(TRANSFER_TIMEOUT))

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tl-diag-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # ------------------------------------------------------------------ peers
    def sipp_uas(self, scenario, *args):
        """A sipp agent for one call on a free port, killed at the end of the test."""
        return self.sipp_peer(scenario, self.tmp, *args)[0]

    def transfer_trunk(self, host, port, **fields):
        """A digest trunk to host:port, made the transfer trunk of DID; returns the response."""
        r = self.server.api("POST", "/sip-trunks", {
            "name": f"PBX {host}:{port}", "host": host, "port": port, "direction": "outbound",
            "auth_type": "digest", "username": TRUNK_USER, "password": TRUNK_PASSWORD, **fields})
        self.assertEqual(r.status, 201, r)
        numbers = self.server.api("GET", "/numbers").body["numbers"]
        number = next(n for n in numbers if n["phone_number"] == DID)
        p = self.server.api("PATCH", f"/numbers/{number['id']}",
                            {"transfer_trunk_id": r.body["trunk"]["id"]})
        self.assertEqual(p.status, 200, p)
        return r

    # ------------------------------------------------------------------ calls
    def call_in(self):
        """An answered inbound call from a raw UDP caller; returns (dialog, call id). The caller
        hangs up at the end of the test if it has not yet."""
        dialog = RawDialog((self.server.sip_host, self.server.sip_port))
        self.addCleanup(dialog.close)
        cseq, final = dialog.invite()
        self.assertEqual(status_of(final), 200, final)
        dialog.ack(cseq)
        call = self.wait_for(lambda: next((c for c in self.calls()
                                           if c["sip_call_id"] == dialog.call_id and
                                           c["status"] == "in-progress"), None),
                             what="the call in progress")
        dialog.hung_up = False

        def hang_up():  # a test that failed half-way still ends its call
            if not dialog.hung_up:
                dialog.request("BYE")
                try:
                    dialog.response()
                except AssertionError:
                    pass
        self.addCleanup(hang_up)
        return dialog, call["id"]

    def hang_up(self, dialog, call_id):
        dialog.hung_up = True
        dialog.request("BYE")
        self.assertEqual(status_of(dialog.response()), 200)
        return self.wait_for(lambda: (lambda c: c if c["status"] == "ended" else None)(
            self.server.api("GET", f"/calls/{call_id}").body), what="the call to end")

    def transfer(self, call_id, destination=DESTINATION, timeout=10.0):
        """Asks for a transfer; returns the call once the transfer failed or connected, failing
        when it is still pending after `timeout` seconds."""
        r = self.server.api("POST", f"/calls/{call_id}/control",
                            {"type": "transfer", "destination": destination})
        self.assertEqual(r.status, 200, r)
        requested = time.monotonic()
        deadline = requested + timeout
        while True:
            call = self.server.api("GET", f"/calls/{call_id}").body
            transfer = call["transfer"]
            if transfer and transfer["status"] in ("failed", "connected"):
                return call
            if time.monotonic() > deadline:
                self.fail(f"the transfer is still {transfer and transfer['status']!r} "
                          f"{time.monotonic() - requested:.1f} s after it was asked for "
                          f"(--transfer-timeout {TRANSFER_TIMEOUT}): {transfer}\n"
                          f"events: {[e['type'] for e in call['events']]}")
            time.sleep(0.1)

    # ------------------------------------------------------------------ logs and captures
    def log_objects(self):
        out = []
        for line in self.server.log_text().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def assertWarnLogged(self, call_id, reason, trunk_id):
        """The server logged a warn line about the call with its ids and the reason."""
        org_id = self.server.org_id()
        line = self.wait_for(lambda: next(
            (o for o in self.log_objects()
             if o.get("level") == "warn" and o.get("call_id") == call_id and
             o.get("reason") == reason), None), timeout=5,
            what=f"a warn log line with call_id {call_id} and reason {reason}")
        self.assertEqual(line.get("org_id"), org_id, line)
        self.assertEqual(line.get("trunk_id"), trunk_id, line)
        self.assertTrue(line["msg"], line)
        return line

    def capture(self, call_id, fmt=None, key=None):
        path = f"/calls/{call_id}/sip" + (f"?format={fmt}" if fmt else "")
        kw = {} if key is None else {"key": key}
        return self.server.api("GET", path, **kw)

    def assertFailure(self, call, reason, sip_code):
        transfer = call["transfer"]
        self.assertEqual(transfer["status"], "failed", call["events"])
        self.assertEqual(transfer["reason"], reason, transfer)
        self.assertEqual(transfer["sip_code"], sip_code, transfer)
        self.assertIsInstance(transfer["hint"], str, transfer)
        self.assertGreater(len(transfer["hint"]), 10, transfer)
        return transfer

    def assertNoSecrets(self, call_id, password, expect_redacted=True):
        """Neither the password nor a digest response value is in any form of the capture;
        the response= of each Authorization header reads "[redacted]"."""
        as_json = self.capture(call_id)
        ladder = self.capture(call_id, "ladder")
        pcap = self.capture(call_id, "pcap")
        for r in (as_json, ladder, pcap):
            self.assertEqual(r.status, 200, r)
        forms = {"json": as_json.raw.decode("utf-8", "replace"),
                 "ladder": ladder.raw.decode("utf-8", "replace"),
                 "pcap": pcap.raw.decode("latin-1")}
        for name, text in forms.items():
            self.assertNotIn(password, text, f"the password is in the {name} capture")
            self.assertIsNone(DIGEST_RESPONSE_RE.search(text),
                              f"a digest response value is in the {name} capture")
        raws = "".join(m["raw"] for m in as_json.body["messages"])
        if expect_redacted:
            self.assertTrue(re.search(r"(?im)^(Proxy-)?Authorization:\s*Digest ", raws),
                            "no request with credentials in the capture: " +
                            str([m["raw"].split("\r\n", 1)[0] for m in as_json.body["messages"]]))
            self.assertIn('response="[redacted]"', raws)
            self.assertIn('response="[redacted]"', forms["pcap"])


class TestTransferFailureReasons(DiagnosticsTestCase):

    def test_refused_credentials_are_auth_rejected_with_the_username(self):
        port = self.sipp_uas("uas_digest_then_403.xml")
        trunk_id = self.transfer_trunk("127.0.0.1", port).body["trunk"]["id"]
        dialog, call_id = self.call_in()
        call = self.transfer(call_id)
        transfer = self.assertFailure(call, "auth_rejected", 403)
        self.assertIn(TRUNK_USER, transfer["hint"])
        self.assertIn("403", transfer["hint"])
        self.assertWarnLogged(call_id, "auth_rejected", trunk_id)
        self.hang_up(dialog, call_id)
        self.assertNoSecrets(call_id, TRUNK_PASSWORD)
        self.assertGaugesReturnToZero()

    def test_unresolvable_host_is_dns_failure(self):
        r = self.transfer_trunk("pbx.doesnotexist.invalid", 5060)
        warnings = r.body.get("warnings")
        self.assertIsInstance(warnings, list, r.body)
        self.assertTrue(any("pbx.doesnotexist.invalid" in w for w in warnings), warnings)
        trunk_id = r.body["trunk"]["id"]
        dialog, call_id = self.call_in()
        transfer = self.assertFailure(self.transfer(call_id), "dns_failure", None)
        self.assertIn("pbx.doesnotexist.invalid", transfer["hint"])
        self.assertWarnLogged(call_id, "dns_failure", trunk_id)
        self.hang_up(dialog, call_id)
        self.assertGaugesReturnToZero()

    def test_closed_port_is_connection_refused(self):
        port = free_udp_port()  # nothing listens: ICMP port unreachable
        trunk_id = self.transfer_trunk("127.0.0.1", port).body["trunk"]["id"]
        dialog, call_id = self.call_in()
        transfer = self.assertFailure(self.transfer(call_id), "connection_refused", None)
        self.assertIn(f"127.0.0.1:{port}", transfer["hint"])
        self.assertWarnLogged(call_id, "connection_refused", trunk_id)
        self.hang_up(dialog, call_id)
        self.assertGaugesReturnToZero()

    def test_destination_that_never_responds_is_timeout(self):
        # The caller is back with the assistant soon after --transfer-timeout, not after the
        # INVITE transaction's own 32 s.
        port = self.sipp_uas("uas_silent.xml", "-nd")
        trunk_id = self.transfer_trunk("127.0.0.1", port).body["trunk"]["id"]
        dialog, call_id = self.call_in()
        call = self.transfer(call_id, timeout=TRANSFER_TIMEOUT + 5)
        self.assertFailure(call, "timeout", None)
        self.assertWarnLogged(call_id, "timeout", trunk_id)
        self.hang_up(dialog, call_id)
        self.assertGaugesReturnToZero(dialogs=False)

    def test_destination_that_rings_and_goes_silent_is_no_answer(self):
        # 180 Ringing, then nothing: not even an answer to our CANCEL.
        port = self.sipp_uas("uas_ring_then_silent.xml", "-nd")
        trunk_id = self.transfer_trunk("127.0.0.1", port).body["trunk"]["id"]
        dialog, call_id = self.call_in()
        call = self.transfer(call_id, timeout=TRANSFER_TIMEOUT + 5)
        transfer = self.assertFailure(call, "no_answer", None)
        self.assertIn("rang", transfer["hint"])
        self.assertWarnLogged(call_id, "no_answer", trunk_id)
        self.hang_up(dialog, call_id)
        self.assertGaugesReturnToZero(dialogs=False)

    def test_zz_silent_destinations_dialogs_end_with_their_invite_transaction(self):
        # Runs last in the class (unittest sorts by name): the legs above that never got a final
        # response stay SIP dialogs until their INVITE transaction times out (32 s); then none
        # is left.
        self.wait_for(lambda: self.metric("trunkline_sip_dialogs") == 0, timeout=45,
                      what="SIP dialogs back to 0")


class TestOutboundFailureReason(DiagnosticsTestCase):

    def test_outbound_call_to_a_closed_port_is_connection_refused(self):
        port = free_udp_port()
        r = self.server.api("POST", "/sip-trunks", {
            "name": "closed carrier", "direction": "outbound", "host": "127.0.0.1", "port": port,
            "auth_type": "ip", "caller_id": "+31850835037"})
        self.assertEqual(r.status, 201, r)
        trunk_id = r.body["trunk"]["id"]
        r = self.server.api("POST", "/calls/outbound", {
            "destination": "+31612345678", "assistant_id": self.assistant_id, "trunk_id": trunk_id})
        self.assertEqual(r.status, 200, r)
        call_id = r.body["call_id"]
        call = self.wait_for(lambda: (lambda c: c if c["status"] in ("ended", "failed") else None)(
            self.server.api("GET", f"/calls/{call_id}").body), what="the outbound call to end")
        self.assertEqual(call["end_reason"], "connection_refused", call)
        self.assertIsNone(call["sip_code"], call)
        self.assertIsInstance(call["hint"], str, call)
        self.assertIn(f"127.0.0.1:{port}", call["hint"])
        self.assertWarnLogged(call_id, "connection_refused", trunk_id)
        # The capture has the INVITE that went nowhere.
        capture = self.wait_for(lambda: (lambda r: r.body if r.status == 200 and
                                         r.body["messages"] else None)(self.capture(call_id)),
                                what="the outbound call's capture")
        invite = capture["messages"][0]
        self.assertEqual((invite["direction"], invite["remote_address"]),
                         ("out", f"127.0.0.1:{port}"), invite)
        self.assertTrue(invite["raw"].startswith("INVITE "), invite)
        self.assertGaugesReturnToZero()


class TestCaptureOfABridgedTransfer(DiagnosticsTestCase):

    def test_ladder_json_and_pcap_show_both_legs_in_order(self):
        if TSHARK is None:
            self.fail("tshark is not installed (Debian package tshark): the pcap cannot be checked")
        pbx = self.sipp_uas("uas_answer_echo.xml")
        self.transfer_trunk("127.0.0.1", pbx)
        dialog, call_id = self.call_in()
        call = self.transfer(call_id)
        self.assertEqual(call["transfer"]["status"], "connected", call["events"])
        us = f"{self.server.sip_host}:{self.server.sip_port}"
        caller, pbx_address = f"127.0.0.1:{dialog.port}", f"127.0.0.1:{pbx}"

        # Live: the bridged call's capture already has the destination's answer.
        live = self.capture(call_id)
        self.assertEqual(live.status, 200, live)
        self.assertTrue(any(m["direction"] == "in" and m["remote_address"] == pbx_address and
                            m["raw"].startswith("SIP/2.0 200") for m in live.body["messages"]),
                        "the live capture lacks the destination's 200 OK")

        self.hang_up(dialog, call_id)
        # Stored after the end; the last messages (our BYE to the destination, its 200) too.
        capture = self.wait_for(lambda: (lambda r: r.body if r.status == 200 and any(
            m["direction"] == "in" and m["remote_address"] == pbx_address and
            m["raw"].startswith("SIP/2.0 200") and "BYE" in m["raw"].split("CSeq:", 1)[-1][:40]
            for m in r.body["messages"]) else None)(self.capture(call_id)), timeout=8,
            what="the stored capture with the destination's 200 OK to our BYE")
        self.assertIs(capture["truncated"], False)
        messages = capture["messages"]
        for m in messages:
            self.assertEqual(m["local_address"], us, m)
            self.assertEqual(m["transport"], "udp", m)
            self.assertIn(m["remote_address"], (caller, pbx_address), m)
        self.assertEqual([m["timestamp"] for m in messages],
                         sorted(m["timestamp"] for m in messages), "not oldest first")

        def first(direction, remote, start):
            return next(i for i, m in enumerate(messages) if m["direction"] == direction and
                        m["remote_address"] == remote and m["raw"].startswith(start))
        order = [first("in", caller, "INVITE "), first("out", caller, "SIP/2.0 200 "),
                 first("out", pbx_address, "INVITE "), first("in", pbx_address, "SIP/2.0 200 "),
                 first("out", pbx_address, "BYE ")]
        self.assertEqual(order, sorted(order), [m["raw"].split("\r\n")[0] for m in messages])
        self.assertEqual({m["direction"] for m in messages if m["remote_address"] == caller and
                          m["raw"].startswith(("INVITE ", "ACK ", "BYE "))}, {"in"})
        self.assertEqual({m["direction"] for m in messages if m["remote_address"] == pbx_address
                          and m["raw"].startswith(("INVITE ", "ACK ", "BYE "))}, {"out"})

        ladder = self.capture(call_id, "ladder")
        self.assertEqual(ladder.status, 200, ladder)
        self.assertTrue(ladder.headers.get("Content-Type", "").startswith("text/plain"), ladder)
        names, rows = parse_ladder(ladder.body)
        self.assertEqual(names, ["trunkline", caller, pbx_address], ladder.body)
        self.assertTrue(all(re.match(r"\s*\+\d+\.\d{3}s\s", line)
                            for line in ladder.body.splitlines()[3:] if line.strip()),
                        ladder.body)
        expected = [("INVITE", caller, "trunkline"), ("200 OK (INVITE)", "trunkline", caller),
                    ("INVITE", "trunkline", pbx_address), ("200 OK (INVITE)", pbx_address,
                                                           "trunkline")]
        at = [rows.index(row) if row in rows else -1 for row in expected]
        self.assertNotIn(-1, at, f"missing rows {expected} in\n{ladder.body}")
        self.assertEqual(at, sorted(at), ladder.body)

        pcap = self.capture(call_id, "pcap")
        self.assertEqual(pcap.status, 200, pcap)
        path = os.path.join(self.tmp, "call.pcap")
        with open(path, "wb") as f:
            f.write(pcap.raw)
        out = subprocess.run(
            [TSHARK, "-r", path, "-d", f"udp.port=={self.server.sip_port},sip", "-T", "fields",
             "-e", "sip.Method", "-e", "udp.srcport", "-e", "udp.dstport"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        fields = [line.split("\t") for line in out.stdout.splitlines()]
        invites = [(int(src), int(dst)) for method, src, dst in fields if method == "INVITE"]
        self.assertIn((dialog.port, self.server.sip_port), invites, out.stdout)
        self.assertIn((self.server.sip_port, pbx), invites, out.stdout)
        self.assertGaugesReturnToZero()


class TestCaptureAccess(DiagnosticsTestCase):

    def test_another_organization_gets_404_and_an_unknown_format_400(self):
        dialog, call_id = self.call_in()
        self.hang_up(dialog, call_id)
        self.assertEqual(self.capture(call_id).status, 200)
        other = self.capture(call_id, key=self.server.key_b)
        self.assertEqual(other.status, 404, other)
        for fmt in ("ladder", "pcap"):
            self.assertEqual(self.capture(call_id, fmt, key=self.server.key_b).status, 404)
        bogus = self.capture(call_id, "bogus")
        self.assertEqual(bogus.status, 400, bogus)
        self.assertEqual(bogus.body.get("field"), "format", bogus.body)
        self.assertGaugesReturnToZero()


class TestInboundDigestCapture(DigestTrunkTestCase, DiagnosticsTestCase):
    """The caller answers our digest challenge (a raw UDP client computing MD5 with qop=auth):
    its Authorization header is in the capture with the response value replaced, and the trunk's
    password appears nowhere."""

    def digest_call(self, hold):
        """Challenged INVITE, ACK, the INVITE with our credentials, ACK; BYE `hold` s later.
        Returns the call's id."""
        dialog = RawDialog((self.server.sip_host, self.server.sip_port))
        self.addCleanup(dialog.close)
        branch = "z9hG4bK" + uuid.uuid4().hex[:12]
        cseq = dialog.request("INVITE", body=dialog.offer(), branch=branch)
        challenge = dialog.response()
        self.assertEqual(status_of(challenge), 401, challenge)
        dialog.to_tag = re.search(r"^To:.*;tag=([^;\s>]+)", challenge, re.M | re.I).group(1)
        dialog.request("ACK", cseq=cseq, branch=branch)  # same branch: RFC 3261 §17.1.1.3
        dialog.to_tag = None
        www = header(challenge, "WWW-Authenticate")
        realm, nonce = challenge_param(www, "realm"), challenge_param(www, "nonce")
        uri, cnonce = dialog.uri(), uuid.uuid4().hex[:16]
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        response = md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{md5(f'INVITE:{uri}')}")
        authorization = (f'Digest username="{self.username}", realm="{realm}", '
                         f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5, '
                         f'qop=auth, nc=00000001, cnonce="{cnonce}"')
        cseq, final = dialog.invite(extra=[f"Authorization: {authorization}"])
        self.assertEqual(status_of(final), 200, final)
        dialog.ack(cseq)
        call = self.wait_for(lambda: next((c for c in self.calls()
                                           if c["sip_call_id"] == dialog.call_id), None),
                             what="the call")
        time.sleep(hold)
        dialog.hung_up = False
        self.hang_up(dialog, call["id"])
        return call["id"], response

    def stored_capture_with_bye(self, call_id):
        try:
            return self.wait_for(lambda: (lambda r: r.body if r.status == 200 and any(
                m["raw"].startswith("BYE ") for m in r.body["messages"]) else None)(
                self.capture(call_id)), timeout=6, what="the stored capture with the BYE")
        except AssertionError:
            r = self.capture(call_id)
            self.fail(f"no BYE in the capture of the call: "
                      f"{[m['raw'].split(chr(13))[0] for m in r.body['messages']]}")

    def test_caller_credentials_never_appear_in_the_capture(self):
        call_id, response = self.digest_call(hold=0.5)
        self.stored_capture_with_bye(call_id)
        self.assertNoSecrets(call_id, self.password)
        for fmt in (None, "ladder", "pcap"):
            self.assertNotIn(response.encode(), self.capture(call_id, fmt).raw)
        self.assertGaugesReturnToZero()

    def test_a_digest_call_is_captured_from_its_first_invite_to_its_bye(self):
        # Held longer than the 2 s a call's capture stays attached after the call ends: the
        # challenged INVITE must not take the Call-ID away from the call that follows it.
        call_id, _ = self.digest_call(hold=3)
        messages = self.stored_capture_with_bye(call_id)["messages"]
        firsts = [m["raw"].split("\r\n", 1)[0] for m in messages]
        self.assertTrue(firsts[0].startswith("INVITE "), firsts)
        self.assertTrue(any(f.startswith("SIP/2.0 401 ") for f in firsts), firsts)
        self.assertGreaterEqual(sum(f.startswith("INVITE ") for f in firsts), 2, firsts)
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
