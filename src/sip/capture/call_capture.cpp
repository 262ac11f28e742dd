#include "sip/capture/call_capture.hpp"

#include <algorithm>
#include <utility>

namespace tl::sip {

CallCapture::CallCapture(std::size_t max_messages, std::size_t max_bytes)
    : max_messages_(max_messages), max_bytes_(max_bytes) {}

void CallCapture::add(CapturedMessage message) {
    const std::lock_guard lock(mutex_);
    if (truncated_ || messages_.size() >= max_messages_ ||
        message.raw.size() > max_bytes_ - bytes_) {
        truncated_ = true;
        return;
    }
    bytes_ += message.raw.size();
    messages_.push_back(std::move(message));
}

CaptureSnapshot CallCapture::snapshot() const {
    CaptureSnapshot snapshot;
    {
        const std::lock_guard lock(mutex_);
        snapshot.messages = messages_;
        snapshot.truncated = truncated_;
    }
    // Sorted outside the lock: the stack thread adding a message never waits for it.
    std::stable_sort(snapshot.messages.begin(), snapshot.messages.end(),
                     [](const auto& a, const auto& b) { return a.timestamp < b.timestamp; });
    return snapshot;
}

}  // namespace tl::sip
