#pragma once
// The webhook receiver of bench/webhook_bench.cpp: HTTP/1.1 keep-alive on 127.0.0.1, one thread
// (pinned to its own CPU when asked), answers every request 200 "{}" at once and hands the body
// to a callback on that thread. It does no signature check: what is measured is the sender.

#include <pthread.h>
#include <sched.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <string_view>
#include <thread>

namespace tl::bench {

// Pins the calling thread to `cpu`; a negative cpu leaves it alone.
inline void pin_this_thread(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

class LoopbackReceiver {
public:
    using OnRequest = std::function<void(std::string_view body)>;

    LoopbackReceiver(int cpu, OnRequest on_request)
        : on_request_(std::move(on_request)),
          acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this, cpu] {
            pin_this_thread(cpu);
            io_.run();
        });
    }
    ~LoopbackReceiver() {
        io_.stop();
        thread_.join();
    }
    LoopbackReceiver(const LoopbackReceiver&) = delete;
    LoopbackReceiver& operator=(const LoopbackReceiver&) = delete;

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
    static constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

    boost::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
            if (ec) co_return;
            socket.set_option(boost::asio::ip::tcp::no_delay(true));
            boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) {
        namespace http = boost::beast::http;
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = "{}";
        res.prepare_payload();
        for (;;) {
            http::request<http::string_body> req;
            auto [rec, n] = co_await http::async_read(socket, buffer, req, kTuple);
            if (rec) co_return;
            on_request_(req.body());
            res.keep_alive(req.keep_alive());
            auto [wec, w] = co_await http::async_write(socket, res, kTuple);
            if (wec || !req.keep_alive()) co_return;
        }
    }

    OnRequest on_request_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

}  // namespace tl::bench
