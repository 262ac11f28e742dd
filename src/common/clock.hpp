#pragma once
// Wall-clock helpers. Timestamps on the wire are ISO-8601 UTC with milliseconds
// ("2025-12-13T10:00:00.000Z"), which also sort correctly as text in the store.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

using SystemTime = std::chrono::system_clock::time_point;

std::string format_iso8601(SystemTime t);
std::string now_iso8601();

// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "+HH:MM"/"-HH:MM" offsets.
std::optional<SystemTime> parse_iso8601(std::string_view text);

}  // namespace tl
