#include "voice/providers/provider_http.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "net/http_url.hpp"
#include "voice/providers/provider_errors.hpp"

namespace tl::voice::detail {

namespace asio = boost::asio;

std::string describe(std::string_view kind, const std::string& base_url) {
    auto url = net::parse_http_url(base_url);
    return fmt::format("{} {}", kind, url ? url->host_header : std::string("(bad base_url)"));
}

std::vector<std::pair<std::string, std::string>> request_headers(const OpenAiEndpoint& endpoint,
                                                                 std::string content_type,
                                                                 std::string accept) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!endpoint.api_key.empty())
        headers.emplace_back("Authorization", "Bearer " + endpoint.api_key);
    headers.emplace_back("Content-Type", std::move(content_type));
    headers.emplace_back("Accept", std::move(accept));
    headers.emplace_back("User-Agent", "Trunkline");
    return headers;
}

Error transport_error(std::string_view what,
                      const net::HttpFailure& failure,
                      std::chrono::milliseconds timeout) {
    switch (failure.code) {
        case net::HttpErrc::kBadUrl:
        case net::HttpErrc::kUnsupportedScheme:
            return make_error(Errc::kInvalidRequest,
                              fmt::format("{}: bad base_url: {}", what, failure.message));
        case net::HttpErrc::kTimeout:
            return make_error(Errc::kUnavailable,
                              fmt::format("{}: timed out after {} ms ({})", what, timeout.count(),
                                          failure.message));
        default:
            return make_error(Errc::kUnavailable, fmt::format("{}: {}", what, failure.message));
    }
}

bool retryable(const net::HttpFailure& failure) {
    return failure.code == net::HttpErrc::kConnectionRefused ||
           failure.code == net::HttpErrc::kNetwork || failure.code == net::HttpErrc::kResolveFailed;
}

bool retryable_status(int status) { return status == 429 || status >= 500; }

std::chrono::milliseconds retry_delay(const net::HttpResponse* response) {
    using std::chrono::milliseconds;
    if (response != nullptr) {
        const auto value = response->header("Retry-After");
        int seconds = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (!value.empty() && ec == std::errc() && end == value.data() + value.size() &&
            seconds >= 0) {
            return milliseconds(std::min(seconds, 2) * 1000);
        }
    }
    return milliseconds(200);
}

asio::awaitable<Result<net::HttpResponse>> send_with_retry(net::HttpClient& client,
                                                           net::HttpRequest request,
                                                           std::string what,
                                                           std::string key) {
    for (int attempt = 0;; ++attempt) {
        auto result = co_await client.send(request);
        const bool last = attempt > 0;
        if (!result) {
            if (last || !retryable(result.error())) {
                co_return transport_error(what, result.error(), request.timeout);
            }
            spdlog::info("{}: {}; retrying once", what, result.error().message);
            asio::steady_timer timer(co_await asio::this_coro::executor, retry_delay(nullptr));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        if (result->status >= 200 && result->status < 300) co_return std::move(*result);
        if (last || !retryable_status(result->status)) {
            co_return http_status_error(what, result->status, result->body, key);
        }
        spdlog::info("{}: HTTP {}; retrying once", what, result->status);
        asio::steady_timer timer(co_await asio::this_coro::executor, retry_delay(&*result));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

}  // namespace tl::voice::detail
