#include "api/http_server.hpp"

#include "common/ids.hpp"
#include "common/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace tl::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

bool is_safe_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (const char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

// Splits "a=1&b=x%20y" into decoded pairs; a malformed query leaves the map empty and the
// handler's parameter validation then reports what is missing.
std::map<std::string, std::string> parse_query(std::string_view target) {
    std::map<std::string, std::string> out;
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return out;
    for (const auto& param : url->params()) {
        out.emplace(std::string(param.key), std::string(param.value));
    }
    return out;
}

}  // namespace

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(tcp::socket&& socket, HttpServer& server)
        : stream_(std::move(socket)), server_(server) {}

    void run() {
        asio::dispatch(stream_.get_executor(),
                       [self = shared_from_this()] { self->do_read(); });
    }

    // Called through the strand: closes now when idle, after the current response otherwise.
    void request_close() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            self->close_requested_ = true;
            if (!self->busy_) self->close();
        });
    }

private:
    void do_read() {
        if (close_requested_) return close();
        parser_.emplace();
        parser_->header_limit(kMaxHeaderBytes);
        parser_->body_limit(kMaxBodyBytes);
        stream_.expires_after(kIdleTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted) {
            return close();
        }
        if (ec == http::error::body_limit) {
            return reply_and_close(make_error(
                Errc::kPayloadTooLarge, "request body is larger than 1 MiB (1048576 bytes)"));
        }
        if (ec) {
            // Any HTTP parse error (bad target, bad header, header too large...) is the client's.
            if (&ec.category() == &http::make_error_code(http::error::bad_target).category()) {
                return reply_and_close(make_error(Errc::kInvalidRequest,
                                                  "malformed HTTP request: " + ec.message()));
            }
            return close();
        }
        busy_ = true;
        auto& req = parser_->get();
        Request request;
        request.method = std::string(req.method_string());
        const std::string_view target = req.target();
        request.path = std::string(target.substr(0, target.find('?')));
        request.query = parse_query(target);
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        const auto client_id = request.header("x-request-id");
        request.request_id = client_id && is_safe_request_id(*client_id) ? *client_id : new_uuid();
        request.body = std::move(req.body());
        keep_alive_ = req.keep_alive();
        const unsigned version = req.version();
        if (server_.router_.is_blocking(request)) {
            // Seconds of waiting on the network: on the blocking pool, the answer written back
            // on this connection's strand.
            asio::post(server_.blocking_pool_, [self = shared_from_this(),
                                                request = std::move(request), version]() mutable {
                auto response = self->server_.router_.handle(request);
                asio::post(self->stream_.get_executor(),
                           [self, response = std::move(response), version,
                            id = request.request_id]() mutable {
                               self->write(std::move(response), version, id);
                           });
            });
            return;
        }
        write(server_.router_.handle(request), version, request.request_id);
    }

    void reply_and_close(const Error& error) {
        busy_ = true;
        keep_alive_ = false;
        write(Response::error(error), 11, new_uuid());
    }

    void write(Response response, unsigned version, const std::string& request_id) {
        auto res = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(response.status), version);
        res->set(http::field::server, "trunkline");
        res->set(http::field::content_type, response.content_type);
        res->set("X-Request-Id", request_id);
        for (auto& [name, value] : response.headers) res->set(name, value);
        res->body() = std::move(response.body);
        res->keep_alive(keep_alive_ && !close_requested_);
        res->prepare_payload();
        http::async_write(stream_, *res,
                          [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                              self->busy_ = false;
                              if (ec || !res->keep_alive()) return self->close();
                              self->do_read();
                          });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    HttpServer& server_;
    bool keep_alive_ = true;
    bool busy_ = false;
    bool close_requested_ = false;
};

HttpServer::HttpServer(asio::io_context& io, Router& router)
    : io_(io),
      router_(router),
      acceptor_(asio::make_strand(io)),
      accept_retry_(acceptor_.get_executor()) {}

HttpServer::~HttpServer() = default;

Result<tcp::endpoint> HttpServer::start(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return make_error(Errc::kUnavailable, "cannot listen on " + endpoint.address().to_string() +
                                                  ":" + std::to_string(endpoint.port()) + ": " +
                                                  ec.message());
    }
    auto bound = acceptor_.local_endpoint();
    do_accept();
    return bound;
}

void HttpServer::do_accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
            // Out of descriptors (EMFILE) the listening socket stays readable: accepting again
            // at once would spin the CPU and flood the log. Pause, then try again.
            log::rate_limited("api.accept", spdlog::level::warn,
                              "api: accept failed: {}; retrying in 100 ms",
                              ec.message());
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            accept_retry_.expires_after(std::chrono::milliseconds(100));
            accept_retry_.async_wait([this](beast::error_code wait_ec) {
                if (!wait_ec) do_accept();
            });
            return;
        }
        std::shared_ptr<HttpSession> session;
        {
            // Deciding under the lock that stop() takes means a connection accepted while
            // stopping is either closed here or seen by stop(): never left waiting on a read.
            std::lock_guard lock(mutex_);
            if (stopping_) {
                beast::error_code ignored;
                socket.close(ignored);
                return;
            }
            if (!ec) {
                socket.set_option(tcp::no_delay(true), ec);
                session = std::make_shared<HttpSession>(std::move(socket), *this);
                std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
                sessions_.push_back(session);
            }
            do_accept();
        }
        if (session) session->run();
    });
}

std::int64_t HttpServer::open_connections() const {
    std::lock_guard lock(mutex_);
    return std::count_if(sessions_.begin(), sessions_.end(),
                         [](const auto& w) { return !w.expired(); });
}

void HttpServer::stop() {
    std::vector<std::shared_ptr<HttpSession>> live;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        for (auto& w : sessions_) {
            if (auto s = w.lock()) live.push_back(std::move(s));
        }
    }
    asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        accept_retry_.cancel();
    });
    for (auto& s : live) s->request_close();
}

}  // namespace tl::api
