"""What a caller hears: the assistant's first_message, as real audio over RTP, checked for speech
energy, RTP framing and by transcription."""

import audioop
import unittest

from sip_harness import DID, GREETING, SipServerTestCase, Uac, transcribe


class TestGreetingAudio(SipServerTestCase):

    def test_caller_hears_the_first_message(self):
        uac = Uac(self.server.sip_host, self.server.sip_port)
        try:
            self.assertEqual(uac.call(seconds=6), 200)
        finally:
            uac.close()
        packets = [p for p in uac.packets if p[1] == 0]
        # 20 ms pacing from answer to hang-up: about 50 packets a second, never a gap.
        self.assertGreater(len(packets), 200, "RTP must flow continuously")
        self.assertEqual(len({p[4] for p in packets}), 1, "one SSRC")
        seqs = [p[2] for p in packets]
        self.assertEqual(seqs, sorted(seqs), "in order on loopback")
        for a, b in zip(packets, packets[1:]):
            self.assertEqual((b[3] - a[3]) % (1 << 32), 160 * ((b[2] - a[2]) % (1 << 16)))
        pcm = uac.pcm()
        self.assertGreater(audioop.rms(pcm, 2), 300, "speech energy expected, not silence")
        heard = transcribe(pcm, GREETING.lower().replace(",", "").replace("?", "").split()
                           + ["sales", "billing", "goodbye", "transfer", "thanks"])
        print(f"transcript: {heard!r}", flush=True)
        distinctive = {"welcome", "support", "help"}
        self.assertTrue(distinctive & set(heard.split()),
                        f"transcript {heard!r} has none of {sorted(distinctive)}")
        self.assertGaugesReturnToZero()


if __name__ == "__main__":
    unittest.main()
