#pragma once
// Runs one HttpClient::send() to completion on the test's io_context (tests only).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>

#include "net/http_client.hpp"

namespace tl::net::testing {

inline HttpResult send_once(HttpClient& client,
                            boost::asio::io_context& io,
                            HttpRequest request,
                            BodyChunkHandler on_body_chunk = {}) {
    std::optional<HttpResult> out;
    boost::asio::co_spawn(io, client.send(std::move(request), std::move(on_body_chunk)),
                          [&](std::exception_ptr e, HttpResult r) {
                              if (e) std::rethrow_exception(e);
                              out = std::move(r);
                          });
    io.restart();
    io.run();
    return *out;
}

inline HttpRequest post_to(std::string url,
                           std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    HttpRequest r;
    r.url = std::move(url);
    r.body = "{}";
    r.headers = {{"Content-Type", "application/json"}};
    r.timeout = timeout;
    return r;
}

inline HttpRequest get_from(std::string url,
                            std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    HttpRequest r;
    r.method = HttpMethod::kGet;
    r.url = std::move(url);
    r.timeout = timeout;
    return r;
}

}  // namespace tl::net::testing
