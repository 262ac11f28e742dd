// The doctor's connect and TLS probes against real loopback peers: a listening socket, a port
// with nothing on it, a listener whose accept queue is full (its SYNs go unanswered), TLS servers
// with certificates from a throwaway CA (test_certs.hpp), and servers that never speak TLS.

#include "net/connect_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.hpp"
#include "net/test_certs.hpp"
#include "net/test_server.hpp"

namespace tl::net {
namespace {

using namespace std::chrono_literals;
using testing::ServerCert;
using testing::TestCa;
using testing::TestServer;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A TCP listener on 127.0.0.1 (port 0) that never speaks TLS. With `accept_connections`, a
// thread accepts and sends `greeting` (if any), then holds the connection open; without, the
// kernel queues up to `backlog` + 1 connections and drops further SYNs (Linux, a full accept
// queue).
class RawServer {
public:
    RawServer(bool accept_connections, std::string greeting = {}, int backlog = 16)
        : greeting_(std::move(greeting)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, backlog) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot listen on 127.0.0.1");
        }
        port_ = ntohs(addr.sin_port);
        if (accept_connections) thread_ = std::thread([this] { serve(); });
    }
    ~RawServer() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        for (const int fd : accepted_) ::close(fd);
        for (const int fd : fillers_) ::close(fd);
        ::close(fd_);
    }
    RawServer(const RawServer&) = delete;
    RawServer& operator=(const RawServer&) = delete;

    int port() const { return port_; }

    // Non-blocking connections that fill the accept queue of a server that does not accept.
    void fill_accept_queue(int count) {
        for (int i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            ::fcntl(fd, F_SETFL, O_NONBLOCK);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = htons(static_cast<std::uint16_t>(port_));
            ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
            fillers_.push_back(fd);
        }
        std::this_thread::sleep_for(100ms);  // let the handshakes that fit complete
    }

private:
    void serve() {
        while (!stop_) {
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 20) <= 0) continue;
            const int fd = ::accept(fd_, nullptr, nullptr);
            if (fd < 0) continue;
            if (!greeting_.empty()) {
                [[maybe_unused]] auto sent = ::send(fd, greeting_.data(), greeting_.size(), 0);
            }
            accepted_.push_back(fd);
        }
    }

    std::string greeting_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::vector<int> accepted_;  // touched by the thread only, until it is joined
    std::vector<int> fillers_;
};

std::string now_iso8601() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::string text(32, '\0');
    text.resize(std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm));
    return text;
}

// A port on which nothing listens: bound, noted, closed.
int closed_port() {
    RawServer gone(false);
    return gone.port();
}

// ---------------------------------------------------------------------------------------------

TEST(ConnectProbe, AListeningPortConnects) {
    RawServer server(false);
    auto probe = probe_tcp_connect("127.0.0.1", server.port(), 2000ms);
    ASSERT_TRUE(probe) << probe.error().message;
    EXPECT_LT(probe->elapsed, 2000ms);
    EXPECT_EQ(probe->local_ip, "127.0.0.1");
    EXPECT_GT(probe->local_port, 0);
}

TEST(ConnectProbe, AClosedPortIsRefused) {
    const int port = closed_port();
    auto probe = probe_tcp_connect("127.0.0.1", port, 2000ms);
    ASSERT_FALSE(probe);
    EXPECT_EQ(probe.error().code, Errc::kUnavailable);
    EXPECT_EQ(probe.error().message,
              "127.0.0.1:" + std::to_string(port) + ": connection refused (nothing listens there)");
}

TEST(ConnectProbe, UnansweredSynsTimeOutAtTheDeadline) {
    RawServer server(false, {}, 0);
    server.fill_accept_queue(2);
    const auto start = std::chrono::steady_clock::now();
    auto probe = probe_tcp_connect("127.0.0.1", server.port(), 300ms);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(probe);
    EXPECT_EQ(probe.error().code, Errc::kUnavailable);
    EXPECT_EQ(probe.error().message, "connecting to 127.0.0.1:" + std::to_string(server.port()) +
                                         " timed out after 300 ms");
    EXPECT_GE(elapsed, 290ms);
    EXPECT_LT(elapsed, 1300ms);
}

TEST(ConnectProbe, MalformedAddressesAreInvalidRequests) {
    struct Case {
        std::string ip;
        int port;
        std::string field;
    };
    for (const auto& c : std::vector<Case>{{"pbx.example.com", 5060, "ip"},
                                           {"300.1.1.1", 5060, "ip"},
                                           {"", 5060, "ip"},
                                           {"127.0.0.1", 0, "port"},
                                           {"127.0.0.1", 65536, "port"}}) {
        auto probe = probe_tcp_connect(c.ip, c.port, 100ms);
        ASSERT_FALSE(probe) << c.ip;
        EXPECT_EQ(probe.error().code, Errc::kInvalidRequest) << c.ip;
        EXPECT_EQ(probe.error().field, c.field) << c.ip;
    }
    // Brackets are fine: this is a connection attempt (refused, or no route without IPv6).
    auto v6 = probe_tcp_connect("[::1]", closed_port(), 100ms);
    ASSERT_FALSE(v6);
    EXPECT_EQ(v6.error().code, Errc::kUnavailable) << v6.error().message;
}

// ---------------------------------------------------------------------------------------------

// A self-signed certificate for DNS:localhost that expired yesterday: the openssl CLI of
// Debian 12 (3.0) cannot backdate one, so it is made with the library.
ServerCert expired_certificate(const TempDir& dir) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    if (!key || !cert) throw std::runtime_error("openssl: no key or certificate");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -2L * 24 * 3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), -1L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("expired"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    if (san == nullptr) throw std::runtime_error("openssl: subjectAltName");
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("sign");

    ServerCert out{(dir.path() / "expired.pem").string(), (dir.path() / "expired.key").string()};
    std::unique_ptr<FILE, decltype(&std::fclose)> cert_file(std::fopen(out.cert_file.c_str(), "w"),
                                                            &std::fclose);
    std::unique_ptr<FILE, decltype(&std::fclose)> key_file(std::fopen(out.key_file.c_str(), "w"),
                                                           &std::fclose);
    if (!cert_file || !key_file || PEM_write_X509(cert_file.get(), cert.get()) != 1 ||
        PEM_write_PrivateKey(key_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1) {
        throw std::runtime_error("cannot write the expired certificate");
    }
    return out;
}

class TlsProbeTest : public ::testing::Test {
protected:
    // Certificates are made once for the suite: a few openssl runs.
    static void SetUpTestSuite() {
        ca_ = std::make_unique<TestCa>();
        localhost_ = ca_->issue("localhost", "DNS:localhost,IP:127.0.0.1");
        wrong_name_ = ca_->issue("wrong-name", "DNS:wrong.example");
        dir_ = std::make_unique<TempDir>("tl_net_probe");
        expired_ = expired_certificate(*dir_);
    }
    static void TearDownTestSuite() {
        ca_.reset();
        dir_.reset();
    }

    static inline std::unique_ptr<TestCa> ca_;
    static inline std::unique_ptr<TempDir> dir_;
    static inline ServerCert localhost_;
    static inline ServerCert wrong_name_;
    static inline ServerCert expired_;
};

TEST_F(TlsProbeTest, AGoodCertificateVerifiesAgainstItsCa) {
    TestServer server(localhost_, {});
    for (const std::string name : {"localhost", ""}) {  // by host name (SNI), and by IP address
        auto probe = probe_tls_handshake("127.0.0.1", server.port(), name, ca_->ca_file(), 5000ms);
        ASSERT_TRUE(probe) << probe.error().message;
        EXPECT_TRUE(probe->verified) << name << ": " << probe->verify_error;
        EXPECT_TRUE(probe->chain_verified);
        EXPECT_TRUE(probe->name_verified);
        EXPECT_EQ(probe->verify_error, "");
        EXPECT_EQ(probe->version, "TLSv1.3");
        EXPECT_FALSE(probe->cipher.empty());
        EXPECT_EQ(probe->subject_cn, "localhost");
        EXPECT_EQ(probe->issuer_cn, "Trunkline Test CA");
        EXPECT_EQ(probe->subject_alt_names,
                  (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1"}));
        EXPECT_TRUE(
            std::regex_match(probe->not_after, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
            << probe->not_after;
        EXPECT_GT(probe->connect_elapsed.count(), 0);
        EXPECT_GT(probe->handshake_elapsed.count(), 0);
    }
}

TEST_F(TlsProbeTest, AgainstTheSystemStoreATestCertificateDoesNotVerify) {
    TestServer server(localhost_, {});
    auto probe = probe_tls_handshake("127.0.0.1", server.port(), "localhost", "", 5000ms);
    ASSERT_TRUE(probe) << probe.error().message;  // a verdict, not a transport failure
    EXPECT_FALSE(probe->verified);
    EXPECT_FALSE(probe->chain_verified);
    EXPECT_EQ(probe->chain_error, "unable to get local issuer certificate");
    EXPECT_TRUE(probe->name_verified);
    EXPECT_EQ(probe->verify_error, probe->chain_error);
    EXPECT_EQ(probe->subject_cn, "localhost");  // the certificate is still described
}

TEST_F(TlsProbeTest, ACertificateForAnotherNameIsAMismatch) {
    TestServer server(wrong_name_, {});
    auto by_name =
        probe_tls_handshake("127.0.0.1", server.port(), "localhost", ca_->ca_file(), 5000ms);
    ASSERT_TRUE(by_name) << by_name.error().message;
    EXPECT_TRUE(by_name->chain_verified) << by_name->chain_error;
    EXPECT_FALSE(by_name->name_verified);
    EXPECT_EQ(by_name->name_error, "hostname mismatch");
    EXPECT_FALSE(by_name->verified);
    EXPECT_EQ(by_name->verify_error, "hostname mismatch");
    EXPECT_EQ(by_name->subject_alt_names, std::vector<std::string>{"DNS:wrong.example"});

    auto by_ip = probe_tls_handshake("127.0.0.1", server.port(), "", ca_->ca_file(), 5000ms);
    ASSERT_TRUE(by_ip) << by_ip.error().message;
    EXPECT_EQ(by_ip->name_error, "IP address mismatch");
}

TEST_F(TlsProbeTest, AnExpiredCertificateIsReported) {
    TestServer server(expired_, {});
    auto probe =
        probe_tls_handshake("127.0.0.1", server.port(), "localhost", expired_.cert_file, 5000ms);
    ASSERT_TRUE(probe) << probe.error().message;
    EXPECT_FALSE(probe->verified);
    EXPECT_EQ(probe->chain_error, "certificate has expired");
    EXPECT_TRUE(probe->name_verified) << probe->name_error;
    EXPECT_EQ(probe->subject_cn, "expired");
    EXPECT_LT(probe->not_after, now_iso8601());  // same format: the strings sort as times
}

TEST_F(TlsProbeTest, AServerThatNeverSpeaksTlsTimesOutAtTheDeadline) {
    RawServer silent(true);
    // 1.5 s: loading the system CA store counts against it and is slow under valgrind.
    const auto start = std::chrono::steady_clock::now();
    auto probe =
        probe_tls_handshake("127.0.0.1", silent.port(), "localhost", ca_->ca_file(), 1500ms);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(probe);
    EXPECT_EQ(probe.error().code, Errc::kUnavailable);
    EXPECT_EQ(probe.error().message,
              "TLS handshake with 127.0.0.1:" + std::to_string(silent.port()) +
                  " timed out after 1500 ms");
    EXPECT_GE(elapsed, 1490ms);
    EXPECT_LT(elapsed, 2500ms);
}

TEST_F(TlsProbeTest, APlainTextServerFailsTheHandshake) {
    RawServer sip(true, "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    auto probe = probe_tls_handshake("127.0.0.1", sip.port(), "localhost", ca_->ca_file(), 5000ms);
    ASSERT_FALSE(probe);
    EXPECT_EQ(probe.error().code, Errc::kUnavailable);
    EXPECT_TRUE(contains(probe.error().message, "TLS handshake failed")) << probe.error().message;
}

TEST_F(TlsProbeTest, TransportAndSetupFailuresAreErrors) {
    const int port = closed_port();
    auto refused = probe_tls_handshake("127.0.0.1", port, "localhost", ca_->ca_file(), 2000ms);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(contains(refused.error().message, "connection refused")) << refused.error().message;

    const std::string missing = (dir_->path() / "missing.pem").string();
    auto bad_ca = probe_tls_handshake("127.0.0.1", port, "localhost", missing, 2000ms);
    ASSERT_FALSE(bad_ca);
    EXPECT_EQ(bad_ca.error().code, Errc::kInvalidRequest);
    EXPECT_TRUE(contains(bad_ca.error().message, missing)) << bad_ca.error().message;
}

}  // namespace
}  // namespace tl::net
