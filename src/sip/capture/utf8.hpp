#pragma once
// JSON text must be UTF-8 (RFC 8259 §8.1), but a SIP message is bytes: a display name in
// Latin-1 or a binary body would make the capture document invalid, and a store or client that
// checks (PostgreSQL, browsers) would refuse the whole of it. Internal to the capture library.
// Pure function: thread-safe.

#include <string>
#include <string_view>

namespace tl::sip::detail {

// `text` with every byte that is not part of a well-formed UTF-8 sequence (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF) replaced by U+FFFD. Valid text is
// returned unchanged.
std::string to_valid_utf8(std::string_view text);

}  // namespace tl::sip::detail
