#pragma once
// Tests only: a loopback HTTP/1.1 server that speaks like an OpenAI-compatible API at the byte
// level. Each reply is scripted by the test: status, headers, a body sent whole or as chunked
// transfer-encoding with each piece written separately (TCP_NODELAY, a pause between pieces,
// so the client really receives them apart), a delay before anything is sent, or a connection
// closed without an answer. It records every request and counts writes that failed because the
// client went away (a cancelled stream).

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tl::voice::testing {

struct FakeRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int connection = 0;  // which TCP connection carried it

    std::string header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (boost::beast::iequals(n, name)) return v;
        }
        return {};
    }
};

struct FakeReply {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};                 // sent with Content-Length when `chunks` is empty
    std::vector<std::string> chunks{};  // else: one HTTP chunk each, written one by one
    std::chrono::milliseconds delay_before_head{0};
    std::chrono::milliseconds chunk_delay{5};
    bool close_without_reply = false;
};

class FakeOpenAiServer {
public:
    using Handler = std::function<FakeReply(const FakeRequest&)>;

    explicit FakeOpenAiServer(Handler handler) : handler_(std::move(handler)), acceptor_(io_) {
        namespace ip = boost::asio::ip;
        ip::tcp::endpoint ep(ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~FakeOpenAiServer() {
        io_.stop();
        thread_.join();
    }

    unsigned short port() const { return port_; }
    std::string base_url() const { return fmt::format("http://127.0.0.1:{}/v1", port_); }

    std::vector<FakeRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    int aborted_writes() const { return aborted_writes_.load(); }
    int connections() const { return connections_.load(); }

private:
    using Tcp = boost::asio::ip::tcp;
    static constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

    boost::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            socket.set_option(Tcp::no_delay(true));
            boost::asio::co_spawn(io_, serve(std::move(socket), ++connections_),
                                  boost::asio::detached);
        }
    }

    static std::string reason(int status) {
        switch (status) {
            case 200:
                return "OK";
            case 400:
                return "Bad Request";
            case 401:
                return "Unauthorized";
            case 429:
                return "Too Many Requests";
            case 500:
                return "Internal Server Error";
            case 503:
                return "Service Unavailable";
            default:
                return "Status";
        }
    }

    boost::asio::awaitable<void> pause(std::chrono::milliseconds d) {
        if (d.count() == 0) co_return;
        boost::asio::steady_timer t(io_, d);
        co_await t.async_wait(kTuple);
    }

    boost::asio::awaitable<void> serve(Tcp::socket socket, int connection) {
        namespace http = boost::beast::http;
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64 << 20);
            auto [rec, n] = co_await http::async_read(socket, buffer, parser, kTuple);
            if (rec) co_return;
            const auto& req = parser.get();
            FakeRequest r;
            r.method = std::string(req.method_string());
            r.target = std::string(req.target());
            for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
            r.body = req.body();
            r.connection = connection;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(r);
            }
            const FakeReply reply = handler_(r);
            if (reply.close_without_reply) co_return;
            co_await pause(reply.delay_before_head);
            std::string head =
                fmt::format("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
            if (!reply.content_type.empty()) head += "Content-Type: " + reply.content_type + "\r\n";
            for (const auto& [k, v] : reply.headers) head += k + ": " + v + "\r\n";
            if (reply.chunks.empty()) {
                // A named buffer, not a temporary inside the co_await expression (GCC 12
                // mishandles the lifetime of such temporaries across the suspension).
                const std::string message =
                    head + fmt::format("Content-Length: {}\r\n\r\n", reply.body.size()) +
                    reply.body;
                auto [wec, w] =
                    co_await boost::asio::async_write(socket, boost::asio::buffer(message), kTuple);
                if (wec) {
                    ++aborted_writes_;
                    co_return;
                }
                continue;
            }
            head += "Transfer-Encoding: chunked\r\n\r\n";
            auto [hec, hw] =
                co_await boost::asio::async_write(socket, boost::asio::buffer(head), kTuple);
            if (hec) {
                ++aborted_writes_;
                co_return;
            }
            for (std::size_t i = 0; i < reply.chunks.size(); ++i) {
                if (i > 0) co_await pause(reply.chunk_delay);
                const auto& c = reply.chunks[i];
                if (c.empty()) continue;  // an empty chunk would end the body
                auto frame = fmt::format("{:x}\r\n", c.size()) + c + "\r\n";
                auto [wec, w] =
                    co_await boost::asio::async_write(socket, boost::asio::buffer(frame), kTuple);
                if (wec) {
                    ++aborted_writes_;
                    co_return;
                }
            }
            static constexpr std::string_view kLastChunk = "0\r\n\r\n";
            auto [fec, fw] =
                co_await boost::asio::async_write(socket, boost::asio::buffer(kLastChunk), kTuple);
            if (fec) {
                ++aborted_writes_;
                co_return;
            }
        }
    }

    Handler handler_;
    boost::asio::io_context io_;
    Tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<FakeRequest> requests_;
    std::atomic<int> aborted_writes_{0};
    std::atomic<int> connections_{0};
};

}  // namespace tl::voice::testing
