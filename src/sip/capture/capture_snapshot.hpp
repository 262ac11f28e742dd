#pragma once
// A copy of one call's captured SIP messages, as CallCapture::snapshot() hands it to the
// renderings (JSON, ladder, pcap). Plain values: safe to use from any thread once copied.

#include <vector>

#include "sip/capture/captured_message.hpp"

namespace tl::sip {

struct CaptureSnapshot {
    std::vector<CapturedMessage> messages;
    bool truncated = false;  // later messages of the call were dropped (CallCapture's limits)
};

// The messages oldest first. Messages are added by the threads that send and receive them, so
// two close together can arrive out of order; the sort is stable, so equal timestamps keep the
// order they were added in.
std::vector<const CapturedMessage*> oldest_first(const CaptureSnapshot& snapshot);

}  // namespace tl::sip
