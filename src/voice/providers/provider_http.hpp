#pragma once
// What the network providers share: request headers, the failure -> tl::Error mapping, the
// retry policy (one retry, after connection errors, HTTP 5xx and 429, never after a timeout or
// once anything reached the caller) and a one-shot request with that retry. Internal to
// tl_voice_providers.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "net/http_client.hpp"
#include "voice/providers/openai_settings.hpp"

namespace tl::voice::detail {

// "<kind> <host>" for messages, e.g. "LLM api.openai.com" (never the path, never the key).
std::string describe(std::string_view kind, const std::string& base_url);

// Authorization: Bearer (when there is a key), Content-Type, Accept, User-Agent.
std::vector<std::pair<std::string, std::string>> request_headers(const OpenAiEndpoint& endpoint,
                                                                 std::string content_type,
                                                                 std::string accept);

// kUnavailable ("<what>: timed out after 15000 ms", "<what>: connection refused", TLS failures,
// resets), kInvalidRequest for a bad or unsupported base URL.
Error transport_error(std::string_view what,
                      const net::HttpFailure& failure,
                      std::chrono::milliseconds timeout);

// A transport failure or status worth one more attempt.
bool retryable(const net::HttpFailure& failure);
bool retryable_status(int status);
// Before the retry: Retry-After (seconds, at most 2) for a 429/503 that sends one, else 200 ms.
std::chrono::milliseconds retry_delay(const net::HttpResponse* response);

// Sends `request` on `client` (run on the client's strand), retried once as above; a status
// outside 2xx becomes http_status_error.
boost::asio::awaitable<Result<net::HttpResponse>> send_with_retry(net::HttpClient& client,
                                                                  net::HttpRequest request,
                                                                  std::string what,
                                                                  std::string key);

}  // namespace tl::voice::detail
