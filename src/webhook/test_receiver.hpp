#pragma once
// A real local HTTP/1.1 webhook receiver for the tests: listens on 127.0.0.1 (port 0 unless
// told), keeps connections alive, checks the signature of every request with the documented
// scheme (api-contract.md §5.2, computed here independently of webhook::sign), records each
// request, and answers with the status a test-chosen responder returns.

#include <sodium.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tl::webhook::testing {

struct Received {
    std::string target;
    std::string event;
    std::string timestamp;
    std::string signature;
    std::string user_agent;
    std::string content_type;
    std::string body;
    std::string delivery_tag;  // message.tag from the body, when the test put one there
    bool signature_ok = false;
    int connection = 0;  // which TCP connection carried it (keep-alive checks)
    int status = 0;      // what the receiver answered
};

inline std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                  data.size());
    std::array<unsigned char, 32> mac{};
    crypto_auth_hmacsha256_final(&st, mac.data());
    std::array<char, 65> hex{};
    sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
    return std::string(hex.data(), 64);
}

class TestReceiver {
public:
    using Responder = std::function<int(const Received&)>;

    // `secret` empty: requests must carry no signature.
    explicit TestReceiver(std::string secret, unsigned short port = 0)
        : secret_(std::move(secret)), acceptor_(io_) {
        namespace ip = boost::asio::ip;
        ip::tcp::endpoint ep(ip::make_address("127.0.0.1"), port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~TestReceiver() {
        io_.stop();
        thread_.join();
    }

    unsigned short port() const { return port_; }
    std::string url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    void respond_with(Responder r) {
        std::lock_guard lock(mutex_);
        responder_ = std::move(r);
    }

    std::vector<Received> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

    // Waits until `pred(received)` holds, up to `timeout`.
    bool wait_until(const std::function<bool(const std::vector<Received>&)>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return pred(received_); });
    }

private:
    boost::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] =
                co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
            boost::asio::co_spawn(io_, serve(std::move(socket), ++connections_),
                                  boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket, int connection) {
        namespace http = boost::beast::http;
        constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [rec, n] = co_await http::async_read(socket, buffer, req, kTuple);
            if (rec) co_return;
            Received r;
            r.target = std::string(req.target());
            r.event = std::string(req["X-Webhook-Event"]);
            r.timestamp = std::string(req["X-Webhook-Timestamp"]);
            r.signature = std::string(req["X-Webhook-Signature"]);
            r.user_agent = std::string(req[http::field::user_agent]);
            r.content_type = std::string(req[http::field::content_type]);
            r.body = req.body();
            r.connection = connection;
            boost::system::error_code jec;
            auto doc = boost::json::parse(r.body, jec);
            if (!jec && doc.is_object() && doc.as_object().contains("message")) {
                const auto& m = doc.at("message");
                if (m.is_object() && m.as_object().contains("tag")) {
                    r.delivery_tag = std::string(m.at("tag").as_string());
                }
            }
            r.signature_ok =
                secret_.empty()
                    ? r.signature.empty()
                    : r.signature ==
                          "sha256=" + hmac_sha256_hex(secret_, r.timestamp + "." + r.body);
            int status = 200;
            {
                std::lock_guard lock(mutex_);
                if (responder_) status = responder_(r);
                r.status = status;
                received_.push_back(r);
            }
            changed_.notify_all();
            http::response<http::string_body> res{static_cast<http::status>(status), 11};
            res.keep_alive(req.keep_alive());
            res.body() = "{}";
            res.prepare_payload();
            auto [wec, w] = co_await http::async_write(socket, res, kTuple);
            if (wec || !req.keep_alive()) co_return;
        }
    }

    std::string secret_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    int connections_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    Responder responder_;
    std::vector<Received> received_;
};

}  // namespace tl::webhook::testing
