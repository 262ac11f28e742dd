#include "webhook/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>

namespace tl::webhook {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;  // NOLINT: `||` on awaitables
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Responses are acknowledgements; anything larger than this is not a webhook receiver.
constexpr std::uint64_t kMaxResponseBody = 1 << 20;

struct Target {
    std::string host;
    std::string port;
    std::string path;  // origin-form: path + query
    std::string host_header;
};

boost::system::result<Target, HttpFailure> parse_target(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return HttpFailure{HttpErrc::kBadUrl, "not a valid URL"};
    if (parsed->scheme() != "http") {
        if (parsed->scheme() == "https") {
            return HttpFailure{HttpErrc::kUnsupportedScheme,
                               "https:// webhook URLs are not supported yet"};
        }
        return HttpFailure{HttpErrc::kUnsupportedScheme,
                           "unsupported URL scheme '" + std::string(parsed->scheme()) + "'"};
    }
    Target t;
    t.host = parsed->encoded_host_address().decode();
    if (t.host.empty()) return HttpFailure{HttpErrc::kBadUrl, "the URL has no host"};
    // An IPv6 literal keeps its brackets in the Host header but not for the resolver.
    if (t.host.size() > 2 && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
    t.port = parsed->has_port() ? std::string(parsed->port()) : "80";
    unsigned port = 0;
    auto [end, ec] = std::from_chars(t.port.data(), t.port.data() + t.port.size(), port);
    if (ec != std::errc() || end != t.port.data() + t.port.size() || port == 0 || port > 65535) {
        return HttpFailure{HttpErrc::kBadUrl, "invalid port in the URL"};
    }
    t.host_header = std::string(parsed->encoded_authority());
    if (auto at = t.host_header.rfind('@'); at != std::string::npos) {
        t.host_header = t.host_header.substr(at + 1);  // never send userinfo in Host
    }
    t.path = std::string(parsed->encoded_path());
    if (t.path.empty()) t.path = "/";
    if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
    return t;
}

HttpFailure transport_failure(const boost::system::error_code& ec, const std::string& where) {
    if (ec == beast::error::timeout || ec == asio::error::timed_out) {
        return {HttpErrc::kTimeout, where + ": timed out"};
    }
    if (ec == asio::error::connection_refused) {
        return {HttpErrc::kConnectionRefused, where + ": connection refused"};
    }
    return {HttpErrc::kNetwork, where + ": " + ec.message()};
}

// A kept-alive connection the peer closed in the meantime fails this way on first use.
bool is_stale_connection(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

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
        case HttpErrc::kNetwork:
            return "network";
    }
    return "network";
}

HttpClient::HttpClient(asio::any_io_executor executor, std::size_t max_idle_per_host)
    : executor_(std::move(executor)), max_idle_per_host_(max_idle_per_host) {}

void HttpClient::close_idle() {
    for (auto& [key, streams] : idle_) {
        for (auto& s : streams) {
            boost::system::error_code ignored;
            s->socket().shutdown(tcp::socket::shutdown_both, ignored);
            s->close();
        }
    }
    idle_.clear();
}

std::size_t HttpClient::idle_connections() const {
    std::size_t n = 0;
    for (const auto& [key, streams] : idle_) n += streams.size();
    return n;
}

asio::awaitable<HttpResult> HttpClient::post(HttpRequest request) {
    auto target = parse_target(request.url);
    if (!target) co_return target.error();
    const std::string key = target->host + ":" + target->port;
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;

    http::request<http::string_body> req{http::verb::post, target->path, 11};
    req.set(http::field::host, target->host_header);
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.body() = std::move(request.body);
    req.keep_alive(true);
    req.prepare_payload();

    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<Stream> stream;
        bool reused = false;
        if (auto it = idle_.find(key); it != idle_.end() && !it->second.empty()) {
            stream = std::move(it->second.back());
            it->second.pop_back();
            reused = true;
        } else {
            tcp::resolver resolver(executor_);
            asio::steady_timer timer(executor_);
            timer.expires_at(deadline);
            auto resolved =
                co_await (resolver.async_resolve(target->host, target->port, kUseTuple) ||
                          timer.async_wait(kUseTuple));
            if (resolved.index() == 1)
                co_return HttpFailure{HttpErrc::kTimeout, key + ": timed out resolving"};
            auto [rec, endpoints] = std::get<0>(std::move(resolved));
            if (rec) {
                co_return HttpFailure{HttpErrc::kResolveFailed,
                                      key + ": cannot resolve host: " + rec.message()};
            }
            stream = std::make_unique<Stream>(executor_);
            stream->expires_at(deadline);
            auto [cec, ep] = co_await stream->async_connect(endpoints, kUseTuple);
            if (cec) co_return transport_failure(cec, key + " connect");
        }

        stream->expires_at(deadline);
        auto [wec, written] = co_await http::async_write(*stream, req, kUseTuple);
        if (wec) {
            if (reused && is_stale_connection(wec)) continue;
            co_return transport_failure(wec, key + " write");
        }
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxResponseBody);
        auto [rec, read] = co_await http::async_read(*stream, buffer, parser, kUseTuple);
        if (rec) {
            if (reused && read == 0 && is_stale_connection(rec)) continue;
            co_return transport_failure(rec, key + " read");
        }
        auto res = parser.release();
        HttpResponse response{static_cast<int>(res.result_int()), std::move(res.body())};
        // Keep the connection only when the exchange left it clean and both sides agree.
        if (res.keep_alive() && buffer.size() == 0) {
            auto& pool = idle_[key];
            if (pool.size() < max_idle_per_host_) {
                stream->expires_never();
                pool.push_back(std::move(stream));
            }
        }
        co_return response;
    }
    co_return HttpFailure{HttpErrc::kNetwork, key + ": connection closed by the peer"};
}

}  // namespace tl::webhook
