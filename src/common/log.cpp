#include "common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace tl::log {
namespace {

constexpr std::string_view kCut = "...(cut)";

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    std::size_t n = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf)
        n = 2;
    else if (b0 >= 0xe0 && b0 <= 0xef)
        n = 3;
    else if (b0 >= 0xf0 && b0 <= 0xf4)
        n = 4;
    if (n == 0 || s.size() < n) return 0;
    for (std::size_t i = 1; i < n; ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0;
    }
    return n;
}

// `%j`: the message as the inside of a JSON string (quotes, backslashes, control characters
// and bytes that are not UTF-8 escaped), so JSON log lines stay parseable whatever a message
// contains; cut so that the whole line stays under kMaxLineBytes.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg,
                const std::tm&,
                spdlog::memory_buf_t& dest) override {
        // Room for the timestamp, level and punctuation around the message.
        constexpr std::size_t kBudget = kMaxLineBytes - 128;
        const std::size_t start = dest.size();
        std::string_view text(msg.payload.data(), msg.payload.size());
        while (!text.empty()) {
            if (dest.size() - start > kBudget) {
                dest.append(kCut);
                return;
            }
            const char c = text[0];
            const auto u = static_cast<unsigned char>(c);
            std::size_t used = 1;
            switch (c) {
                case '"':
                    dest.append(std::string_view("\\\""));
                    break;
                case '\\':
                    dest.append(std::string_view("\\\\"));
                    break;
                case '\n':
                    dest.append(std::string_view("\\n"));
                    break;
                case '\r':
                    dest.append(std::string_view("\\r"));
                    break;
                case '\t':
                    dest.append(std::string_view("\\t"));
                    break;
                default:
                    if (u < 0x20 || u == 0x7f) {
                        append_unicode_escape(dest, u);
                    } else if (u < 0x80) {
                        dest.push_back(c);
                    } else if (const auto n = utf8_sequence(text); n > 0) {
                        dest.append(text.substr(0, n));
                        used = n;
                    } else {
                        append_unicode_escape(dest, u);  // a stray byte, read as Latin-1
                    }
            }
            text.remove_prefix(used);
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonEscapedMessage>();
    }

private:
    static void append_unicode_escape(spdlog::memory_buf_t& dest, unsigned char u) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u));
        dest.append(std::string_view(buf));
    }
};

// `%k`: the level as our logs name it ("warn", not spdlog's "warning").
class LevelName final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg,
                const std::tm&,
                spdlog::memory_buf_t& dest) override {
        static constexpr std::string_view kNames[] = {"trace", "debug",    "info", "warn",
                                                      "error", "critical", "off"};
        const auto index = static_cast<std::size_t>(msg.level);
        dest.append(index < std::size(kNames) ? kNames[index] : std::string_view("info"));
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<LevelName>();
    }
};

// `%v` cut to the line budget (text format).
class CutMessage final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg,
                const std::tm&,
                spdlog::memory_buf_t& dest) override {
        constexpr std::size_t kBudget = kMaxLineBytes - 64;
        std::string_view text(msg.payload.data(), msg.payload.size());
        if (text.size() <= kBudget) return dest.append(text);
        dest.append(text.substr(0, kBudget));
        dest.append(kCut);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<CutMessage>();
    }
};

thread_local const Fields* current_fields = nullptr;

// Appends `value` as the inside of a JSON string (the same escaping as %j, without the cut).
void append_json_string(spdlog::memory_buf_t& dest, std::string_view value) {
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            dest.push_back('\\');
            dest.push_back(c);
        } else if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u));
            dest.append(std::string_view(buf));
        } else {
            dest.push_back(c);
        }
    }
}

// `%F`: the line's fields. JSON: `,"call_id":"..."` members; text: a `[call=..]` prefix.
class LineFields final : public spdlog::custom_flag_formatter {
public:
    explicit LineFields(bool json) : json_(json) {}
    void format(const spdlog::details::log_msg&,
                const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const Fields* f = current_fields;
        if (f == nullptr) return;
        const std::pair<std::string_view, std::string_view> members[] = {
            {json_ ? "call_id" : "call", f->call_id},
            {json_ ? "org_id" : "org", f->org_id},
            {json_ ? "trunk_id" : "trunk", f->trunk_id},
            {json_ ? "sip_call_id" : "sip", f->sip_call_id},
            {"reason", f->reason},
            {"source", f->source},
            {json_ ? "request_id" : "req", f->request_id}};
        for (const auto& [name, value] : members) {
            if (value.empty()) continue;
            // Values are ids and codes; a network value (a Call-ID) is bounded here too.
            const auto bounded = value.substr(0, kMaxValueBytes);
            if (json_) {
                dest.append(std::string_view(",\""));
                dest.append(name);
                dest.append(std::string_view("\":\""));
                append_json_string(dest, bounded);
                dest.push_back('"');
            } else {
                dest.push_back('[');
                dest.append(name);
                dest.push_back('=');
                dest.append(clip(bounded));
                dest.push_back(']');
            }
        }
        if (!json_) dest.push_back(' ');
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<LineFields>(json_);
    }

private:
    bool json_;
};

struct RateWindow {
    std::chrono::steady_clock::time_point start;
    int logged = 0;
    int suppressed = 0;
};

constexpr int kMaxPerSecond = 10;
constexpr std::size_t kMaxTracked = 1024;

std::mutex rate_mutex;
std::unordered_map<std::string, RateWindow> rate_windows;

}  // namespace

bool init(Format format, std::string_view level) {
    const auto parsed = spdlog::level::from_str(std::string(level));
    if (parsed == spdlog::level::off && level != "off") return false;
    auto logger = spdlog::get("trunkline");
    if (!logger) logger = spdlog::stderr_color_mt("trunkline");
    spdlog::set_default_logger(logger);
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<LevelName>('k');
    formatter->add_flag<LineFields>('F', format == Format::kJson);
    if (format == Format::kJson) {
        formatter->add_flag<JsonEscapedMessage>('j').set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%k"%F,"msg":"%j"})");
    } else {
        // 'q': a letter spdlog's own pattern flags leave free (its %m is the month).
        formatter->add_flag<CutMessage>('q').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%k%$ %F%q");
    }
    logger->set_formatter(std::move(formatter));
    spdlog::set_level(parsed);
    return true;
}

std::string clip(std::string_view value, std::size_t max) {
    std::string out;
    out.reserve(std::min(value.size(), max) + 16);
    for (std::size_t i = 0; i < value.size() && i < max; ++i) {
        const auto u = static_cast<unsigned char>(value[i]);
        if (u < 0x20 || u >= 0x7f || value[i] == '\\') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
            out += buf;
        } else {
            out.push_back(value[i]);
        }
    }
    if (value.size() > max) out += fmt::format("...({} bytes)", value.size());
    return out;
}

namespace detail {

void log_with_fields(const Fields& fields, spdlog::level::level_enum level, std::string message) {
    const Fields* outer = std::exchange(current_fields, &fields);
    spdlog::log(level, "{}", message);
    current_fields = outer;
}

}  // namespace detail

void rate_limited_message(std::string_view key,
                          spdlog::level::level_enum level,
                          std::string message,
                          const Fields* fields) {
    const auto now = std::chrono::steady_clock::now();
    int suppressed = 0;
    {
        std::lock_guard lock(rate_mutex);
        if (rate_windows.size() > kMaxTracked) rate_windows.clear();
        auto& window = rate_windows[std::string(key)];
        if (now - window.start >= std::chrono::seconds(1)) {
            suppressed = window.suppressed;
            window = {now, 0, 0};
        }
        if (window.logged >= kMaxPerSecond) {
            ++window.suppressed;
            return;
        }
        ++window.logged;
    }
    if (suppressed > 0) message += fmt::format(" ({} more like it suppressed)", suppressed);
    if (fields) return detail::log_with_fields(*fields, level, std::move(message));
    spdlog::log(level, "{}", message);
}

}  // namespace tl::log
