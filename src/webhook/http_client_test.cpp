#include "webhook/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "webhook/test_receiver.hpp"

namespace tl::webhook {
namespace {

using namespace std::chrono_literals;

// Runs one post() to completion on a fresh io_context.
HttpResult post_once(HttpClient& client, boost::asio::io_context& io, HttpRequest request) {
    std::optional<HttpResult> out;
    boost::asio::co_spawn(io, client.post(std::move(request)),
                          [&](std::exception_ptr e, HttpResult r) {
                              if (e) std::rethrow_exception(e);
                              out = std::move(r);
                          });
    io.restart();
    io.run();
    return *out;
}

HttpRequest request_to(std::string url, std::chrono::milliseconds timeout = 2s) {
    HttpRequest r;
    r.url = std::move(url);
    r.body = "{}";
    r.headers = {{"Content-Type", "application/json"}};
    r.timeout = timeout;
    return r;
}

TEST(HttpClient, PostsAndReusesTheConnection) {
    testing::TestReceiver rx("");
    rx.respond_with([](const testing::Received&) { return 202; });
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    for (int i = 0; i < 3; ++i) {
        auto r = post_once(client, io, request_to(rx.url()));
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->status, 202);
        EXPECT_EQ(r->body, "{}");
    }
    EXPECT_EQ(client.idle_connections(), 1u);
    auto got = rx.received();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].connection, got[2].connection);
}

TEST(HttpClient, ReconnectsWhenTheKeptConnectionWasClosed) {
    boost::asio::io_context io;
    HttpClient client(io.get_executor());
    unsigned short port = 0;
    {
        testing::TestReceiver rx("");
        port = rx.port();
        ASSERT_TRUE(post_once(client, io, request_to(rx.url())));
    }  // the receiver closed its end of the idle connection
    testing::TestReceiver again("", port);
    auto r = post_once(client, io, request_to(again.url()));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(again.received().size(), 1u);
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
        testing::TestReceiver probe("");
        closed_port = probe.port();
    }
    const std::vector<Case> cases = {
        {"not a url", HttpErrc::kBadUrl},
        {"http://", HttpErrc::kBadUrl},
        {"http://127.0.0.1:99999/x", HttpErrc::kBadUrl},
        {"https://127.0.0.1/x", HttpErrc::kUnsupportedScheme},
        {"ftp://127.0.0.1/x", HttpErrc::kUnsupportedScheme},
        {"http://127.0.0.1:" + std::to_string(closed_port) + "/x", HttpErrc::kConnectionRefused},
    };
    for (const auto& c : cases) {
        auto r = post_once(client, io, request_to(c.url));
        ASSERT_FALSE(r) << c.url;
        EXPECT_EQ(r.error().code, c.code) << c.url << ": " << r.error().message;
    }
}

TEST(HttpClient, TimesOutOnASilentServer) {
    // A listening socket that never accepts: the kernel completes the handshake, nobody answers.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    HttpClient client(io.get_executor());
    const auto start = std::chrono::steady_clock::now();
    auto r = post_once(
        client, io,
        request_to("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/x",
                   300ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, HttpErrc::kTimeout) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace tl::webhook
