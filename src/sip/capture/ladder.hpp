#pragma once
// A call's SIP capture as a ladder diagram for an operator's terminal: one column per party,
// one row per message, oldest first, the time since the first message on the left.
//
//   trunkline = 10.0.0.5:5060
//                                     trunkline                       203.0.113.10:5060
//                                         |                                   |
//        +0.000s  UDP                     |<-------------INVITE---------------|
//        +1.234s  UDP                     |----------200 OK (INVITE)--------->|
//
// All of our own addresses are one column, "trunkline" (listed on the first line); each remote
// address:port is a column of its own. A request is labelled with its method, a response with its
// status, reason phrase and the CSeq method, shortened to fit the arrow (the status code always
// shows). Rows fit in 120 columns for up to four parties. Only printable ASCII is written, so a
// hostile message cannot send escape sequences to the operator's terminal.
// Pure function: thread-safe.

#include <string>

#include "sip/capture/capture_snapshot.hpp"

namespace tl::sip {

std::string render_ladder(const CaptureSnapshot& snapshot);

}  // namespace tl::sip
