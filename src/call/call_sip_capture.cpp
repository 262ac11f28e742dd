// The call's SIP capture (docs/troubleshooting.md): which Call-IDs it follows, and storing it
// with the call record. Member functions of Call, on the call's strand (follow_sip_call_id also
// from the constructor).

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "sip/capture/capture_json.hpp"
#include "sip/sip_capture_registry.hpp"

#include <boost/json/serialize.hpp>

namespace tl::call {

namespace {
// The last messages of a call (the 200 to our BYE, the ACK of our refusal, a retransmission)
// arrive within a round trip or two of its end; the capture is stored again after this.
constexpr auto kCaptureTail = std::chrono::seconds(2);
}  // namespace

void Call::follow_sip_call_id(const std::string& sip_call_id) {
    if (manager_.capture_registry_ == nullptr || sip_call_id.empty()) return;
    manager_.capture_registry_->attach(sip_call_id, capture_);
    capture_call_ids_.push_back(sip_call_id);
}

void Call::persist_capture() {
    if (!capture_stored_ || manager_.capture_registry_ == nullptr) return;
    store::CallSipCapture stored;
    stored.call_id = id_;
    stored.org_id = org_id_;
    stored.stored_at = now_iso8601();
    stored.capture_json = boost::json::serialize(sip::capture_to_json(capture_->snapshot()));
    if (auto st = manager_.store_.save_call_capture(stored); !st) {
        log::with_fields(log_fields(), spdlog::level::warn, "cannot store the SIP capture: {}",
                         st.error().message);
    }
}

void Call::release_capture() {
    if (manager_.capture_registry_ == nullptr) return;
    for (const auto& id : capture_call_ids_) manager_.capture_registry_->release(id, capture_);
    capture_call_ids_.clear();
}

void Call::persist_capture_later() {
    // One store write per call, once the tail is in; until then the API reads the capture from
    // the manager's recently ended calls.
    if (capture_stored_) manager_.keep_recent_capture(org_id_, id_, capture_);
    capture_timer_ = std::make_unique<boost::asio::steady_timer>(strand_, kCaptureTail);
    capture_timer_->async_wait([self = shared_from_this()](boost::system::error_code) {
        // Also on cancellation (shutdown): store what there is, and stop following.
        self->persist_capture();
        self->manager_.forget_recent_capture(self->id_);
        if (self->manager_.capture_registry_ != nullptr) {
            for (const auto& id : self->capture_call_ids_) {
                self->manager_.capture_registry_->detach(id, self->capture_);
            }
        }
        self->capture_call_ids_.clear();
    });
}

log::Fields Call::log_fields(std::string_view reason) const {
    log::Fields fields;
    fields.call_id = id_;
    fields.org_id = org_id_;
    if (route_) fields.trunk_id = route_->trunk.id;
    fields.sip_call_id = invite_.call_id;
    fields.reason = reason;
    return fields;
}

}  // namespace tl::call
