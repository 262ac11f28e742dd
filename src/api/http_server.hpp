#pragma once
// HTTP/1.1 server (Boost.Beast) with keep-alive. Each connection lives on its own strand; one
// request is read, handled by the Router and answered before the next is read, so a connection
// never has more than one write in flight. Bodies above kMaxBodyBytes are refused with 413.
//
// Thread-safety: start()/stop() may be called from any thread; stop() is idempotent.

#include "api/router.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace tl::api {

inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

class HttpSession;

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, Router& router);
    ~HttpServer();

    // Binds and starts accepting; returns the bound endpoint (port 0 resolves here).
    Result<boost::asio::ip::tcp::endpoint> start(const boost::asio::ip::tcp::endpoint& endpoint);

    // Stops accepting, closes idle connections and lets in-flight requests finish.
    void stop();

    std::int64_t open_connections() const;

private:
    friend class HttpSession;
    void do_accept();

    boost::asio::io_context& io_;
    Router& router_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;  // after a failed accept (EMFILE)
    mutable std::mutex mutex_;
    std::vector<std::weak_ptr<HttpSession>> sessions_;
    // Handlers that wait on the network for seconds (Router::add_blocking) run here, never on
    // the io threads. Last member: destroyed (stopped and joined) first.
    boost::asio::thread_pool blocking_pool_{2};
    bool stopping_ = false;
};

}  // namespace tl::api
