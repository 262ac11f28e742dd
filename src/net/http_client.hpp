#pragma once
// An asynchronous HTTP/1.1 client (Boost.Beast, C++20 coroutines) for http:// and https:// URLs:
// GET or POST with a total deadline per request, keep-alive connections reused per
// scheme://host:port, the response body either accumulated (capped) or handed over piece by piece
// as it arrives (server-sent events, large downloads), and failures that say what went wrong.
//
// HTTPS verifies the server: its chain against the TlsClientContext's CAs (the system store, plus
// an optional CA file), its name against the URL's host (DNS name or IP literal), and sends SNI
// for DNS names. A failed check is HttpErrc::kTls naming the host and OpenSSL's reason.
//
// Thread-safety: not thread-safe. Every send() must run on the executor given to the
// constructor, which must be a strand (or a single-threaded io_context); the idle connection
// pool and the list of requests in flight are touched only there. The client must outlive every
// send() in progress (cancel_all() ends them promptly).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_url.hpp"
#include "net/tls_client_context.hpp"

namespace tl::net {

namespace detail {
class Connection;
struct InFlight;
}  // namespace detail

enum class HttpErrc {
    kBadUrl,             // not a URL with a host, or an invalid port
    kUnsupportedScheme,  // anything but http:// and https://
    kResolveFailed,      // the host name did not resolve
    kConnectionRefused,
    kTimeout,    // the request's total deadline passed (resolve, connect, TLS, write or read)
    kTls,        // TLS handshake failed: certificate not trusted, wrong host name, no common cipher
    kCancelled,  // cancel_all() was called while the request was in flight
    kNetwork,    // any other transport error (reset, protocol error, oversized response)
};

std::string_view to_string(HttpErrc errc);

struct HttpFailure {
    HttpErrc code;
    std::string message;  // names the URL's host:port and what failed; never the body
};

enum class HttpMethod { kGet, kPost };

struct HttpRequest {
    HttpMethod method = HttpMethod::kPost;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // sent with Content-Length when not empty, or always for POST
    // Total: resolve, connect, TLS handshake, write and the whole response, streamed or not.
    std::chrono::milliseconds timeout{10'000};
    // An accumulated response body larger than this fails the request (kNetwork); a streamed
    // body has no cap (its consumer decides).
    std::size_t max_body = 1 << 20;
};

struct HttpResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
    std::string body;  // empty when the body went to a chunk handler

    // The value of the first header named `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const;
    std::string_view content_type() const { return header("Content-Type"); }
};

using HttpResult = boost::system::result<HttpResponse, HttpFailure>;

// Receives the response body in the pieces the network delivers, in order, on the client's
// executor. Not called for responses without a body.
using BodyChunkHandler = std::function<void(std::string_view chunk)>;

class HttpClient {
public:
    // HTTPS trusts the system CA store (loaded at the first https:// request).
    explicit HttpClient(boost::asio::any_io_executor executor, std::size_t max_idle_per_host = 16);
    HttpClient(boost::asio::any_io_executor executor,
               TlsClientContext tls,
               std::size_t max_idle_per_host = 16);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends `request`. Without `on_body_chunk` the body is accumulated into HttpResponse::body
    // (up to request.max_body); with it, each piece goes to the handler as it arrives and
    // HttpResponse::body stays empty. Status and headers are in the result either way, which
    // completes once the whole body was read. A reused keep-alive connection that turns out
    // closed by the peer is replaced by a fresh one once, before any of the response was read
    // (the request may then reach the server twice: at-least-once).
    boost::asio::awaitable<HttpResult> send(HttpRequest request,
                                            BodyChunkHandler on_body_chunk = {});

    // send() with method POST.
    boost::asio::awaitable<HttpResult> post(HttpRequest request);

    // Fails every request in flight now with kCancelled, promptly (shutdown). Their connections
    // are closed, never pooled. Requests started afterwards run normally.
    void cancel_all();

    // Closes every idle connection (shutdown).
    void close_idle();

    std::size_t idle_connections() const;

private:
    using ConnectionPtr = std::unique_ptr<detail::Connection>;

    boost::asio::awaitable<boost::system::result<ConnectionPtr, HttpFailure>> connect(
        const HttpUrl& url,
        std::chrono::steady_clock::time_point deadline,
        detail::InFlight& flight);
    void keep_idle(const std::string& key, ConnectionPtr connection);

    boost::asio::any_io_executor executor_;
    std::optional<TlsClientContext> tls_;  // outlives every connection below
    std::size_t max_idle_per_host_;
    std::map<std::string, std::vector<ConnectionPtr>> idle_;  // key: "scheme://host:port"
    std::set<detail::InFlight*> in_flight_;
};

}  // namespace tl::net
