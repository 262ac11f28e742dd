#pragma once
// A small asynchronous HTTP/1.1 client for webhook deliveries (Boost.Beast, C++20 coroutines):
// POST to an http:// URL with a total deadline per request, keep-alive connections reused per
// host:port, and failures that say what went wrong (bad URL, refused, timeout, ...).
//
// TODO(https): https:// URLs fail with HttpErrc::kUnsupportedScheme. Beast's ssl_stream needs
// libssl-dev plus certificate verification (system CA store, SNI, host name check); not done yet.
//
// Thread-safety: not thread-safe. Every post() must run on the executor given to the
// constructor, which must be a strand (or a single-threaded io_context); the idle connection
// pool is touched only there.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tl::webhook {

enum class HttpErrc {
    kBadUrl,             // not a URL with a host, or an invalid port
    kUnsupportedScheme,  // anything but http:// (https: see the TODO above)
    kResolveFailed,      // the host name did not resolve
    kConnectionRefused,
    kTimeout,  // the request's total deadline passed (resolve, connect, write or read)
    kNetwork,  // any other transport error (reset, protocol error, oversized response)
};

std::string_view to_string(HttpErrc errc);

struct HttpFailure {
    HttpErrc code;
    std::string message;  // names the URL's host:port and what failed; never the body
};

struct HttpRequest {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10'000};  // total, connect included
};

struct HttpResponse {
    int status = 0;
    std::string body;
};

using HttpResult = boost::system::result<HttpResponse, HttpFailure>;

class HttpClient {
public:
    explicit HttpClient(boost::asio::any_io_executor executor, std::size_t max_idle_per_host = 16);

    // POSTs `request`. A reused keep-alive connection that turns out closed by the peer is
    // replaced by a fresh one once (the request may then reach the receiver twice: at-least-once).
    boost::asio::awaitable<HttpResult> post(HttpRequest request);

    // Closes every idle connection (shutdown).
    void close_idle();

    std::size_t idle_connections() const;

private:
    using Stream = boost::beast::tcp_stream;

    boost::asio::any_io_executor executor_;
    std::size_t max_idle_per_host_;
    std::map<std::string, std::vector<std::unique_ptr<Stream>>> idle_;  // key: "host:port"
};

}  // namespace tl::webhook
