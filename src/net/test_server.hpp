#pragma once
// A real loopback HTTP/1.1 server for the tests, plain or TLS (a certificate from test_certs.hpp):
// listens on 127.0.0.1 (port 0 unless told), keeps connections alive, records every request
// (with the TLS server name the client sent and which connection carried it), and answers with
// what a test-chosen handler returns: a plain body, or chunked transfer-encoding with a delay
// between chunks (streaming tests).

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/test_certs.hpp"

namespace tl::net::testing {

struct ServedRequest {
    std::string method;
    std::string target;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string server_name;  // TLS SNI the client sent; "" without TLS or without SNI
    int connection = 0;       // which TCP connection carried it (keep-alive checks)

    std::string header(const std::string& name) const {
        for (const auto& [n, v] : headers) {
            if (boost::beast::iequals(n, name)) return v;
        }
        return {};
    }
};

struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body = "{}";
    // Not empty: sent with Transfer-Encoding: chunked instead of `body`, one HTTP chunk each,
    // with `chunk_delay` before every chunk after the first.
    std::vector<std::string> chunks{};
    std::chrono::milliseconds chunk_delay{0};
};

class TestServer {
public:
    using Handler = std::function<Reply(const ServedRequest&)>;

    // Plain HTTP.
    explicit TestServer(Handler handler = {}, unsigned short port = 0)
        : handler_(std::move(handler)), acceptor_(io_) {
        listen(port);
    }

    // HTTPS with `cert`.
    TestServer(const ServerCert& cert, Handler handler, unsigned short port = 0)
        : handler_(std::move(handler)), acceptor_(io_) {
        tls_.emplace(boost::asio::ssl::context::tls_server);
        tls_->use_certificate_chain_file(cert.cert_file);
        tls_->use_private_key_file(cert.key_file, boost::asio::ssl::context::pem);
        listen(port);
    }

    ~TestServer() {
        io_.stop();
        thread_.join();
    }

    unsigned short port() const { return port_; }
    std::string url(const std::string& path = "/", const std::string& host = "127.0.0.1") const {
        return std::string(tls_ ? "https" : "http") + "://" + host + ":" + std::to_string(port_) +
               path;
    }

    std::vector<ServedRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    // TLS handshakes that failed (the client rejected our certificate, or spoke no TLS).
    int failed_handshakes() const {
        std::lock_guard lock(mutex_);
        return failed_handshakes_;
    }

    bool wait_until(const std::function<bool(const std::vector<ServedRequest>&)>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return pred(requests_); });
    }

private:
    static constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    using tcp = boost::asio::ip::tcp;

    void listen(unsigned short port) {
        tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    boost::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            const int connection = ++connections_;
            if (tls_) {
                boost::asio::co_spawn(io_, serve_tls(std::move(socket), connection),
                                      boost::asio::detached);
            } else {
                boost::asio::co_spawn(io_, serve_plain(std::move(socket), connection),
                                      boost::asio::detached);
            }
        }
    }

    boost::asio::awaitable<void> serve_tls(tcp::socket socket, int connection) {
        boost::asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
        auto [ec] = co_await stream.async_handshake(boost::asio::ssl::stream_base::server, kTuple);
        if (ec) {
            std::lock_guard lock(mutex_);
            ++failed_handshakes_;
            co_return;
        }
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        co_await serve_stream(stream, connection, sni ? sni : "");
    }

    boost::asio::awaitable<void> serve_plain(tcp::socket socket, int connection) {
        co_await serve_stream(socket, connection, std::string());
    }

    template <class Stream>
    boost::asio::awaitable<void> serve_stream(Stream& stream, int connection, std::string sni) {
        namespace http = boost::beast::http;
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [rec, n] = co_await http::async_read(stream, buffer, req, kTuple);
            if (rec) co_return;
            ServedRequest r;
            r.method = std::string(req.method_string());
            r.target = std::string(req.target());
            r.body = req.body();
            for (const auto& field : req) {
                r.headers.emplace_back(std::string(field.name_string()),
                                       std::string(field.value()));
            }
            r.server_name = sni;
            r.connection = connection;
            Reply reply;
            {
                std::lock_guard lock(mutex_);
                if (handler_) reply = handler_(r);
                requests_.push_back(r);
            }
            changed_.notify_all();
            if (reply.chunks.empty()) {
                http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
                for (const auto& [name, value] : reply.headers) res.set(name, value);
                res.keep_alive(req.keep_alive());
                res.body() = reply.body;
                res.prepare_payload();
                auto [wec, w] = co_await http::async_write(stream, res, kTuple);
                if (wec) co_return;
            } else if (!co_await write_chunked(stream, reply, req.keep_alive())) {
                co_return;
            }
            if (!req.keep_alive()) co_return;
        }
    }

    template <class Stream>
    boost::asio::awaitable<bool> write_chunked(Stream& stream,
                                               const Reply& reply,
                                               bool keep_alive) {
        namespace http = boost::beast::http;
        http::response<http::empty_body> res{static_cast<http::status>(reply.status), 11};
        for (const auto& [name, value] : reply.headers) res.set(name, value);
        res.keep_alive(keep_alive);
        res.chunked(true);
        http::response_serializer<http::empty_body> serializer(res);
        auto [hec, h] = co_await http::async_write_header(stream, serializer, kTuple);
        if (hec) co_return false;
        boost::asio::steady_timer timer(io_);
        for (std::size_t i = 0; i < reply.chunks.size(); ++i) {
            if (i > 0) {
                timer.expires_after(reply.chunk_delay);
                co_await timer.async_wait(kTuple);
            }
            auto [cec, c] = co_await boost::asio::async_write(
                stream, http::make_chunk(boost::asio::buffer(reply.chunks[i])), kTuple);
            if (cec) co_return false;
        }
        auto [lec, l] = co_await boost::asio::async_write(stream, http::make_chunk_last(), kTuple);
        co_return !lec;
    }

    Handler handler_;
    std::optional<boost::asio::ssl::context> tls_;  // outlives io_ and the streams it holds
    boost::asio::io_context io_;
    tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    int connections_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<ServedRequest> requests_;
    int failed_handshakes_ = 0;
};

}  // namespace tl::net::testing
