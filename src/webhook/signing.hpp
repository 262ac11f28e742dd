#pragma once
// Webhook request signing (api-contract.md §5.2):
//   X-Webhook-Signature: sha256=<lowercase hex HMAC-SHA256(secret, timestamp + "." + body)>
// with the timestamp the decimal Unix seconds sent as X-Webhook-Timestamp.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tl::webhook {

// "sha256=<64 hex>" for `body` sent at `timestamp` (Unix seconds, decimal string).
std::string sign(std::string_view secret, std::string_view timestamp, std::string_view body);

// The headers of every webhook request (api-contract.md §5.1): Content-Type, X-Webhook-Event,
// X-Webhook-Timestamp, User-Agent, and X-Webhook-Signature when `secret` is not empty.
std::vector<std::pair<std::string, std::string>> webhook_headers(std::string_view event,
                                                                 std::string_view timestamp,
                                                                 std::string_view secret,
                                                                 std::string_view body);

// Constant-time check of a received signature header against the expected one (receivers, tests).
bool verify(std::string_view secret,
            std::string_view timestamp,
            std::string_view body,
            std::string_view signature_header);

}  // namespace tl::webhook
