"""baresip 1.0 (Debian `baresip`) calling Trunkline over UDP and TCP: the interop matrix of
matrix.py. baresip sends DTMF by RFC 4733 only, so the SIP INFO case is linphone's."""

import unittest

import peers
from matrix import InteropTestCase, MatrixTests


class TestBaresipUdp(MatrixTests, InteropTestCase):
    peer_class = peers.Baresip
    transport = "udp"


class TestBaresipTcp(MatrixTests, InteropTestCase):
    peer_class = peers.Baresip
    transport = "tcp"


if __name__ == "__main__":
    unittest.main()
