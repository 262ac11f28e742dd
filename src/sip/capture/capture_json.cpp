#include "sip/capture/capture_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "sip/capture/utf8.hpp"

namespace tl::sip {
namespace {

using std::chrono::system_clock;

std::string format_timestamp(system_clock::time_point t) {
    using namespace std::chrono;
    const auto us = floor<microseconds>(t);
    const auto days = floor<std::chrono::days>(us);
    const year_month_day ymd{days};
    const hh_mm_ss hms{us - days};
    char out[40];
    std::snprintf(
        out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%06ldZ", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
        static_cast<long>(hms.seconds().count()), static_cast<long>(hms.subseconds().count()));
    return out;
}

bool read_digits(std::string_view& s, std::size_t n, int& out) {
    if (s.size() < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    s.remove_prefix(n);
    return true;
}

bool eat(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

// "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the form format_timestamp writes (any 1-9 fraction digits,
// so a hand-edited document with milliseconds reads too).
std::optional<system_clock::time_point> parse_timestamp(std::string_view s) {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!read_digits(s, 4, y) || !eat(s, '-') || !read_digits(s, 2, mo) || !eat(s, '-') ||
        !read_digits(s, 2, d) || !eat(s, 'T') || !read_digits(s, 2, h) || !eat(s, ':') ||
        !read_digits(s, 2, mi) || !eat(s, ':') || !read_digits(s, 2, sec)) {
        return std::nullopt;
    }
    long long fraction_us = 0;
    if (eat(s, '.')) {
        std::size_t n = 0;
        long long scale = 100'000;
        while (n < s.size() && n < 9 && s[n] >= '0' && s[n] <= '9') {
            fraction_us += (s[n] - '0') * scale;
            scale /= 10;
            ++n;
        }
        if (n == 0) return std::nullopt;
        s.remove_prefix(n);
    }
    if (!eat(s, 'Z') || !s.empty()) return std::nullopt;
    // Within what system_clock's 64-bit nanoseconds hold (1678-2262), with room to spare.
    if (y < 1900 || y > 2200 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    const auto t =
        sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + microseconds{fraction_us};
    return time_point_cast<system_clock::duration>(t);
}

// RFC 3986 §3.2.2: an IPv6 literal is written in brackets so its colons are not the port's.
std::string format_address(std::string_view ip, int port) {
    std::string out;
    if (ip.find(':') != std::string_view::npos) {
        out.append("[").append(ip).append("]");
    } else {
        out.append(ip);
    }
    return out.append(":").append(std::to_string(port));
}

struct Address {
    std::string ip;
    int port = 0;
};

std::optional<Address> parse_address(std::string_view s) {
    std::string_view ip;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        const std::size_t close = s.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        ip = s.substr(1, close - 1);
        port = s.substr(close + 2);
        if (ip.find_first_of("[]") != std::string_view::npos) return std::nullopt;
    } else {
        const std::size_t colon = s.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        ip = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (ip.find_first_of(":[]") != std::string_view::npos) return std::nullopt;
    }
    Address address{std::string(ip), 0};
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), address.port);
    if (ec != std::errc() || end != port.data() + port.size() || address.port > 65535) {
        return std::nullopt;
    }
    return address;
}

Error invalid(std::string what, std::string field) {
    return make_error(Errc::kInvalidJson, "SIP capture: " + what, std::move(field));
}

const boost::json::string* string_member(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value != nullptr ? value->if_string() : nullptr;
}

Result<CapturedMessage> message_from_json(const boost::json::value& value,
                                          const std::string& field) {
    const auto* object = value.if_object();
    if (object == nullptr) return invalid(field + " is not an object", field);
    const auto member = [&](std::string_view key) -> Result<std::string_view> {
        const auto* text = string_member(*object, key);
        if (text == nullptr) {
            return invalid(field + "." + std::string(key) + " is missing or not a string",
                           field + "." + std::string(key));
        }
        return std::string_view(*text);
    };
    CapturedMessage message;
    const auto timestamp = member("timestamp");
    if (!timestamp) return timestamp.error();
    const auto time = parse_timestamp(*timestamp);
    if (!time) return invalid(field + ".timestamp is not a UTC timestamp", field + ".timestamp");
    message.timestamp = *time;

    const auto direction = member("direction");
    if (!direction) return direction.error();
    if (*direction != "in" && *direction != "out") {
        return invalid(field + ".direction is neither \"in\" nor \"out\"", field + ".direction");
    }
    message.direction = *direction == "in" ? Direction::kIn : Direction::kOut;

    const auto transport = member("transport");
    if (!transport) return transport.error();
    message.transport = std::string(*transport);

    for (const bool local : {true, false}) {
        const std::string_view key = local ? "local_address" : "remote_address";
        const auto text = member(key);
        if (!text) return text.error();
        auto address = parse_address(*text);
        if (!address) {
            return invalid(field + "." + std::string(key) + " is not ip:port",
                           field + "." + std::string(key));
        }
        (local ? message.local_ip : message.remote_ip) = std::move(address->ip);
        (local ? message.local_port : message.remote_port) = address->port;
    }

    const auto raw = member("raw");
    if (!raw) return raw.error();
    message.raw = std::string(*raw);
    return message;
}

}  // namespace

boost::json::object capture_to_json(const CaptureSnapshot& snapshot) {
    boost::json::array messages;
    messages.reserve(snapshot.messages.size());
    for (const auto* m : oldest_first(snapshot)) {
        messages.emplace_back(boost::json::object{
            {"timestamp", format_timestamp(m->timestamp)},
            {"direction", m->direction == Direction::kIn ? "in" : "out"},
            {"transport", detail::to_valid_utf8(m->transport)},
            {"local_address", detail::to_valid_utf8(format_address(m->local_ip, m->local_port))},
            {"remote_address", detail::to_valid_utf8(format_address(m->remote_ip, m->remote_port))},
            {"raw", detail::to_valid_utf8(m->raw)},
        });
    }
    return boost::json::object{{"messages", std::move(messages)},
                               {"truncated", snapshot.truncated}};
}

Result<CaptureSnapshot> capture_from_json(std::string_view json) {
    boost::system::error_code ec;
    const boost::json::value document = boost::json::parse(json, ec);
    if (ec) return invalid("not valid JSON (" + ec.message() + ")", "");
    const auto* object = document.if_object();
    if (object == nullptr) return invalid("the document is not an object", "");
    const auto* messages = object->if_contains("messages");
    if (messages == nullptr || !messages->is_array()) {
        return invalid("messages is missing or not an array", "messages");
    }
    const auto* truncated = object->if_contains("truncated");
    if (truncated == nullptr || !truncated->is_bool()) {
        return invalid("truncated is missing or not a boolean", "truncated");
    }
    CaptureSnapshot snapshot;
    snapshot.truncated = truncated->get_bool();
    snapshot.messages.reserve(messages->get_array().size());
    for (std::size_t i = 0; i < messages->get_array().size(); ++i) {
        auto message =
            message_from_json(messages->get_array()[i], "messages[" + std::to_string(i) + "]");
        if (!message) return message.error();
        snapshot.messages.push_back(std::move(*message));
    }
    return snapshot;
}

}  // namespace tl::sip
