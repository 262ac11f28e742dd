#include "common/ids.hpp"

#include <sodium.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace tl {
namespace {

void ensure_sodium() {
    static const bool ready = [] {
        if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
        return true;
    }();
    (void)ready;
}

}  // namespace

std::string new_uuid() {
    ensure_sodium();
    std::array<unsigned char, 16> b{};
    randombytes_buf(b.data(), b.size());
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

std::string random_token(std::size_t bytes) {
    ensure_sodium();
    static constexpr std::string_view kAlphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // ceil(bytes * 8 / log2(62)) characters carry at least `bytes` bytes of entropy; drawing each
    // character uniformly avoids the bias of converting a big number.
    const std::size_t chars = (bytes * 8 * 1000 + 5953) / 5954;
    std::string out;
    out.reserve(chars);
    for (std::size_t i = 0; i < chars; ++i) out.push_back(kAlphabet[randombytes_uniform(62)]);
    return out;
}

bool is_uuid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

}  // namespace tl
