#pragma once
// The one way a fuzz target reports a broken invariant: print what broke and abort(), which
// libFuzzer records as a crash (and saves the input) and which fails a replay ctest.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tl::fuzz {

// `text` with non-printable bytes as \xNN, so an input with NULs or line breaks stays readable
// on one line.
inline std::string escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", byte);
            out += hex;
        }
    }
    return out;
}

[[noreturn]] inline void fail(const char* condition,
                              std::string_view detail,
                              const char* file,
                              int line) {
    const auto text = escaped(detail.substr(0, 16384));
    std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n  %s\n", file, line, condition,
                 text.c_str());
    std::abort();
}

}  // namespace tl::fuzz

// `detail` is anything convertible to std::string_view, e.g. the input being checked; it is
// printed escaped.
#define TL_FUZZ_CHECK(condition, detail)                                          \
    do {                                                                          \
        if (!(condition)) ::tl::fuzz::fail(#condition, (detail), __FILE__, __LINE__); \
    } while (false)
