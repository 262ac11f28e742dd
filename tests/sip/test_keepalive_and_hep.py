"""Trunk keep-alive (options_ping_seconds -> status, status_checked_at, the RTT metric, a warn line
when a trunk becomes unreachable) and the live export of SIP messages to a Homer collector
(HEP v3 over UDP, decoded here chunk by chunk)."""

import json
import re
import socket
import struct
import threading
import time
import unittest

from sip_harness import DID, SipServerTestCase, free_udp_port


class OptionsResponder:
    """A SIP peer on loopback that answers every OPTIONS with 200 OK (RFC 3261 §11.2): the Via,
    From, To (tagged), Call-ID and CSeq of the request, as any UAS echoes them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("OPTIONS "):
                continue
            self.received += 1
            keep = [line for line in text.split("\r\n")
                    if re.match(r"(?i)^(via|from|call-id|cseq):", line)]
            to = next(line for line in text.split("\r\n") if re.match(r"(?i)^to:", line))
            reply = "\r\n".join(["SIP/2.0 200 OK", *keep, to + ";tag=responder",
                                 "Content-Length: 0", "", ""])
            self.sock.sendto(reply.encode(), peer)

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


class TestTrunkKeepAlive(SipServerTestCase):

    def setUp(self):
        self.responder = OptionsResponder()

    def tearDown(self):
        self.responder.close()

    def trunk(self, port, seconds=5):
        r = self.server.api("POST", "/sip-trunks", {
            "name": f"carrier {port}", "host": "127.0.0.1", "port": port, "auth_type": "ip",
            "options_ping_seconds": seconds})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["trunk"]["status"], "unknown")
        self.assertIsNone(r.body["trunk"]["status_checked_at"])
        self.assertEqual(r.body["warnings"], [])
        return r.body["trunk"]["id"]

    def status(self, trunk_id):
        r = self.server.api("GET", f"/sip-trunks/{trunk_id}")
        self.assertEqual(r.status, 200, r)
        return r.body["trunk"]

    def test_answering_trunk_is_reachable_and_a_closed_port_is_not(self):
        up = self.trunk(self.responder.port)
        down = self.trunk(free_udp_port())
        # Trunks are re-read every 10 s; the first OPTIONS follows.
        self.wait_for(lambda: self.status(up)["status"] == "reachable", timeout=25,
                      what="the answering trunk reachable")
        self.wait_for(lambda: self.status(down)["status"] == "unreachable", timeout=25,
                      what="the closed port unreachable")
        self.assertGreaterEqual(self.responder.received, 1)
        self.assertRegex(self.status(up)["status_checked_at"], r"^\d{4}-\d\d-\d\dT")
        # The round trip of the answering trunk is in /metrics, labelled with its id.
        metrics = self.server.request("GET", "/metrics", key=None)[2]
        self.assertRegex(metrics, rf'trunkline_trunk_options_rtt_seconds_count\{{trunk_id="{up}"\}} [1-9]')
        self.assertNotIn(f'trunkline_trunk_options_rtt_seconds_count{{trunk_id="{down}"}}', metrics)
        # Becoming unreachable is a warning naming the trunk.
        warn = [json.loads(line) for line in self.server.log_text().splitlines()
                if line.startswith("{") and f'"trunk_id":"{down}"' in line]
        self.assertTrue(any(w["level"] == "warn" and w["reason"] == "unreachable" for w in warn),
                        warn)
        # Turning the keep-alive off forgets the verdict.
        r = self.server.api("PATCH", f"/sip-trunks/{up}", {"options_ping_seconds": None})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["trunk"]["status"], r.body["trunk"]["options_ping_seconds"]),
                         ("unknown", None))

    def test_interval_is_bounded(self):
        for bad in (4, 3601, "5", 5.5):
            r = self.server.api("POST", "/sip-trunks", {
                "name": "x", "host": "127.0.0.1", "auth_type": "ip", "options_ping_seconds": bad})
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.body.get("field"), "options_ping_seconds", r)


def decode_hep3(packet):
    """Chunk type -> bytes of a HEP v3 packet (vendor 0 chunks)."""
    assert packet[:4] == b"HEP3", packet[:4]
    (total,) = struct.unpack("!H", packet[4:6])
    assert total == len(packet), (total, len(packet))
    chunks, offset = {}, 6
    while offset < total:
        vendor, kind, length = struct.unpack("!HHH", packet[offset:offset + 6])
        assert length >= 6 and offset + length <= total
        chunks[kind] = packet[offset + 6:offset + length]
        offset += length
    return chunks


class TestHepExport(SipServerTestCase):
    collector = None

    @classmethod
    def prepare_server(cls, server):
        cls.collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.collector.bind(("127.0.0.1", 0))
        cls.collector.settimeout(0.5)
        port = cls.collector.getsockname()[1]
        cls.extra_args = ("--hep-endpoint", f"127.0.0.1:{port}", "--hep-id", "4242")
        super().prepare_server(server)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.collector.close()

    def test_every_message_of_a_call_reaches_the_collector(self):
        self.sipp("call_hangup.xml")
        packets, deadline = [], time.time() + 10
        while time.time() < deadline:
            try:
                packets.append(decode_hep3(self.collector.recv(65535)))
            except socket.timeout:
                if any(p[0x0F].startswith(b"SIP/2.0 200") and
                       re.search(rb"(?im)^CSeq:\s*\d+\s+BYE", p[0x0F]) for p in packets):
                    break
        payloads = [p[0x0F].decode(errors="replace") for p in packets]
        invite = next(p for p in packets if p[0x0F].startswith(b"INVITE sip:" + DID.encode()))
        call_id = re.search(r"(?im)^Call-ID:\s*(\S+)", invite[0x0F].decode()).group(1)
        self.assertEqual(invite[0x11].decode(), call_id)          # correlation id
        self.assertEqual(struct.unpack("!I", invite[0x0C])[0], 4242)  # capture agent id
        self.assertEqual(invite[0x01], bytes([2]))                # IPv4
        self.assertEqual(invite[0x02], bytes([17]))               # UDP
        self.assertEqual(invite[0x0B], bytes([1]))                # SIP
        self.assertEqual(socket.inet_ntoa(invite[0x03]), "127.0.0.1")
        # An INVITE we received: from the caller's port to the server's SIP port.
        self.assertEqual(struct.unpack("!H", invite[0x08])[0], self.server.sip_port)
        self.assertGreater(struct.unpack("!I", invite[0x09])[0], 1_700_000_000)
        ours = [p for p in packets if p[0x0F].startswith(b"SIP/2.0 200 OK") and
                b"INVITE" in p[0x0F]]
        self.assertTrue(ours, payloads)
        self.assertEqual(struct.unpack("!H", ours[0][0x07])[0], self.server.sip_port)
        for method in ("ACK", "BYE"):
            self.assertTrue(any(p.startswith(method + " ") for p in payloads), payloads)
        metrics = self.server.request("GET", "/metrics", key=None)[2]
        sent = re.search(r"(?m)^trunkline_hep_packets_sent_total (\d+)", metrics)
        self.assertIsNotNone(sent, metrics)
        self.assertGreaterEqual(int(sent.group(1)), 5)


if __name__ == "__main__":
    unittest.main()
