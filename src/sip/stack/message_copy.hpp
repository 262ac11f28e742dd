#pragma once
// Copies what Trunkline needs out of a sofia-sip message into plain C++ values (SIP thread only).

#include "sip/sip_types.hpp"
#include "sip/stack/sofia.hpp"

namespace tl::sip {

InviteRequest copy_invite(nua_t* nua, DialogId dialog, sip_t const* sip);

}  // namespace tl::sip
