#include "common/clock.hpp"

#include <charconv>
#include <cstdio>

namespace tl {

std::string format_iso8601(SystemTime t) {
    using namespace std::chrono;
    const auto ms = time_point_cast<milliseconds>(t);
    const auto days = floor<std::chrono::days>(ms);
    const year_month_day ymd{days};
    const hh_mm_ss hms{ms - days};
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
                  static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()),
                  static_cast<long>(hms.subseconds().count()));
    return out;
}

std::string now_iso8601() {
    return format_iso8601(std::chrono::system_clock::now());
}

namespace {

bool read_int(std::string_view& s, std::size_t digits, int& out) {
    if (s.size() < digits) return false;
    for (std::size_t i = 0; i < digits; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    std::from_chars(s.data(), s.data() + digits, out);
    s.remove_prefix(digits);
    return true;
}

bool eat(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

std::optional<SystemTime> parse_iso8601(std::string_view s) {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    if (!read_int(s, 4, y) || !eat(s, '-') || !read_int(s, 2, mo) || !eat(s, '-') ||
        !read_int(s, 2, d)) {
        return std::nullopt;
    }
    // system_clock counts nanoseconds in 64 bits (years 1678-2262); call history needs far less,
    // and a year outside this range must be an error rather than an overflow.
    if (y < 1970 || y > 2199) return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    int offset_minutes = 0;
    if (!s.empty()) {
        if (!eat(s, 'T') && !eat(s, ' ')) return std::nullopt;
        if (!read_int(s, 2, h) || !eat(s, ':') || !read_int(s, 2, mi)) return std::nullopt;
        if (eat(s, ':')) {
            if (!read_int(s, 2, sec)) return std::nullopt;
            if (eat(s, '.')) {
                std::size_t n = 0;
                while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
                if (n == 0) return std::nullopt;
                int frac = 0;
                std::string_view digits = s.substr(0, std::min<std::size_t>(n, 3));
                std::from_chars(digits.data(), digits.data() + digits.size(), frac);
                for (std::size_t i = digits.size(); i < 3; ++i) frac *= 10;
                ms = frac;
                s.remove_prefix(n);
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
        if (eat(s, 'Z') || eat(s, 'z')) {
        } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
            const int sign = s.front() == '-' ? -1 : 1;
            s.remove_prefix(1);
            int oh = 0, om = 0;
            if (!read_int(s, 2, oh)) return std::nullopt;
            eat(s, ':');
            if (!read_int(s, 2, om)) return std::nullopt;
            offset_minutes = sign * (oh * 60 + om);
        }
        if (!s.empty()) return std::nullopt;
    }
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} -
           minutes{offset_minutes};
}

}  // namespace tl
