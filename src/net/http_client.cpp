#include "net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include "net/connection.hpp"
#include "net/http_url.hpp"

namespace tl::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace detail {

// A request in flight as cancel_all() sees it: what it waits on right now.
struct InFlight {
    asio::steady_timer* waiting = nullptr;  // while resolving
    Connection* connection = nullptr;       // while connecting, in TLS or exchanging
    bool cancelled = false;
};

}  // namespace detail

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// A streamed body is read in pieces of at most this size: large enough for a download to take
// few reads, small enough that a server-sent event is handed over as soon as it arrives.
constexpr std::size_t kStreamPiece = 16 * 1024;

using Deadline = std::chrono::steady_clock::time_point;

HttpFailure transport_failure(const boost::system::error_code& ec, const std::string& where) {
    if (ec == beast::error::timeout || ec == asio::error::timed_out) {
        return {HttpErrc::kTimeout, where + ": timed out"};
    }
    if (ec == asio::error::connection_refused) {
        return {HttpErrc::kConnectionRefused, where + ": connection refused"};
    }
    return {HttpErrc::kNetwork, where + ": " + ec.message()};
}

HttpFailure cancelled_failure(const std::string& where) {
    return {HttpErrc::kCancelled, where + ": cancelled"};
}

// A kept-alive connection the peer closed in the meantime fails this way on first use (over TLS
// a peer that closed without close_notify shows as a truncated stream).
bool is_stale_connection(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == ssl::error::stream_truncated;
}

// A failed handshake names OpenSSL's certificate verdict when there is one ("certificate has
// expired", "hostname mismatch", "unable to get local issuer certificate"), never the bytes.
HttpFailure handshake_failure(const boost::system::error_code& ec,
                              SSL* ssl,
                              const std::string& where) {
    if (const long verdict = SSL_get_verify_result(ssl); verdict != X509_V_OK) {
        return {HttpErrc::kTls,
                where + ": TLS certificate rejected: " + X509_verify_cert_error_string(verdict)};
    }
    if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated) {
        return {HttpErrc::kTls, where + ": TLS handshake failed: " + ec.message()};
    }
    return transport_failure(ec, where + " TLS handshake");
}

// Checks the server's name the way RFC 6125 wants (OpenSSL's X509_check_host/ip, also behind
// Asio's ssl::host_name_verification), set on the connection's verify parameters rather than as
// a verify callback so that a mismatch fails with X509_V_ERR_HOSTNAME_MISMATCH (or
// X509_V_ERR_IP_ADDRESS_MISMATCH) and the failure says so. Also sends SNI (RFC 6066 §3: DNS
// names only, never an IP literal).
bool expect_server_name(SSL* ssl, const std::string& host) {
    if (is_ip_literal(host)) {
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, host.c_str()) == 1 &&
           SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
}

struct ResolveState {
    explicit ResolveState(const asio::any_io_executor& executor)
        : resolver(executor), done(executor) {}
    tcp::resolver resolver;
    asio::steady_timer done;
    bool finished = false;
    boost::system::error_code ec;
    tcp::resolver::results_type results;
};

// Asio cannot interrupt a lookup once getaddrinfo runs (async_resolve ignores per-operation
// cancellation; resolver.cancel() only stops lookups not yet started), and awaiting it directly
// would hold the request past its deadline and past cancel_all(). So the request waits on a
// timer that the lookup's completion cancels; at the deadline or on cancel_all() it stops
// waiting, and a late answer lands in the shared state nobody reads any more.
asio::awaitable<boost::system::result<tcp::resolver::results_type, HttpFailure>> resolve(
    const asio::any_io_executor& executor,
    const HttpUrl& url,
    Deadline deadline,
    detail::InFlight& flight,
    const std::string& where) {
    auto state = std::make_shared<ResolveState>(executor);
    state->done.expires_at(deadline);
    state->resolver.async_resolve(
        url.host, url.port,
        [state](const boost::system::error_code& ec, tcp::resolver::results_type results) {
            state->finished = true;
            state->ec = ec;
            state->results = std::move(results);
            state->done.cancel();
        });
    flight.waiting = &state->done;
    co_await state->done.async_wait(kUseTuple);
    flight.waiting = nullptr;
    if (flight.cancelled || !state->finished) {
        state->resolver.cancel();
        if (flight.cancelled) co_return cancelled_failure(where);
        co_return HttpFailure{HttpErrc::kTimeout, where + ": timed out resolving"};
    }
    if (state->ec) {
        co_return HttpFailure{HttpErrc::kResolveFailed,
                              where + ": cannot resolve host: " + state->ec.message()};
    }
    co_return std::move(state->results);
}

// One request/response on an open connection.
struct Exchange {
    boost::system::error_code ec;
    bool writing = true;         // the failure came while writing the request
    std::size_t bytes_read = 0;  // of the response, head included
    bool body_too_large = false;
    bool reusable = false;  // complete, keep-alive on both sides, nothing unread
    HttpResponse response;
};

template <class Fields>
void copy_head(const Fields& head, int status, HttpResponse& out) {
    out.status = status;
    for (const auto& field : head) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
}

template <class Stream>
asio::awaitable<Exchange> exchange(Stream& stream,
                                   http::request<http::string_body>& request,
                                   std::size_t max_body,
                                   const BodyChunkHandler& on_body_chunk) {
    Exchange x;
    auto [wec, written] = co_await http::async_write(stream, request, kUseTuple);
    if (wec) {
        x.ec = wec;
        co_return x;
    }
    x.writing = false;
    beast::flat_buffer buffer;
    if (!on_body_chunk) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_body);
        auto [rec, read] = co_await http::async_read(stream, buffer, parser, kUseTuple);
        x.bytes_read = read;
        if (rec) {
            x.ec = rec;
            x.body_too_large = rec == http::error::body_limit;
            co_return x;
        }
        auto res = parser.release();
        copy_head(res, static_cast<int>(res.result_int()), x.response);
        x.response.body = std::move(res.body());
        x.reusable = res.keep_alive() && buffer.size() == 0;
        co_return x;
    }

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [hec, head_read] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    x.bytes_read = head_read;
    if (hec) {
        x.ec = hec;
        co_return x;
    }
    copy_head(parser.get(), static_cast<int>(parser.get().result_int()), x.response);
    // Not a fixed char[]: STYLE.md, network data.
    std::string piece(kStreamPiece, '\0');
    while (!parser.is_done()) {
        parser.get().body().data = piece.data();
        parser.get().body().size = piece.size();
        // read_some, not read: read would wait for the piece to fill, holding back a short event.
        auto [ec, read] = co_await http::async_read_some(stream, buffer, parser, kUseTuple);
        x.bytes_read += read;
        if (const std::size_t got = piece.size() - parser.get().body().size; got > 0) {
            on_body_chunk(std::string_view(piece.data(), got));
        }
        if (ec && ec != http::error::need_buffer) {
            x.ec = ec;
            co_return x;
        }
    }
    x.reusable = parser.get().keep_alive() && buffer.size() == 0;
    co_return x;
}

// Keeps a request in the client's in-flight set while it runs (cancel_all()).
class FlightRegistration {
public:
    FlightRegistration(std::set<detail::InFlight*>& set, detail::InFlight& flight)
        : set_(set), flight_(&flight) {
        set_.insert(flight_);
    }
    ~FlightRegistration() { set_.erase(flight_); }
    FlightRegistration(const FlightRegistration&) = delete;
    FlightRegistration& operator=(const FlightRegistration&) = delete;

private:
    std::set<detail::InFlight*>& set_;
    detail::InFlight* flight_;
};

}  // namespace

std::string_view to_string(HttpErrc errc) {
    switch (errc) {
        case HttpErrc::kBadUrl:
            return "bad_url";
        case HttpErrc::kUnsupportedScheme:
            return "unsupported_scheme";
        case HttpErrc::kResolveFailed:
            return "resolve_failed";
        case HttpErrc::kConnectionRefused:
            return "connection_refused";
        case HttpErrc::kTimeout:
            return "timeout";
        case HttpErrc::kTls:
            return "tls";
        case HttpErrc::kCancelled:
            return "cancelled";
        case HttpErrc::kNetwork:
            return "network";
    }
    return "network";
}

std::string_view HttpResponse::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (beast::iequals(n, name)) return v;
    }
    return {};
}

HttpClient::HttpClient(asio::any_io_executor executor, std::size_t max_idle_per_host)
    : executor_(std::move(executor)), max_idle_per_host_(max_idle_per_host) {}

HttpClient::HttpClient(asio::any_io_executor executor,
                       TlsClientContext tls,
                       std::size_t max_idle_per_host)
    : executor_(std::move(executor)), tls_(std::move(tls)), max_idle_per_host_(max_idle_per_host) {}

HttpClient::~HttpClient() { close_idle(); }

void HttpClient::close_idle() {
    for (auto& [key, connections] : idle_) {
        for (auto& c : connections) c->close();
    }
    idle_.clear();
}

std::size_t HttpClient::idle_connections() const {
    std::size_t n = 0;
    for (const auto& [key, connections] : idle_) n += connections.size();
    return n;
}

void HttpClient::cancel_all() {
    for (auto* flight : in_flight_) {
        flight->cancelled = true;
        if (flight->waiting) flight->waiting->cancel();
        if (flight->connection) flight->connection->tcp().cancel();
    }
}

void HttpClient::keep_idle(const std::string& key, ConnectionPtr connection) {
    auto& pool = idle_[key];
    if (pool.size() >= max_idle_per_host_) return;  // closed by its destructor
    connection->tcp().expires_never();
    pool.push_back(std::move(connection));
}

asio::awaitable<boost::system::result<HttpClient::ConnectionPtr, HttpFailure>> HttpClient::connect(
    const HttpUrl& url, Deadline deadline, detail::InFlight& flight) {
    const std::string where = url.host + ":" + url.port;
    auto endpoints = co_await resolve(executor_, url, deadline, flight, where);
    if (!endpoints) co_return endpoints.error();

    auto connection = url.scheme == Scheme::kHttps
                          ? std::make_unique<detail::Connection>(executor_, tls_->native())
                          : std::make_unique<detail::Connection>(executor_);
    flight.connection = connection.get();
    connection->tcp().expires_at(deadline);
    auto [cec, endpoint] = co_await connection->tcp().async_connect(*endpoints, kUseTuple);
    if (flight.cancelled) co_return cancelled_failure(where);
    if (cec) co_return transport_failure(cec, where + " connect");
    // Requests and responses are whole messages: Nagle would only add delayed-ACK stalls.
    boost::system::error_code ignored;
    connection->tcp().socket().set_option(tcp::no_delay(true), ignored);
    if (!connection->is_tls()) co_return connection;

    auto& tls = connection->tls();
    if (!expect_server_name(tls.native_handle(), url.host)) {
        co_return HttpFailure{HttpErrc::kTls, where + ": cannot set the TLS server name"};
    }
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kUseTuple);
    if (flight.cancelled) co_return cancelled_failure(where);
    if (hec) co_return handshake_failure(hec, tls.native_handle(), where);
    co_return connection;
}

asio::awaitable<HttpResult> HttpClient::post(HttpRequest request) {
    request.method = HttpMethod::kPost;
    co_return co_await send(std::move(request));
}

asio::awaitable<HttpResult> HttpClient::send(HttpRequest request, BodyChunkHandler on_body_chunk) {
    auto url = parse_http_url(request.url);
    if (!url) {
        co_return HttpFailure{
            url.error().unsupported_scheme ? HttpErrc::kUnsupportedScheme : HttpErrc::kBadUrl,
            url.error().message};
    }
    const bool https = url->scheme == Scheme::kHttps;
    if (https && !tls_) tls_ = TlsClientContext::system_default();
    const std::string where = url->host + ":" + url->port;
    const std::string key = (https ? "https://" : "http://") + where;
    const Deadline deadline = std::chrono::steady_clock::now() + request.timeout;

    const bool post = request.method == HttpMethod::kPost;
    http::request<http::string_body> req{post ? http::verb::post : http::verb::get, url->target,
                                         11};
    req.set(http::field::host, url->host_header);
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.body() = std::move(request.body);
    req.keep_alive(true);
    req.prepare_payload();  // Content-Length; none for a GET without a body

    detail::InFlight flight;
    FlightRegistration registration(in_flight_, flight);
    for (int attempt = 0; attempt < 2; ++attempt) {
        // The second attempt follows a stale kept connection: the rest of the pool for this
        // server is likely stale too (it restarted), so connect afresh.
        ConnectionPtr connection;
        if (auto it = idle_.find(key); attempt == 0 && it != idle_.end() && !it->second.empty()) {
            connection = std::move(it->second.back());
            it->second.pop_back();
        }
        const bool reused = connection != nullptr;
        if (!reused) {
            auto made = co_await connect(*url, deadline, flight);
            if (!made) co_return made.error();
            connection = std::move(*made);
        }
        flight.connection = connection.get();
        connection->tcp().expires_at(deadline);
        auto x = co_await connection->visit(
            [&](auto& stream) { return exchange(stream, req, request.max_body, on_body_chunk); });
        flight.connection = nullptr;
        if (flight.cancelled) co_return cancelled_failure(where);
        if (x.ec) {
            if (reused && is_stale_connection(x.ec) && (x.writing || x.bytes_read == 0)) continue;
            if (x.body_too_large) {
                co_return HttpFailure{HttpErrc::kNetwork, where + ": response body larger than " +
                                                              std::to_string(request.max_body) +
                                                              " bytes"};
            }
            co_return transport_failure(x.ec, where + (x.writing ? " write" : " read"));
        }
        if (x.reusable) keep_idle(key, std::move(connection));
        co_return std::move(x.response);
    }
    co_return HttpFailure{HttpErrc::kNetwork, where + ": connection closed by the peer"};
}

}  // namespace tl::net
