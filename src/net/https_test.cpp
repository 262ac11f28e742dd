// HttpClient over TLS against a real loopback HTTPS server whose certificates are made at test
// time by a throwaway CA (test_certs.hpp, the openssl CLI).

#include <gtest/gtest.h>

#include <memory>

#include "net/http_client.hpp"
#include "net/test_send.hpp"
#include "net/test_server.hpp"

namespace tl::net {
namespace {

using namespace std::chrono_literals;
using testing::get_from;
using testing::post_to;
using testing::Reply;
using testing::send_once;
using testing::ServedRequest;
using testing::ServerCert;
using testing::TestCa;
using testing::TestServer;

class HttpsTest : public ::testing::Test {
protected:
    // Certificates are made once for the suite: a few openssl runs.
    static void SetUpTestSuite() {
        ca_ = std::make_unique<TestCa>();
        other_ca_ = std::make_unique<TestCa>("Some Other CA");
        localhost_ = ca_->issue("localhost", "DNS:localhost,IP:127.0.0.1");
        dns_only_ = ca_->issue("dns-only", "DNS:localhost");
        wrong_name_ = ca_->issue("wrong-name", "DNS:wrong.example");
    }
    static void TearDownTestSuite() {
        ca_.reset();
        other_ca_.reset();
    }

    static TlsClientContext trusting(const TestCa& ca) {
        auto tls = TlsClientContext::create(ca.ca_file());
        EXPECT_TRUE(tls) << tls.error().message;
        return *tls;
    }

    static HttpResult post(const std::string& url, const TestCa& trusted) {
        boost::asio::io_context io;
        HttpClient client(io.get_executor(), trusting(trusted));
        return send_once(client, io, post_to(url));
    }

    static inline std::unique_ptr<TestCa> ca_;
    static inline std::unique_ptr<TestCa> other_ca_;
    static inline ServerCert localhost_;
    static inline ServerCert dns_only_;
    static inline ServerCert wrong_name_;
};

TEST_F(HttpsTest, AValidCertificateIsAcceptedWithSniForDnsNames) {
    TestServer server(localhost_, [](const ServedRequest& r) { return Reply{.body = r.body}; });
    auto by_name = post(server.url("/hook", "localhost"), *ca_);
    ASSERT_TRUE(by_name) << by_name.error().message;
    EXPECT_EQ(by_name->status, 200);
    EXPECT_EQ(by_name->body, "{}");
    auto by_ip = post(server.url("/hook", "127.0.0.1"), *ca_);
    ASSERT_TRUE(by_ip) << by_ip.error().message;

    auto got = server.requests();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].server_name, "localhost");
    EXPECT_EQ(got[1].server_name, "");  // RFC 6066 §3: no SNI for an IP literal
    EXPECT_EQ(got[0].header("Host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(HttpsTest, ACertificateFromAnUntrustedCaIsATlsFailure) {
    TestServer server(localhost_, {});
    const std::string url = server.url("/hook", "localhost");
    for (auto* trusted : {other_ca_.get(), static_cast<TestCa*>(nullptr)}) {
        HttpResult r = trusted ? post(url, *trusted) : [&] {
            boost::asio::io_context io;
            HttpClient client(io.get_executor());  // the system CA store only
            return send_once(client, io, post_to(url));
        }();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, HttpErrc::kTls) << r.error().message;
        EXPECT_NE(r.error().message.find("localhost:" + std::to_string(server.port())),
                  std::string::npos)
            << r.error().message;
        EXPECT_NE(r.error().message.find("certificate"), std::string::npos) << r.error().message;
    }
    EXPECT_TRUE(server.requests().empty());  // nothing was sent to an unverified server
}

TEST_F(HttpsTest, AWrongHostNameIsATlsFailure) {
    {
        TestServer server(wrong_name_, {});
        auto r = post(server.url("/hook", "localhost"), *ca_);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, HttpErrc::kTls);
        EXPECT_NE(r.error().message.find("hostname mismatch"), std::string::npos)
            << r.error().message;
        EXPECT_TRUE(server.requests().empty());
    }
    {
        // Trusted, and right for "localhost", but the URL names 127.0.0.1, which it does not list.
        TestServer server(dns_only_, {});
        auto r = post(server.url("/hook", "127.0.0.1"), *ca_);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, HttpErrc::kTls);
        EXPECT_NE(r.error().message.find("IP address mismatch"), std::string::npos)
            << r.error().message;
    }
}

TEST_F(HttpsTest, AServerThatSpeaksNoTlsIsATlsFailure) {
    TestServer plain;
    auto r = post("https://127.0.0.1:" + std::to_string(plain.port()) + "/", *ca_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, HttpErrc::kTls) << r.error().message;
}

TEST_F(HttpsTest, KeepAliveReusesTheTlsConnection) {
    TestServer server(localhost_, {});
    boost::asio::io_context io;
    HttpClient client(io.get_executor(), trusting(*ca_));
    for (int i = 0; i < 3; ++i) {
        auto r = send_once(client, io, post_to(server.url("/hook", "localhost")));
        ASSERT_TRUE(r) << r.error().message;
    }
    EXPECT_EQ(client.idle_connections(), 1u);
    auto got = server.requests();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].connection, got[1].connection);
    EXPECT_EQ(got[0].connection, got[2].connection);
}

TEST_F(HttpsTest, ReconnectsWhenTheKeptTlsConnectionWasClosed) {
    boost::asio::io_context io;
    HttpClient client(io.get_executor(), trusting(*ca_));
    unsigned short port = 0;
    {
        TestServer server(localhost_, {});
        port = server.port();
        ASSERT_TRUE(send_once(client, io, post_to(server.url("/", "localhost"))));
        ASSERT_EQ(client.idle_connections(), 1u);
    }  // closed without close_notify: the kept connection is now a truncated stream
    TestServer again(localhost_, {}, port);
    auto r = send_once(client, io, post_to(again.url("/", "localhost")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(again.requests().size(), 1u);
}

TEST_F(HttpsTest, GetAndAStreamedChunkedBodyOverTls) {
    const std::vector<std::string> events = {"data: {\"delta\":\"Hel\"}\n\n",
                                             "data: {\"delta\":\"lo\"}\n\n", "data: [DONE]\n\n"};
    TestServer server(localhost_, [&](const ServedRequest& r) {
        if (r.method == "GET")
            return Reply{.headers = {{"Content-Type", "application/json"}},
                         .body = R"({"data":[]})"};
        return Reply{.headers = {{"Content-Type", "text/event-stream"}},
                     .chunks = events,
                     .chunk_delay = 100ms};
    });
    boost::asio::io_context io;
    HttpClient client(io.get_executor(), trusting(*ca_));

    auto got = send_once(client, io, get_from(server.url("/v1/models", "localhost")));
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->body, R"({"data":[]})");
    EXPECT_EQ(got->content_type(), "application/json");

    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> pieces;
    auto streamed =
        send_once(client, io, post_to(server.url("/v1/chat/completions", "localhost"), 5s),
                  [&](std::string_view chunk) {
                      pieces.emplace_back(std::chrono::steady_clock::now(), chunk);
                  });
    const auto done = std::chrono::steady_clock::now();
    ASSERT_TRUE(streamed) << streamed.error().message;
    EXPECT_EQ(streamed->content_type(), "text/event-stream");
    EXPECT_EQ(streamed->body, "");
    ASSERT_GE(pieces.size(), 3u);
    EXPECT_EQ(pieces.front().second, events[0]);
    EXPECT_GE(done - pieces.front().first, 150ms);
    std::string joined;
    for (const auto& [at, piece] : pieces) joined += piece;
    EXPECT_EQ(joined, events[0] + events[1] + events[2]);

    // Both went over the one kept TLS connection.
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].connection, requests[1].connection);
}

}  // namespace
}  // namespace tl::net
