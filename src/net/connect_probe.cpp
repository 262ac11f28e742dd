#include "net/connect_probe.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <ctime>
#include <memory>
#include <optional>

#include "net/tls_client_context.hpp"

namespace tl::net {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// "192.0.2.1:5061", "[2001:db8::1]:5061" (RFC 3986 §3.2.2).
std::string endpoint_text(const tcp::endpoint& ep) {
    const std::string ip = ep.address().to_string();
    return ep.address().is_v6() ? fmt::format("[{}]:{}", ip, ep.port())
                                : fmt::format("{}:{}", ip, ep.port());
}

std::string strip_brackets(const std::string& ip) {
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') return ip.substr(1, ip.size() - 2);
    return ip;
}

Result<tcp::endpoint> parse_endpoint(const std::string& ip, int port) {
    error_code ec;
    const auto address = asio::ip::make_address(strip_brackets(ip), ec);
    if (ec) return make_error(Errc::kInvalidRequest, "'" + ip + "' is not an IP address", "ip");
    if (port < 1 || port > 65535) {
        return make_error(Errc::kInvalidRequest,
                          "port " + std::to_string(port) + " is not between 1 and 65535", "port");
    }
    return tcp::endpoint(address, static_cast<unsigned short>(port));
}

// Runs `io` until `done` is set by the operation's handler or `deadline` passes. On the
// deadline, closing `socket` makes the pending operation complete with operation_aborted, and
// running `io` dry then lets its handler (and the buffers it holds) go before we return: no
// handler outlives the caller's frame. False on the deadline.
bool run_until(asio::io_context& io,
               const bool& done,
               Clock::time_point deadline,
               tcp::socket& socket) {
    io.restart();
    while (!done && io.run_one_until(deadline) != 0) {
    }
    if (done) return true;
    error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run();
    return false;
}

Error timed_out(const std::string& what, const tcp::endpoint& ep, milliseconds timeout) {
    return make_error(Errc::kUnavailable, fmt::format("{} {} timed out after {} ms", what,
                                                      endpoint_text(ep), timeout.count()));
}

Error connect_failure(const error_code& ec, const tcp::endpoint& ep) {
    const std::string where = endpoint_text(ep);
    if (ec == asio::error::connection_refused) {
        return make_error(Errc::kUnavailable,
                          where + ": connection refused (nothing listens there)");
    }
    if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable) {
        return make_error(Errc::kUnavailable, where + ": no route to host (" + ec.message() + ")");
    }
    if (ec == asio::error::timed_out) {  // the kernel gave up on its SYN retries first
        return make_error(Errc::kUnavailable, where + ": connecting timed out (no answer)");
    }
    return make_error(Errc::kUnavailable, where + ": cannot connect: " + ec.message());
}

// One connection attempt on `socket`, bounded by `deadline`.
std::optional<Error> connect_until(asio::io_context& io,
                                   tcp::socket& socket,
                                   const tcp::endpoint& ep,
                                   Clock::time_point deadline,
                                   milliseconds timeout) {
    bool done = false;
    error_code result;
    socket.async_connect(ep, [&](const error_code& ec) {
        result = ec;
        done = true;
    });
    if (!run_until(io, done, deadline, socket)) return timed_out("connecting to", ep, timeout);
    if (result) return connect_failure(result, ep);
    return std::nullopt;
}

// Text from a certificate (attacker-controlled) made safe for a log line or an API response.
std::string printable(const unsigned char* data, int length) {
    std::string out;
    if (data == nullptr || length <= 0) return out;
    out.assign(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return out;
}

// The first common name of `name`, as UTF-8.
std::string common_name(const X509_NAME* name) {
    if (name == nullptr) return {};
    const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (index < 0) return {};
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, value);
    if (length < 0) return {};
    std::string out = printable(utf8, length);
    OPENSSL_free(utf8);
    return out;
}

// RFC 5280 §4.2.1.6, in OpenSSL's "DNS:", "IP:", "URI:" notation (RFC 5922 §7.1: SIP domain
// certificates may name the domain as a URI).
std::vector<std::string> subject_alt_names(X509* cert) {
    std::vector<std::string> out;
    auto* raw =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (raw == nullptr) return out;
    std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)> names(raw, &GENERAL_NAMES_free);
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        switch (name->type) {
            case GEN_DNS:
                out.push_back("DNS:" + printable(ASN1_STRING_get0_data(name->d.dNSName),
                                                 ASN1_STRING_length(name->d.dNSName)));
                break;
            case GEN_URI:
                out.push_back("URI:" +
                              printable(ASN1_STRING_get0_data(name->d.uniformResourceIdentifier),
                                        ASN1_STRING_length(name->d.uniformResourceIdentifier)));
                break;
            case GEN_EMAIL:
                out.push_back("email:" + printable(ASN1_STRING_get0_data(name->d.rfc822Name),
                                                   ASN1_STRING_length(name->d.rfc822Name)));
                break;
            case GEN_IPADD: {
                const int length = ASN1_STRING_length(name->d.iPAddress);
                const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
                std::string text(INET6_ADDRSTRLEN, '\0');
                if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(name->d.iPAddress),
                                             text.data(), static_cast<socklen_t>(text.size()))) {
                    text.resize(std::char_traits<char>::length(text.c_str()));
                    out.push_back("IP:" + text);
                }
                break;
            }
            default:
                break;
        }
    }
    return out;
}

// ISO 8601 in UTC (RFC 3339 §5.6), from the certificate's UTCTime or GeneralizedTime.
std::string iso8601(const ASN1_TIME* time) {
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool is_name_error(int error) {
    return error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH ||
           error == X509_V_ERR_EMAIL_MISMATCH;
}

Error handshake_failure(const error_code& ec, const tcp::endpoint& ep) {
    const std::string where = endpoint_text(ep);
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated ||
        ec == asio::error::connection_reset) {
        return make_error(Errc::kUnavailable,
                          where + ": the server closed the connection during the TLS handshake");
    }
    return make_error(Errc::kUnavailable, where + ": TLS handshake failed: " + ec.message());
}

}  // namespace

Result<ConnectProbe> probe_tcp_connect(const std::string& ip, int port, milliseconds timeout) {
    auto ep = parse_endpoint(ip, port);
    if (!ep) return ep.error();
    const auto start = Clock::now();
    asio::io_context io;
    tcp::socket socket(io);
    if (auto failed = connect_until(io, socket, *ep, start + timeout, timeout)) return *failed;
    ConnectProbe probe;
    probe.elapsed = duration_cast<microseconds>(Clock::now() - start);
    error_code ec;
    if (const auto local = socket.local_endpoint(ec); !ec) {
        probe.local_ip = local.address().to_string();
        probe.local_port = local.port();
    }
    return probe;
}

Result<TlsProbe> probe_tls_handshake(const std::string& ip,
                                     int port,
                                     const std::string& server_name,
                                     const std::string& ca_file,
                                     milliseconds timeout) {
    // Loading the CA store (thousands of certificates) counts against the deadline too.
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    auto ep = parse_endpoint(ip, port);
    if (!ep) return ep.error();
    auto tls = TlsClientContext::create(ca_file);
    if (!tls) return tls.error();

    // Every certificate problem OpenSSL finds, as (error, depth): the callback lets the
    // handshake go on after each, so the probe sees them all (an expired certificate for the
    // wrong name is both). Declared before the stream, whose callback refers to it.
    std::vector<std::pair<int, int>> problems;

    asio::io_context io;
    ssl::stream<tcp::socket> stream(io, tls->native());
    SSL* ssl = stream.native_handle();

    // Whom the certificate must name: `server_name`, or the address itself.
    const std::string name = strip_brackets(server_name);
    error_code not_ip;
    asio::ip::make_address(name, not_ip);
    const bool name_is_ip = !name.empty() && !not_ip;
    error_code ignored;
    // RFC 6066 §3: SNI carries host names only, never an IP address.
    if (!name.empty() && !name_is_ip) {
        if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1 ||
            SSL_set1_host(ssl, name.c_str()) != 1) {
            return make_error(Errc::kInvalidRequest, "'" + server_name + "' is not a host name",
                              "server_name");
        }
    } else {
        const std::string expected_ip = name.empty() ? ep->address().to_string() : name;
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), expected_ip.c_str()) != 1) {
            return make_error(Errc::kInvalidRequest, "'" + expected_ip + "' is not an IP address",
                              "server_name");
        }
    }
    stream.set_verify_mode(ssl::verify_peer, ignored);
    stream.set_verify_callback(
        [&problems](bool preverified, ssl::verify_context& ctx) {
            if (!preverified) {
                X509_STORE_CTX* store = ctx.native_handle();
                const std::pair<int, int> problem{X509_STORE_CTX_get_error(store),
                                                  X509_STORE_CTX_get_error_depth(store)};
                if (std::find(problems.begin(), problems.end(), problem) == problems.end()) {
                    problems.push_back(problem);
                }
            }
            return true;  // report, do not reject: the result carries the verdict
        },
        ignored);

    const auto connecting = Clock::now();
    if (auto failed = connect_until(io, stream.next_layer(), *ep, deadline, timeout)) {
        return *failed;
    }
    const auto connected = Clock::now();

    bool done = false;
    error_code result;
    stream.async_handshake(ssl::stream_base::client, [&](const error_code& ec) {
        result = ec;
        done = true;
    });
    if (!run_until(io, done, deadline, stream.next_layer())) {
        return timed_out("TLS handshake with", *ep, timeout);
    }
    if (result) return handshake_failure(result, *ep);

    TlsProbe probe;
    probe.connect_elapsed = duration_cast<microseconds>(connected - connecting);
    probe.handshake_elapsed = duration_cast<microseconds>(Clock::now() - connected);
    probe.version = SSL_get_version(ssl);
    probe.cipher = SSL_get_cipher_name(ssl);

    std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
    if (!cert) {
        probe.chain_error = "the server sent no certificate";
        probe.name_error = probe.chain_error;
    } else {
        probe.subject_cn = common_name(X509_get_subject_name(cert.get()));
        probe.issuer_cn = common_name(X509_get_issuer_name(cert.get()));
        probe.subject_alt_names = subject_alt_names(cert.get());
        probe.not_after = iso8601(X509_get0_notAfter(cert.get()));
        for (const auto& [error, depth] : problems) {
            std::string& reason = is_name_error(error) ? probe.name_error : probe.chain_error;
            if (reason.empty()) reason = X509_verify_cert_error_string(error);
        }
        // Belt and braces: a verdict the callback did not see still counts.
        if (const long verdict = SSL_get_verify_result(ssl);
            verdict != X509_V_OK && probe.chain_error.empty() && probe.name_error.empty()) {
            (is_name_error(static_cast<int>(verdict)) ? probe.name_error : probe.chain_error) =
                X509_verify_cert_error_string(verdict);
        }
    }
    probe.chain_verified = probe.chain_error.empty();
    probe.name_verified = probe.name_error.empty();
    probe.verified = probe.chain_verified && probe.name_verified;
    probe.verify_error = !probe.chain_error.empty() ? probe.chain_error : probe.name_error;

    // No close_notify round trip: the probe is done, and a peer that never answers one must not
    // hold us past the deadline. Closing the socket is enough.
    stream.next_layer().close(ignored);
    return probe;
}

}  // namespace tl::net
