#include "sip/stack/sofia_log.hpp"

#include <sofia-sip/su_log.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

#include "common/log.hpp"
#include "sip/stack/sofia.hpp"

extern "C" {
extern su_log_t nua_log[];
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t sresolv_log[];
extern su_log_t soa_log[];
extern su_log_t iptsec_log[];
}

namespace tl::sip {
namespace {

// sofia writes a line in several calls; a line is logged once complete. Each thread has its
// own partial line (the SIP thread, sofia's resolver thread).
thread_local std::string partial_line;

constexpr std::size_t kMaxLine = 2048;  // sofia may dump whole messages at trace level

void log_sofia(void* stream, char const* format, va_list args) {
    const auto level =
        static_cast<spdlog::level::level_enum>(reinterpret_cast<std::intptr_t>(stream));
    char buffer[1024];
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(buffer, sizeof buffer, format, copy);
    va_end(copy);
    if (n < 0) return;
    if (static_cast<std::size_t>(n) < sizeof buffer) {
        partial_line.append(buffer, static_cast<std::size_t>(n));
    } else {
        std::string large(static_cast<std::size_t>(n) + 1, '\0');
        std::vsnprintf(large.data(), large.size(), format, args);
        large.resize(static_cast<std::size_t>(n));
        partial_line += large;
    }
    if (partial_line.empty() || partial_line.back() != '\n') {
        if (partial_line.size() < kMaxLine) return;
    }
    while (!partial_line.empty() && (partial_line.back() == '\n' || partial_line.back() == '\r')) {
        partial_line.pop_back();
    }
    if (!partial_line.empty()) {
        // The printf format names the condition (its arguments vary: addresses, pointers).
        tl::log::rate_limited(format, level, "sofia: {}", tl::log::clip(partial_line, kMaxLine));
    }
    partial_line.clear();
}

// Our level -> the sofia level whose messages are worth it, and the level we log them at.
// sofia: 0 fatal, 1 critical, 2 non-critical errors, 3 warnings and progress, 5 protocol
// actions, 7 media, 9 memory.
struct Mapping {
    unsigned sofia_level;
    spdlog::level::level_enum our_level;
};

Mapping mapping_for(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return {9, spdlog::level::trace};
        case spdlog::level::debug:
            return {5, spdlog::level::debug};
        case spdlog::level::info:
        case spdlog::level::warn:
            return {1, spdlog::level::warn};
        default:
            return {0, spdlog::level::err};
    }
}

}  // namespace

void redirect_sofia_logs(spdlog::level::level_enum level) {
    const auto mapping = mapping_for(level);
    void* stream = reinterpret_cast<void*>(static_cast<std::intptr_t>(mapping.our_level));
    for (su_log_t* log : {su_log_default, su_log_global, nua_log, nta_log, tport_log, sresolv_log,
                          soa_log, iptsec_log}) {
        su_log_redirect(log, &log_sofia, stream);
        su_log_set_level(log, mapping.sofia_level);
    }
}

}  // namespace tl::sip
