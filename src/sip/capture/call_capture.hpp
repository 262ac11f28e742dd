#pragma once
// The SIP messages of one call, kept in memory while the call runs and stored when it ends
// (GET /calls/{id}/sip). Bounded, because a peer decides how many messages a call has and how
// large they are: past either limit the message is dropped and the capture marked truncated.
// The oldest are kept, since the start of a call is what explains why it failed; once one
// message has been dropped every later one is too, so a capture is always a gap-free prefix of
// the call.
//
// Thread-safety: all members may be called from any thread (the SIP stack thread adds, the
// API reads snapshots).

#include <cstddef>
#include <mutex>
#include <vector>

#include "sip/capture/capture_snapshot.hpp"
#include "sip/capture/captured_message.hpp"

namespace tl::sip {

class CallCapture {
public:
    static constexpr std::size_t kMaxMessages = 200;
    static constexpr std::size_t kMaxBytes = 256 * 1024;  // of raw message text, all together

    explicit CallCapture(std::size_t max_messages = kMaxMessages,
                         std::size_t max_bytes = kMaxBytes);

    // `message.raw` must already be redacted (redact_sip_message).
    void add(CapturedMessage message);

    // The messages oldest first.
    CaptureSnapshot snapshot() const;

private:
    const std::size_t max_messages_;
    const std::size_t max_bytes_;
    mutable std::mutex mutex_;
    std::vector<CapturedMessage> messages_;  // guarded by mutex_
    std::size_t bytes_ = 0;                  // guarded by mutex_
    bool truncated_ = false;                 // guarded by mutex_
};

}  // namespace tl::sip
