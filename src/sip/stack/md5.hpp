#pragma once
// MD5 hex digest for digest authentication (sofia-sip's implementation; libsodium has no MD5).

#include <string>
#include <string_view>

namespace tl::sip {

std::string md5_hex(std::string_view data);

}  // namespace tl::sip
