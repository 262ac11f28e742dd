#pragma once
// How a provider's HTTP answer becomes a tl::Error: one mapping for every network provider, and
// the provider's own error sentence extracted from its JSON error body (never the whole body,
// never a key). Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace tl::voice {

// `what` names the provider and endpoint ("LLM api.openai.com"). 401/403 -> kUnauthorized,
// 429 -> kRateLimited, 5xx -> kUnavailable, any other status -> kInvalidRequest; the message
// holds the status and the provider's own sentence (from `body`, see provider_error_message),
// with `key` masked should the provider echo it.
Error http_status_error(std::string_view what,
                        int status,
                        std::string_view body,
                        std::string_view key);

// The sentence of an OpenAI-style error body (`{"error": {"message": ...}}`, `{"error": "..."}`,
// `{"message": ...}` or `{"detail": ...}`), at most 300 bytes, control characters removed;
// "" when the body holds none.
std::string provider_error_message(std::string_view body);

// `text` with every occurrence of `key` (when at least 8 bytes long) replaced by "[redacted]".
std::string redact(std::string text, std::string_view key);

}  // namespace tl::voice
