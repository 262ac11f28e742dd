"""linphone 5.1 (Debian `linphone-cli`, linphonec) calling Trunkline over UDP and TCP: the interop
matrix of matrix.py, plus DTMF by SIP INFO."""

import unittest

import peers
from matrix import DtmfInfoTests, InteropTestCase, MatrixTests


class TestLinphoneUdp(MatrixTests, DtmfInfoTests, InteropTestCase):
    peer_class = peers.Linphone
    transport = "udp"


class TestLinphoneTcp(MatrixTests, DtmfInfoTests, InteropTestCase):
    peer_class = peers.Linphone
    transport = "tcp"


if __name__ == "__main__":
    unittest.main()
