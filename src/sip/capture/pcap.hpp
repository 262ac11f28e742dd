#pragma once
// A call's SIP capture as a classic libpcap file that Wireshark and tshark open: microsecond
// timestamps (magic 0xa1b2c3d4, version 2.4), LINKTYPE_ETHERNET with fixed locally administered
// MACs (02:00:00:00:00:01 is us, 02:00:00:00:00:02 the peer), one frame per message, oldest
// first, with the message's real addresses and ports over IPv4 or IPv6.
//
// The frames are synthesised from the captured text: UDP datagrams for "udp"; for "tcp" and
// "tls", TCP segments with ACK+PSH whose sequence numbers advance per flow by the payload length
// (no handshake: Wireshark decodes such a mid-stream capture). TLS is written decrypted, as the
// capture holds it; on port 5061 tell Wireshark it is SIP (`-d tcp.port==5061,sip`), since it
// expects TLS there. IPv4 header, UDP and TCP checksums are all computed. A message longer than
// one IP packet holds (65,535 bytes) is split into several TCP segments; over UDP, where it
// could never have been sent, it is cut to what one datagram holds.
//
// Pure function: thread-safe.

#include <cstdint>
#include <string>

#include "sip/capture/capture_snapshot.hpp"

namespace tl::sip {

inline constexpr std::uint32_t kPcapSnapLength = 262144;
inline constexpr std::uint32_t kLinkTypeEthernet = 1;

std::string write_pcap(const CaptureSnapshot& snapshot);

}  // namespace tl::sip
