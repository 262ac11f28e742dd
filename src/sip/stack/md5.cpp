#include "sip/stack/md5.hpp"

#include <sofia-sip/su_md5.h>

namespace tl::sip {

std::string md5_hex(std::string_view data) {
    su_md5_t ctx;
    su_md5_init(&ctx);
    su_md5_update(&ctx, data.data(), data.size());
    char hex[33] = {};
    su_md5_hexdigest(&ctx, hex);
    su_md5_deinit(&ctx);
    return std::string(hex, 32);
}

}  // namespace tl::sip
