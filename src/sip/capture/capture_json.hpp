#pragma once
// A call's SIP capture as the JSON document that GET /calls/{id}/sip answers with and that the
// store keeps when the call ends:
//
//   {"messages": [{"timestamp": "2026-12-07T19:13:46.123456Z", "direction": "in" | "out",
//                  "transport": "udp" | "tcp" | "tls", "local_address": "127.0.0.1:5060",
//                  "remote_address": "[::1]:5070", "raw": "INVITE sip:..."}, ...],
//    "truncated": false}
//
// Messages oldest first; timestamps UTC with microseconds; IPv6 addresses in brackets (RFC 3986
// §3.2.2). Bytes of `raw` that are not UTF-8 are written as U+FFFD (JSON text is UTF-8, RFC 8259
// §8.1), so a capture with binary content does not round-trip byte for byte.
// Pure functions: thread-safe.

#include <boost/json/object.hpp>
#include <string_view>

#include "common/error.hpp"
#include "sip/capture/capture_snapshot.hpp"

namespace tl::sip {

boost::json::object capture_to_json(const CaptureSnapshot& snapshot);

// Reads a document written by capture_to_json (members it does not know are ignored).
// kInvalidJson, naming the field, for anything else; never throws on malformed input.
Result<CaptureSnapshot> capture_from_json(std::string_view json);

}  // namespace tl::sip
