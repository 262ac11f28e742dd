#pragma once
// One logging facade over spdlog. `text` for people, `json` (one object per line) for production
// log pipelines. Callers prefix context themselves ("[req=..]", "[call=..][leg=..]").
// Never pass a secret to a log call. Values that come from the network go through clip(), and
// conditions that can repeat at network speed through rate_limited().
//
// Thread-safety: every function may be called from any thread.

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace tl::log {

enum class Format { kText, kJson };

// No log line (JSON or text) is longer than this: a longer message is cut and says so.
constexpr std::size_t kMaxLineBytes = 8192;
// What clip() keeps of a value from the network (a header, a URI) by default.
constexpr std::size_t kMaxValueBytes = 256;

// Configures the process-wide logger (stderr). Returns false on an unknown level name.
bool init(Format format, std::string_view level);

// `value` cut to `max` bytes (then "...(N bytes)") with control and non-ASCII bytes escaped as
// \xNN, so a hostile header cannot forge lines or bloat the log.
std::string clip(std::string_view value, std::size_t max = kMaxValueBytes);

// Logs `message` unless `key` (the condition, e.g. "sip.refused.stranger") was logged 10 times in
// the current second; the number suppressed is reported with the next line that gets through.
// The key, not the text, is counted: a flood varies its addresses and Call-IDs.
void rate_limited_message(std::string_view key,
                          spdlog::level::level_enum level,
                          std::string message);

template <typename... Args>
void rate_limited(std::string_view key,
                  spdlog::level::level_enum level,
                  fmt::format_string<Args...> format,
                  Args&&... args) {
    if (!spdlog::should_log(level)) return;
    rate_limited_message(key, level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tl::log
