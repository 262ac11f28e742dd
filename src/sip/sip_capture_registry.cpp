#include "sip/sip_capture_registry.hpp"

namespace tl::sip {

namespace {
// Attached captures whose call ended without detaching are dropped this often.
constexpr std::size_t kSweepEvery = 4096;
}  // namespace

SipCaptureRegistry::SipCaptureRegistry(CaptureRegistryLimits limits) : limits_(limits) {}

void SipCaptureRegistry::set_exporter(Exporter exporter) {
    std::lock_guard lock(mutex_);
    exporter_ = std::move(exporter);
}

void SipCaptureRegistry::record(std::string_view sip_call_id, CapturedMessage message) {
    if (exporter_) exporter_(message, sip_call_id);
    const auto now = std::chrono::steady_clock::now();
    std::shared_ptr<CallCapture> capture;
    {
        std::lock_guard lock(mutex_);
        const std::string key(sip_call_id);
        if (++records_since_sweep_ >= kSweepEvery) {
            records_since_sweep_ = 0;
            std::erase_if(attached_, [](const auto& entry) { return entry.second.expired(); });
        }
        if (const auto it = attached_.find(key); it != attached_.end()) {
            capture = it->second.lock();
            if (!capture) attached_.erase(it);
        }
        if (!capture) {
            expire_pending(now);
            auto [it, inserted] = pending_.try_emplace(key);
            if (inserted) {
                it->second.first_seen = now;
                pending_order_.push_back(key);
                while (pending_.size() > limits_.max_pending_call_ids && !pending_order_.empty()) {
                    pending_.erase(pending_order_.front());
                    pending_order_.pop_front();
                }
            }
            auto found = pending_.find(key);
            if (found != pending_.end() &&
                found->second.messages.size() < limits_.max_pending_per_call_id) {
                found->second.messages.push_back(std::move(message));
            }
            return;
        }
    }
    capture->add(std::move(message));  // CallCapture has its own lock
}

void SipCaptureRegistry::attach(const std::string& sip_call_id,
                                const std::shared_ptr<CallCapture>& capture) {
    std::vector<CapturedMessage> earlier;
    {
        std::lock_guard lock(mutex_);
        attached_[sip_call_id] = capture;
        if (const auto it = pending_.find(sip_call_id); it != pending_.end()) {
            earlier = std::move(it->second.messages);
            pending_.erase(it);
        }
        // Added under the lock: a message recorded right after the attach must not overtake
        // the earlier ones.
        for (auto& message : earlier) capture->add(std::move(message));
    }
}

void SipCaptureRegistry::detach(const std::string& sip_call_id,
                                const std::shared_ptr<CallCapture>& capture) {
    std::lock_guard lock(mutex_);
    const auto it = attached_.find(sip_call_id);
    if (it != attached_.end() && it->second.lock() == capture) attached_.erase(it);
}

void SipCaptureRegistry::release(const std::string& sip_call_id,
                                 const std::shared_ptr<CallCapture>& capture) {
    std::lock_guard lock(mutex_);
    const auto it = attached_.find(sip_call_id);
    if (it == attached_.end() || it->second.lock() != capture) return;
    attached_.erase(it);
    auto messages = capture->snapshot().messages;
    auto [slot, inserted] = pending_.try_emplace(sip_call_id);
    if (inserted) {
        slot->second.first_seen = std::chrono::steady_clock::now();
        pending_order_.push_back(sip_call_id);
    }
    // Messages recorded since the detach (none, or a retransmission) come after these.
    for (auto& m : slot->second.messages) messages.push_back(std::move(m));
    if (messages.size() > limits_.max_pending_per_call_id) {
        messages.resize(limits_.max_pending_per_call_id);
    }
    slot->second.messages = std::move(messages);
}

std::size_t SipCaptureRegistry::attached_call_ids() const {
    std::lock_guard lock(mutex_);
    return attached_.size();
}

std::size_t SipCaptureRegistry::pending_call_ids() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
}

void SipCaptureRegistry::expire_pending(std::chrono::steady_clock::time_point now) {
    while (!pending_order_.empty()) {
        const auto it = pending_.find(pending_order_.front());
        if (it != pending_.end() && now - it->second.first_seen < limits_.pending_lifetime) break;
        if (it != pending_.end()) pending_.erase(it);
        pending_order_.pop_front();
    }
}

}  // namespace tl::sip
