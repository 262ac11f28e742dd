#pragma once
// sofia-sip's own diagnostics (su_log: nua, nta, tport, sresolv, ...) go through our logger
// instead of straight to stderr, so `--log-format json` stays one JSON object per line and the
// operator chooses how much of it to see.

#include <spdlog/common.h>

namespace tl::sip {

// Redirects every sofia-sip log to spdlog at a sofia level matching `level` (info: sofia's
// errors only; debug: protocol actions; trace: everything). Call once, before the stack starts.
void redirect_sofia_logs(spdlog::level::level_enum level);

}  // namespace tl::sip
