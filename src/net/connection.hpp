#pragma once
// One client connection of HttpClient: plain TCP or TLS over TCP, behind one type so that the
// keep-alive pool and the request code treat both alike. Internal to tl_net.

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

namespace tl::net::detail {

class Connection {
public:
    explicit Connection(const boost::asio::any_io_executor& executor) { plain_.emplace(executor); }
    Connection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context& tls) {
        tls_.emplace(executor, tls);
    }

    bool is_tls() const { return tls_.has_value(); }

    // The TCP layer: connect, deadline (expires_at applies to TLS records too), cancel, close.
    boost::beast::tcp_stream& tcp() {
        return tls_ ? boost::beast::get_lowest_layer(*tls_) : *plain_;
    }

    boost::beast::ssl_stream<boost::beast::tcp_stream>& tls() { return *tls_; }

    // Calls `f` with the stream HTTP is read from and written to.
    template <class F>
    decltype(auto) visit(F&& f) {
        if (tls_) return f(*tls_);
        return f(*plain_);
    }

    // Closes without a TLS close_notify alert: sending one is an asynchronous exchange at every
    // pool eviction and at shutdown, and only idle connections or failed exchanges are closed
    // here, so no message is cut short by it.
    void close() {
        boost::system::error_code ignored;
        tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

private:
    std::optional<boost::beast::tcp_stream> plain_;
    std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
};

}  // namespace tl::net::detail
