"""Session timers (RFC 4028) and reliable provisional responses (RFC 3262) against a raw SIP peer:
Trunkline keeps the refresher the peer asks for, refreshes with UPDATE at half the interval,
ends a session nobody refreshed before it expires (end_reason session_timer), enforces Min-SE
90 s, and accepts INVITEs that require 100rel. The 90 s sessions run side by side."""

import threading
import time
import unittest

from raw_sip import RawDialog, header, status_line
from sip_harness import SipServerTestCase

ALLOW = "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"


class TestSessionTimers(SipServerTestCase):
    # The raw peers send no RTP: keep the media timeout out of the sessions' way.
    extra_args = ("--rtp-timeout", "300")

    def dialog(self):
        d = RawDialog((self.server.sip_host, self.server.sip_port))
        self.addCleanup(d.close)
        return d

    def end_reason(self, sip_call_id, timeout=10):
        def find():
            for c in self.calls():
                if c.get("sip_call_id") == sip_call_id and c["status"] in ("ended", "failed"):
                    return c
            return None
        return self.wait_for(find, timeout=timeout, what="the call to end")["end_reason"]

    def test_min_se_is_90_seconds(self):
        d = self.dialog()
        _, final = d.invite(extra=("Supported: timer", "Session-Expires: 30"))
        self.assertEqual(status_line(final).split(" ")[1], "422")
        self.assertEqual(header(final, "Min-SE").split(";")[0].strip(), "90")
        d.ack(1)

    def test_invite_requiring_100rel_is_answered(self):
        d = self.dialog()
        cseq, final = d.invite(extra=("Supported: 100rel", "Require: 100rel"))
        self.assertEqual(status_line(final), "SIP/2.0 200 OK")
        d.ack(cseq)
        d.request("BYE")
        self.assertEqual(status_line(d.response()), "SIP/2.0 200 OK")

    def test_refresh_by_update_and_expiry_without_refresh(self):
        results = {}

        def we_refresh():
            # The peer asks us to refresh: an UPDATE comes at about half of 90 s.
            d = self.dialog()
            started = time.monotonic()
            cseq, final = d.invite(extra=("Supported: timer", "Session-Expires: 90;refresher=uas",
                                          ALLOW))
            results["refresh.200"] = final
            d.ack(cseq)
            d.wait_request("UPDATE", timeout=70)
            results["refresh.at"] = time.monotonic() - started
            d.request("BYE")
            results["refresh.bye"] = status_line(d.response())

        def nobody_refreshes():
            # The peer was to refresh and never does: we end the session before it expires.
            d = self.dialog()
            started = time.monotonic()
            cseq, final = d.invite(extra=("Supported: timer", "Session-Expires: 90;refresher=uac",
                                          ALLOW))
            results["expiry.200"] = final
            d.ack(cseq)
            d.wait_request("BYE", timeout=100)
            results["expiry.at"] = time.monotonic() - started
            results["expiry.id"] = d.call_id

        def refresh_unanswered():
            # Our UPDATE is never answered: the call ends before the session would expire. The
            # timeout (408) ends the dialog by itself (RFC 3261 §12.2.1.2): no BYE is needed.
            d = self.dialog()
            d.unanswered.add("UPDATE")
            started = time.monotonic()
            cseq, final = d.invite(extra=("Supported: timer", "Session-Expires: 90;refresher=uas",
                                          ALLOW))
            d.ack(cseq)
            d.wait_request("UPDATE", timeout=70)
            while time.monotonic() - started < 100:
                if any(c.get("sip_call_id") == d.call_id and c["status"] == "ended"
                       for c in self.calls()):
                    break
                d.next_message(0.5)  # let retransmissions in, unanswered
            results["unanswered.at"] = time.monotonic() - started
            results["unanswered.id"] = d.call_id

        threads = [threading.Thread(target=f, daemon=True)
                   for f in (we_refresh, nobody_refreshes, refresh_unanswered)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

        se = header(results["refresh.200"], "Session-Expires") or ""
        self.assertIn("refresher=uas", se.replace(" ", ""))
        self.assertTrue(se.startswith("90"), se)
        self.assertIn("timer", header(results["refresh.200"], "Require") or "")
        self.assertIn("UPDATE", header(results["refresh.200"], "Allow") or "")
        # Half of 90 s, with sofia's +-5 s of jitter.
        self.assertTrue(38 <= results["refresh.at"] <= 52, results["refresh.at"])
        self.assertEqual(results["refresh.bye"], "SIP/2.0 200 OK")

        se = header(results["expiry.200"], "Session-Expires") or ""
        self.assertIn("refresher=uac", se.replace(" ", ""))
        self.assertLess(results["expiry.at"], 90)
        self.assertEqual(self.end_reason(results["expiry.id"]), "session_timer")

        self.assertLess(results["unanswered.at"], 90)
        self.assertEqual(self.end_reason(results["unanswered.id"]), "session_timer")
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
