#pragma once
// Removes secrets from a SIP message before it is kept in a call's capture, so that a capture
// shown by the API, rendered as pcap or sent to a HEP collector never carries a credential:
// - the digest `response` of Authorization / Proxy-Authorization (RFC 3261 §22.4, RFC 7616
//   §3.4); username, realm, nonce, uri and the rest stay, so a failed authentication can still be
//   debugged. Credentials of any other scheme (Basic, Bearer, ...), and Digest credentials that
//   do not parse, are removed whole: where this parser might disagree with the peer's, it hides
//   everything rather than guess.
// - the key material of SDES `a=crypto:` lines in the body (RFC 4568 §9.1, `inline:` key-salt),
//   which would let anyone holding the capture decrypt the call's SRTP.
// Every other byte is kept as it was, line endings included.
//
// The input is untrusted (anything a peer sent): never throws, never reads out of bounds.
// Pure function: thread-safe.

#include <string>
#include <string_view>

namespace tl::sip {

// What a redacted value is replaced with.
inline constexpr std::string_view kRedacted = "[redacted]";

std::string redact_sip_message(std::string_view raw);

}  // namespace tl::sip
