#pragma once
// Routes every SIP message the stack sends or receives to the capture of the call it belongs
// to, by SIP Call-ID. A call attaches each Call-ID of its dialogs (its own, each transfer leg's;
// REFER and NOTIFY share the call's). Messages of a Call-ID nobody has attached yet (the INVITE
// that creates a call arrives before the call exists) wait in a small, bounded pending set and
// move into the capture when it attaches; the rest (scanners, OPTIONS pings) age out.
//
// Thread-safety: every method may be called from any thread (one mutex; the SIP thread records,
// call strands attach and detach).

#include "sip/capture/call_capture.hpp"
#include "sip/capture/captured_message.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tl::sip {

struct CaptureRegistryLimits {
    std::size_t max_pending_call_ids = 1024;
    std::size_t max_pending_per_call_id = 32;
    std::chrono::seconds pending_lifetime{64};  // 64*T1: a transaction's whole life (RFC 3261 §17)
};

class SipCaptureRegistry {
public:
    // Sees every message with its Call-ID (HEP export); runs on the SIP thread, must not block.
    using Exporter = std::function<void(const CapturedMessage&, std::string_view sip_call_id)>;

    explicit SipCaptureRegistry(CaptureRegistryLimits limits = {});

    void record(std::string_view sip_call_id, CapturedMessage message);
    // From now on messages of `sip_call_id` go to `capture`; those already pending move there.
    // The registry holds the capture weakly: it ends with the call that owns it.
    void attach(const std::string& sip_call_id, const std::shared_ptr<CallCapture>& capture);
    // Stops routing `sip_call_id` to `capture` (if it still is: a newer call may have taken the
    // Call-ID over, as the authenticated INVITE after a digest challenge does).
    void detach(const std::string& sip_call_id, const std::shared_ptr<CallCapture>& capture);
    // Gives the Call-ID back: `capture`'s messages return to the pending set, for the call that
    // attaches it next (a challenged INVITE's exchange belongs to the call that follows it).
    void release(const std::string& sip_call_id, const std::shared_ptr<CallCapture>& capture);
    // Before the stack starts.
    void set_exporter(Exporter exporter);

    std::size_t attached_call_ids() const;
    std::size_t pending_call_ids() const;

private:
    struct Pending {
        std::vector<CapturedMessage> messages;
        std::chrono::steady_clock::time_point first_seen;
    };
    void expire_pending(std::chrono::steady_clock::time_point now);

    CaptureRegistryLimits limits_;
    Exporter exporter_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::weak_ptr<CallCapture>> attached_;
    std::unordered_map<std::string, Pending> pending_;
    std::deque<std::string> pending_order_;  // oldest first; may name Call-IDs already gone
    std::size_t records_since_sweep_ = 0;
};

}  // namespace tl::sip
