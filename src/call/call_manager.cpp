#include "call/call_manager.hpp"

#include "call/call.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "sip/dialled_number.hpp"

#include <boost/asio/post.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

namespace tl::call {

namespace asio = boost::asio;

CallManager::CallManager(boost::asio::io_context& io,
                         store::Store& store,
                         sip::InboundRouter& router,
                         voice::SpeechService& speech,
                         const store::SecretBox& secrets,
                         std::shared_ptr<media::PortPool> ports,
                         metrics::Registry& metrics,
                         CallManagerConfig config)
    : io_(io),
      store_(store),
      router_(router),
      speech_(speech),
      voice_(io.get_executor(), store, secrets),
      hooks_strand_(boost::asio::make_strand(io)),
      hooks_client_(hooks_strand_,
                    config.webhook_tls.value_or(net::TlsClientContext::system_default()), 8),
      secrets_(secrets),
      ports_(std::move(ports)),
      config_(std::move(config)),
      active_calls_(metrics.gauge("trunkline_active_calls", "Calls being set up or in progress.")),
      dialogs_(metrics.gauge("trunkline_sip_dialogs", "SIP dialogs the stack holds.")),
      rtp_ports_(metrics.gauge("trunkline_rtp_ports_in_use", "RTP and RTCP ports in use.")),
      calls_total_(metrics.counter("trunkline_calls_total", "Inbound INVITEs received.")),
      rejected_overload_(metrics.counter("trunkline_calls_rejected_overload_total",
                                         "INVITEs answered 503 because of the call limits.")),
      refused_recorded_(metrics.counter("trunkline_calls_refused_recorded_total",
                                        "Refused INVITEs of known trunks stored as failed calls.")),
      refused_unrecorded_(metrics.counter(
          "trunkline_calls_refused_unrecorded_total",
          "Refused INVITEs of known trunks not stored because more than the per-second limit "
          "arrived.")),
      trunk_metrics_(metrics) {}

CallManager::~CallManager() = default;

void CallManager::attach(sip::SipStack& stack, sip::SipCaptureRegistry* capture) {
    stack_ = &stack;
    capture_registry_ = capture;
}

std::optional<sip::CaptureSnapshot> CallManager::live_sip_capture(const std::string& org_id,
                                                                  const std::string& call_id) {
    if (auto call = find_by_id(org_id, call_id)) return call->sip_capture();
    std::shared_ptr<sip::CallCapture> recent;
    {
        std::lock_guard lock(mutex_);
        const auto it = recent_captures_.find(call_id);
        if (it == recent_captures_.end() || it->second.org_id != org_id) return std::nullopt;
        recent = it->second.capture;
    }
    return recent->snapshot();
}

void CallManager::keep_recent_capture(const std::string& org_id,
                                      const std::string& call_id,
                                      std::shared_ptr<sip::CallCapture> capture) {
    std::lock_guard lock(mutex_);
    recent_captures_[call_id] = {org_id, std::move(capture)};
}

void CallManager::forget_recent_capture(const std::string& call_id) {
    std::lock_guard lock(mutex_);
    recent_captures_.erase(call_id);
}

bool CallManager::admit() {
    std::lock_guard lock(mutex_);
    if (static_cast<int>(by_dialog_.size()) >= config_.max_concurrent_calls) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - rate_window_start_ >= std::chrono::seconds(1)) {
        rate_window_start_ = now;
        rate_window_count_ = 0;
    }
    if (rate_window_count_ >= config_.max_calls_per_second) return false;
    ++rate_window_count_;
    return true;
}

void CallManager::on_invite(const sip::InviteRequest& invite) {
    dialogs_.add(1);
    calls_total_.inc();
    if (!admit()) {
        // Refuse new calls rather than degrade every call in progress.
        rejected_overload_.inc();
        stack_->reply(invite.dialog, {503, {}, {{"Retry-After", "2"}}, {}});
        // A known IP trunk's refused call is recorded, off the SIP thread (the store).
        asio::post(io_, [self = shared_from_this(), invite] {
            if (auto trunk = self->router_.trunk_by_address(invite.source_ip)) {
                self->record_refused(new_uuid(), invite, *trunk, "overload", 503);
            }
        });
        return;
    }
    auto call = std::make_shared<Call>(*this, invite);
    {
        std::lock_guard lock(mutex_);
        by_dialog_[invite.dialog] = call;
    }
    active_calls_.add(1);
    call->start();
}

void CallManager::on_reinvite(sip::DialogId dialog, const sip::InviteRequest& invite) {
    if (auto call = find(dialog)) {
        call->on_reinvite(invite);
    } else {
        stack_->reply(dialog, {481, {}, {}, {}});
    }
}

void CallManager::on_ack(sip::DialogId dialog, const std::string& sdp) {
    if (auto call = find(dialog)) call->on_ack(sdp);
}

void CallManager::on_session_timer_expired(sip::DialogId dialog, bool bye_sent) {
    if (auto call = find(dialog)) call->on_session_timer_expired(dialog, bye_sent);
}

void CallManager::on_info_dtmf(sip::DialogId dialog, char digit, int duration_ms) {
    if (auto call = find(dialog)) call->on_digit(digit, duration_ms, "info");
}

void CallManager::on_cancel(sip::DialogId dialog) {
    if (auto call = find(dialog)) call->on_cancel();
}

void CallManager::on_bye(sip::DialogId dialog) {
    if (auto call = find(dialog)) call->on_bye(dialog);
}

void CallManager::on_terminated(sip::DialogId dialog, int status, const std::string& phrase) {
    dialogs_.add(-1);
    if (auto call = find(dialog)) call->on_terminated(dialog, status, phrase);
}

void CallManager::on_response(sip::DialogId dialog,
                              int status,
                              const std::string& phrase,
                              const std::string& sdp,
                              sip::ResponseOrigin origin) {
    if (auto call = find(dialog)) call->on_leg_response(dialog, status, phrase, sdp, origin);
}

void CallManager::on_auth_challenge(sip::DialogId dialog,
                                    int status,
                                    const std::string& realm,
                                    bool answered) {
    if (auto call = find(dialog)) call->on_leg_challenge(dialog, status, realm, answered);
}

void CallManager::on_refer_progress(sip::DialogId dialog, int status, bool from_notify) {
    if (auto call = find(dialog)) call->on_refer_progress(status, from_notify);
}

void CallManager::attach_leg(sip::DialogId dialog, const std::shared_ptr<Call>& call) {
    dialogs_.add(1);
    std::lock_guard lock(mutex_);
    legs_[dialog] = call;
}

void CallManager::forget_leg(sip::DialogId dialog) {
    std::lock_guard lock(mutex_);
    legs_.erase(dialog);
}

std::shared_ptr<Call> CallManager::find(sip::DialogId dialog) const {
    std::lock_guard lock(mutex_);
    if (const auto it = by_dialog_.find(dialog); it != by_dialog_.end()) return it->second;
    if (const auto leg = legs_.find(dialog); leg != legs_.end()) return leg->second;
    return nullptr;
}

std::shared_ptr<Call> CallManager::find_by_id(const std::string& org_id,
                                              const std::string& call_id) const {
    std::lock_guard lock(mutex_);
    const auto it = by_id_.find(call_id);
    if (it == by_id_.end() || it->second->org_id() != org_id) return nullptr;
    return it->second;
}

void CallManager::register_call(const std::shared_ptr<Call>& call) {
    std::lock_guard lock(mutex_);
    by_id_[call->id()] = call;
}

void CallManager::forget(const Call& call) {
    bool removed = false;
    {
        std::lock_guard lock(mutex_);
        by_id_.erase(call.id());
        removed = by_dialog_.erase(call.dialog()) > 0;
    }
    if (removed) active_calls_.add(-1);
}

Status CallManager::end_call(const std::string& org_id,
                             const std::string& call_id,
                             const std::string& message) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->end_with_message(message);
    return {};
}

Status CallManager::transfer(const std::string& org_id,
                             const std::string& call_id,
                             const std::string& destination,
                             const std::string& message) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->transfer(destination, message);
    return {};
}

Status CallManager::transfer_to_tool_destination(const std::string& org_id,
                                                 const std::string& call_id,
                                                 std::size_t index) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->transfer_to_tool_destination(index);
    return {};
}

// A call waits at most this long for its trunk's pace; beyond, it is refused (rate_limited).
constexpr auto kMaxPaceWait = std::chrono::seconds(5);

Result<std::chrono::milliseconds> CallManager::reserve_trunk_slot(const store::SipTrunk& trunk) {
    std::lock_guard lock(mutex_);
    auto& pace = trunk_pace_[trunk.id];
    if (trunk.max_concurrent_calls && pace.active >= *trunk.max_concurrent_calls) {
        return make_error(Errc::kRateLimited,
                          fmt::format("trunk {} is at its max_concurrent_calls ({})", trunk.id,
                                      *trunk.max_concurrent_calls));
    }
    const auto now = std::chrono::steady_clock::now();
    auto slot = now;
    if (trunk.max_calls_per_second && *trunk.max_calls_per_second > 0) {
        slot = std::max(now, pace.next_slot);
        if (slot - now > kMaxPaceWait) {
            return make_error(Errc::kRateLimited,
                              fmt::format("trunk {} is at its max_calls_per_second ({})", trunk.id,
                                          *trunk.max_calls_per_second));
        }
        pace.next_slot = slot + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(1.0 / *trunk.max_calls_per_second));
    }
    ++pace.active;
    return std::chrono::duration_cast<std::chrono::milliseconds>(slot - now);
}

Result<std::string> CallManager::dial(OutboundCallRequest request) {
    if (stack_ == nullptr) return make_error(Errc::kUnavailable, "SIP is not running");
    {
        std::lock_guard lock(mutex_);
        if (static_cast<int>(by_dialog_.size()) >= config_.max_concurrent_calls) {
            return make_error(Errc::kUnavailable, "the server is at its max concurrent calls");
        }
    }
    auto wait = reserve_trunk_slot(request.trunk);
    if (!wait) return wait.error();
    calls_total_.inc();
    auto call = std::make_shared<Call>(*this, std::move(request));
    if (auto st = call->prepare_outbound(*wait); !st) {
        outbound_ended(*call);
        return st.error();
    }
    register_call(call);
    call->dial(*wait);
    return call->id();
}

void CallManager::attach_outbound(sip::DialogId dialog, const std::shared_ptr<Call>& call) {
    dialogs_.add(1);
    active_calls_.add(1);
    std::lock_guard lock(mutex_);
    by_dialog_[dialog] = call;
}

void CallManager::outbound_ended(const Call& call) {
    std::lock_guard lock(mutex_);
    if (auto it = trunk_pace_.find(call.trunk_id()); it != trunk_pace_.end() && it->second.active > 0) {
        --it->second.active;
    }
}

Status CallManager::end_call_tool(const std::string& org_id, const std::string& call_id) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->end_call_tool();
    return {};
}

Status CallManager::inject_context(const std::string& org_id,
                                  const std::string& call_id,
                                  const std::string& text,
                                  bool trigger_response) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->inject_context(text, trigger_response);
    return {};
}

Status CallManager::say(const std::string& org_id,
                        const std::string& call_id,
                        const std::string& text,
                        bool end_after) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->say(text, end_after);
    return {};
}

Status CallManager::send_dtmf(const std::string& org_id,
                              const std::string& call_id,
                              const std::string& digits) {
    auto call = find_by_id(org_id, call_id);
    if (!call) return make_error(Errc::kNotFound, "call is not live");
    call->send_digits(digits);
    return {};
}

// More refused calls a second than this are counted, not stored: a flood from a known trunk's
// address must not fill the database.
constexpr int kMaxRefusedRecordsPerSecond = 20;

bool CallManager::record_refused(const std::string& call_id,
                                 const sip::InviteRequest& invite,
                                 const store::SipTrunk& trunk,
                                 std::string end_reason,
                                 int sip_status) {
    trunk_metrics_.call_ended(trunk.id, "inbound", end_reason);
    {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (now - refused_window_start_ >= std::chrono::seconds(1)) {
            refused_window_start_ = now;
            refused_window_count_ = 0;
        }
        if (refused_window_count_ >= kMaxRefusedRecordsPerSecond) {
            refused_unrecorded_.inc();
            return false;
        }
        ++refused_window_count_;
    }
    store::Call record;
    record.id = call_id;
    record.org_id = trunk.org_id;
    record.direction = "inbound";
    record.status = "failed";
    if (!invite.from_user.empty()) record.caller_phone = invite.from_user;
    if (auto dialled = sip::normalise_dialled_number(
            invite.request_user, trunk.country_code.value_or(""))) {
        record.assistant_phone = *dialled;
    }
    record.trunk_id = trunk.id;
    record.end_reason = std::move(end_reason);
    record.sip_status = sip_status;
    record.sip_call_id = invite.call_id;
    record.created_at = record.updated_at = now_iso8601();
    record.ended_at = record.created_at;
    if (auto st = store_.create_call(record); !st) {
        log::Fields fields;
        fields.call_id = call_id;
        fields.org_id = trunk.org_id;
        fields.trunk_id = trunk.id;
        log::with_fields(fields, spdlog::level::warn, "cannot store the refused call: {}",
                         st.error().message);
        return false;
    }
    refused_recorded_.inc();
    return true;
}

int CallManager::active_calls() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(by_dialog_.size());
}

void CallManager::shutdown(std::chrono::milliseconds timeout) {
    std::vector<std::shared_ptr<Call>> calls;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [dialog, call] : by_dialog_) calls.push_back(call);
    }
    for (auto& call : calls) call->hang_up("shutdown");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (active_calls() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace tl::call
