#pragma once
// One logging facade over spdlog. `text` for people, `json` (one object per line) for production
// log pipelines. Lines about a call go through with_fields(): its ids become JSON fields
// ("call_id", "org_id", "trunk_id", "reason", "source") and, in text, a "[call=..][org=..]"
// prefix, so one call's lines can be followed (and filtered) across the whole log.
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

// What a line is about; empty members are left out.
struct Fields {
    std::string_view call_id;
    std::string_view org_id;
    std::string_view trunk_id;
    std::string_view sip_call_id;  // the SIP Call-ID (clipped: it comes from the network)
    std::string_view reason;       // a reason code (transfer and call failures, refusals)
    std::string_view source;       // the peer's address (authentication failures)
    std::string_view request_id;   // the API request
};

namespace detail {
// The fields of the line being formatted on this thread (spdlog formats synchronously, in the
// calling thread, so the formatter reads them there).
void log_with_fields(const Fields& fields, spdlog::level::level_enum level, std::string message);
}  // namespace detail

template <typename... Args>
void with_fields(const Fields& fields,
                 spdlog::level::level_enum level,
                 fmt::format_string<Args...> format,
                 Args&&... args) {
    if (!spdlog::should_log(level)) return;
    detail::log_with_fields(fields, level, fmt::format(format, std::forward<Args>(args)...));
}

// Logs `message` unless `key` (the condition, e.g. "sip.refused.stranger") was logged 10 times in
// the current second; the number suppressed is reported with the next line that gets through.
// The key, not the text, is counted: a flood varies its addresses and Call-IDs.
void rate_limited_message(std::string_view key,
                          spdlog::level::level_enum level,
                          std::string message,
                          const Fields* fields = nullptr);

template <typename... Args>
void rate_limited(std::string_view key,
                  spdlog::level::level_enum level,
                  fmt::format_string<Args...> format,
                  Args&&... args) {
    if (!spdlog::should_log(level)) return;
    rate_limited_message(key, level, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void rate_limited(std::string_view key,
                  const Fields& fields,
                  spdlog::level::level_enum level,
                  fmt::format_string<Args...> format,
                  Args&&... args) {
    if (!spdlog::should_log(level)) return;
    rate_limited_message(key, level, fmt::format(format, std::forward<Args>(args)...), &fields);
}

}  // namespace tl::log
