#pragma once
// Identifiers and random tokens. Thread-safe (libsodium's CSPRNG).

#include <string>
#include <string_view>

namespace tl {

// A random RFC 4122 version-4 UUID in lowercase canonical form.
std::string new_uuid();

// `bytes` random bytes, base62-encoded (no padding, URL- and shell-safe): API keys, passwords.
std::string random_token(std::size_t bytes);

// True when `text` is a canonical lowercase/uppercase UUID (8-4-4-4-12 hex).
bool is_uuid(std::string_view text);

}  // namespace tl
