#include "sip/stack/stack_version.hpp"

#include <sofia-sip/nua.h>

namespace tl::sip {

std::string_view stack_version() {
    return nua_version;
}

}  // namespace tl::sip
