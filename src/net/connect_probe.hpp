#pragma once
// The trunk doctor's "connect" and "tls" steps: one TCP connection, or one TLS handshake, to one
// address, bounded by a deadline, and reported in words a person can act on.
//
// Failures of the transport (refused, no route, timed out, the handshake failed) are errors;
// a certificate that does not verify is not: the handshake completes regardless and the result
// says what OpenSSL found wrong, because "your certificate expired" is the answer the doctor is
// there to give.
//
// Thread-safety: each call runs on an io_context of its own; calls on any threads are
// independent. Both block the calling thread for up to `timeout`.

#include <chrono>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace tl::net {

struct ConnectProbe {
    std::chrono::microseconds elapsed{0};  // until the connection was established
    std::string local_ip;                  // the address the kernel chose to reach the peer
    int local_port = 0;
};

struct TlsProbe {
    std::chrono::microseconds connect_elapsed{0};
    std::chrono::microseconds handshake_elapsed{0};
    std::string version;  // "TLSv1.3"
    std::string cipher;   // "TLS_AES_256_GCM_SHA384"

    // The peer's (leaf) certificate. Text from the certificate with control characters
    // replaced by '?'.
    std::string subject_cn;
    std::vector<std::string> subject_alt_names;  // "DNS:sip.example.com", "IP:192.0.2.1", "URI:..."
    std::string issuer_cn;
    std::string not_after;  // ISO 8601, UTC: "2026-01-31T12:00:00Z"

    // The chain up to a trusted CA (dates, signatures, purpose), and the name (`server_name`,
    // or the IP address when no name is given) against the certificate (RFC 6125).
    bool chain_verified = false;
    std::string chain_error;  // OpenSSL's reason, e.g. "certificate has expired"; "" when verified
    bool name_verified = false;
    std::string name_error;    // "hostname mismatch", "IP address mismatch"; "" when verified
    bool verified = false;     // both
    std::string verify_error;  // the chain's reason, else the name's; "" when verified
};

// Errors: kInvalidRequest for an address or port that is not one; kUnavailable with
// "<ip>:<port>: connection refused", "... no route to host (...)", "... timed out after N ms".
Result<ConnectProbe> probe_tcp_connect(const std::string& ip,
                                       int port,
                                       std::chrono::milliseconds timeout);

// Connects and completes a TLS (1.2 or newer) handshake as a client. `server_name` is sent as
// SNI and checked against the certificate; empty: no SNI, and the certificate must name `ip`.
// The chain is checked against the system CA store plus `ca_file` (PEM) when given. `timeout`
// bounds connect and handshake together.
// Errors: as probe_tcp_connect; kInvalidRequest for an unusable `ca_file`; kUnavailable for a
// handshake that fails ("... TLS handshake failed: wrong version number") or times out.
Result<TlsProbe> probe_tls_handshake(const std::string& ip,
                                     int port,
                                     const std::string& server_name,
                                     const std::string& ca_file,
                                     std::chrono::milliseconds timeout);

}  // namespace tl::net
