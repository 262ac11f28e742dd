#pragma once
// The one place the sofia-sip C headers are included (with our magic types), for src/sip/stack.

#define SU_ROOT_MAGIC_T void
#define SU_WAKEUP_ARG_T void
#define NUA_MAGIC_T void
#define NUA_HMAGIC_T void

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>
