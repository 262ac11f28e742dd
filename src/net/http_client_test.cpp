// HttpClient over plain HTTP against a real loopback server (test_server.hpp). HTTPS is in
// https_test.cpp.

#include "net/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>

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
using testing::TestServer;

TEST(HttpClient, PostsAndReusesTheConnection) {
    TestServer server([](const ServedRequest& r) { return Reply{.status = 202, .body = r.body}; });
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    for (int i = 0; i < 3; ++i) {
        auto r = send_once(client, io, post_to(server.url("/hook")));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->status, 202);
        EXPECT_EQ(r->body, "{}");
    }
    EXPECT_EQ(client.idle_connections(), 1u);
    auto got = server.requests();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].method, "POST");
    EXPECT_EQ(got[0].target, "/hook");
    EXPECT_EQ(got[0].header("Content-Type"), "application/json");
    EXPECT_EQ(got[0].connection, got[2].connection);
}

TEST(HttpClient, ReconnectsWhenTheKeptConnectionWasClosed) {
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    unsigned short port = 0;
    {
        TestServer server;
        port = server.port();
        ASSERT_TRUE(send_once(client, io, post_to(server.url())));
    }  // the server closed its end of the idle connection
    TestServer again({}, port);
    auto r = send_once(client, io, post_to(again.url()));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(again.requests().size(), 1u);
}

TEST(HttpClient, ClearErrors) {
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    struct Case {
        std::string url;
        HttpErrc code;
    };
    unsigned short closed_port = 0;
    {
        TestServer probe;
        closed_port = probe.port();
    }
    const std::string closed = "127.0.0.1:" + std::to_string(closed_port);
    const std::vector<Case> cases = {
        {"not a url", HttpErrc::kBadUrl},
        {"http://", HttpErrc::kBadUrl},
        {"http://127.0.0.1:99999/x", HttpErrc::kBadUrl},
        {"ftp://127.0.0.1/x", HttpErrc::kUnsupportedScheme},
        {"http://" + closed + "/x", HttpErrc::kConnectionRefused},
        {"https://" + closed + "/x", HttpErrc::kConnectionRefused},
    };
    for (const auto& c : cases) {
        auto r = send_once(client, io, post_to(c.url));
        ASSERT_FALSE(r) << c.url;
        EXPECT_EQ(r.error().code, c.code) << c.url << ": " << r.error().message;
        EXPECT_FALSE(r.error().message.empty());
    }
}

TEST(HttpClient, TimesOutOnASilentServer) {
    // A listening socket that never accepts: the kernel completes the handshake, nobody answers.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    HttpClient client(io.get_executor());
    const auto start = std::chrono::steady_clock::now();
    auto r = send_once(
        client, io,
        post_to("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/x",
                300ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, HttpErrc::kTimeout) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(HttpClient, GetSendsNoBodyAndReturnsStatusAndHeaders) {
    TestServer server([](const ServedRequest&) {
        return Reply{.status = 200,
                     .headers = {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Trace", "t1"}},
                     .body = "hello"};
    });
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    auto r = send_once(client, io, get_from(server.url("/models?limit=2")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(r->content_type(), "text/plain; charset=utf-8");
    EXPECT_EQ(r->header("x-trace"), "t1");
    EXPECT_EQ(r->header("X-Missing"), "");
    auto got = server.requests().at(0);
    EXPECT_EQ(got.method, "GET");
    EXPECT_EQ(got.target, "/models?limit=2");
    EXPECT_EQ(got.header("Content-Length"), "");
    EXPECT_EQ(got.body, "");
}

TEST(HttpClient, StreamsAChunkedBodyPieceByPieceAsItArrives) {
    const std::vector<std::string> events = {"data: one\n\n", "data: two\n\n", "data: three\n\n",
                                             "data: [DONE]\n\n"};
    TestServer server([&](const ServedRequest&) {
        return Reply{.status = 200,
                     .headers = {{"Content-Type", "text/event-stream"}},
                     .chunks = events,
                     .chunk_delay = 80ms};
    });
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> pieces;
    auto r = send_once(client, io, post_to(server.url("/v1/chat/completions"), 5s),
                       [&](std::string_view chunk) {
                           pieces.emplace_back(std::chrono::steady_clock::now(), chunk);
                       });
    const auto done = std::chrono::steady_clock::now();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->content_type(), "text/event-stream");
    EXPECT_EQ(r->body, "");  // it went to the handler
    std::string joined;
    for (const auto& [at, piece] : pieces) joined += piece;
    EXPECT_EQ(joined, events[0] + events[1] + events[2] + events[3]);
    // Handed over as they came: the first event long before the last was even sent.
    ASSERT_GE(pieces.size(), 4u);
    EXPECT_GE(done - pieces.front().first, 200ms);
    EXPECT_EQ(pieces.front().second, events[0]);
    // The connection survives a streamed response.
    EXPECT_EQ(client.idle_connections(), 1u);
}

TEST(HttpClient, StreamsAContentLengthBodyToo) {
    const std::string big(200'000, 'a');  // several pieces
    TestServer server([&](const ServedRequest&) {
        return Reply{.headers = {{"Content-Type", "audio/mpeg"}}, .body = big};
    });
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    std::string received;
    int calls = 0;
    auto request = post_to(server.url("/v1/audio/speech"));
    request.max_body = 1000;  // not applied to a streamed body
    auto r = send_once(client, io, request, [&](std::string_view chunk) {
        received += chunk;
        ++calls;
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->content_type(), "audio/mpeg");
    EXPECT_EQ(received, big);
    EXPECT_GE(calls, 2);
}

TEST(HttpClient, AnAccumulatedBodyIsCapped) {
    TestServer server([](const ServedRequest& r) {
        return Reply{.body = std::string(r.target == "/big" ? 5000 : 1000, 'x')};
    });
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    auto small = post_to(server.url("/small"));
    small.max_body = 1000;
    auto ok = send_once(client, io, small);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->body.size(), 1000u);

    auto big = post_to(server.url("/big"));
    big.max_body = 1000;
    auto r = send_once(client, io, big);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, HttpErrc::kNetwork);
    EXPECT_NE(r.error().message.find("larger than 1000 bytes"), std::string::npos)
        << r.error().message;
}

TEST(HttpClient, CancelAllEndsARequestInFlightAtOnce) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    HttpClient client(io.get_executor());
    boost::asio::steady_timer later(io, 100ms);
    later.async_wait([&](const boost::system::error_code&) { client.cancel_all(); });
    const auto start = std::chrono::steady_clock::now();
    auto r = send_once(
        client, io,
        post_to("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/x", 10s));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, HttpErrc::kCancelled) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(client.idle_connections(), 0u);
}

}  // namespace
}  // namespace tl::net
