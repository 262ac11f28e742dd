// Outbound calls (issue 7): the assistant calls someone through the organization's outbound
// trunk. The same Call runs the other way: we send the INVITE (digest answered once, caller ID,
// From user, P-Asserted-Identity and custom headers from the trunk), handle 180/183 (early media
// SDP starts our RTP), and on 200 the assistant speaks first_message_outbound (else
// first_message) and converses; every other outcome ends the call with a specific end_reason and
// the SIP status recorded. Member functions of Call, on the call's strand.

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "webhook/payloads.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tl::call {

namespace asio = boost::asio;
namespace json = boost::json;


Call::Call(CallManager& manager, OutboundCallRequest request)
    : manager_(manager),
      strand_(asio::make_strand(manager.io_)),
      id_(new_uuid()),
      org_id_(request.org_id),
      outbound_(true),
      outbound_first_message_(std::move(request.first_message)) {
    sip::AcceptedCall route;
    route.trunk = std::move(request.trunk);
    route.assistant = std::move(request.assistant);
    route.number = std::move(request.number);
    route.dialled = request.destination;  // whom we call
    route_ = std::move(route);
    invite_.call_id = id_;
}

// The caller ID presented: the trunk's approved one, else the number's.
static std::string caller_id_of(const sip::AcceptedCall& route) {
    if (route.trunk.caller_id) return *route.trunk.caller_id;
    if (route.number) return route.number->phone_number;
    return "anonymous";
}

Result<sip::OutboundInvite> Call::outbound_invite() {
    const auto& trunk = route_->trunk;
    const auto host = manager_.config_.media_public_ip;
    const std::string caller = caller_id_of(*route_);
    sip::OutboundInvite invite;
    invite.call_id = sip::new_call_id(host);
    invite.request_uri = fmt::format("sip:{}@{}:{}{}", route_->dialled, trunk.host, trunk.port,
                                     trunk.transport == "tcp" ? ";transport=tcp" : "");
    invite.from_uri = fmt::format("sip:{}@{}", trunk.from_user.value_or(caller), host);
    if (trunk.send_pai) {
        invite.headers.push_back({"P-Asserted-Identity", fmt::format("<sip:{}@{}>", caller, host)});
    }
    for (const auto& h : trunk.headers) invite.headers.push_back({h.name, h.value});
    if (trunk.auth_type == "digest" && trunk.password_sealed) {
        auto password = manager_.secrets_.unseal(*trunk.password_sealed);
        if (!password) return make_error(Errc::kInternal, "the trunk's password cannot be unsealed");
        invite.auth_username = trunk.auth_username.value_or(trunk.username.value_or(""));
        invite.auth_password = std::move(*password);
    }
    invite.sdp = media::render_offer(local_media_);
    begin_attempt(invite, fmt::format("{}:{}", trunk.host, trunk.port), trunk.host);
    return invite;
}

Status Call::prepare_outbound(std::chrono::milliseconds pace_delay) {
    // Before anything is posted: the record exists when the API answers with its id.
    auto lease = media::acquire_bindable(*manager_.ports_, manager_.config_.media_bind_ip);
    if (!lease) return lease.error();
    local_media_.address = manager_.config_.media_public_ip;
    local_media_.port = lease->rtp_port();
    local_media_.session_id = static_cast<std::uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffff);
    local_media_.session_version = local_media_.session_id;

    store::Call record;
    record.id = id_;
    record.org_id = org_id_;
    record.direction = "outbound";
    record.status = pace_delay.count() > 0 ? "queued" : "dialing";
    record.caller_phone = route_->dialled;  // the customer, as in inbound calls
    record.assistant_phone = caller_id_of(*route_);
    if (!route_->assistant.id.empty()) record.assistant_id = route_->assistant.id;
    if (route_->number) record.number_id = route_->number->id;
    record.trunk_id = route_->trunk.id;
    record.created_at = record.updated_at = now_iso8601();
    if (auto st = manager_.store_.create_call(record); !st) return st.error();
    record_ = std::move(record);
    capture_stored_ = true;
    outbound_lease_ = std::move(*lease);
    manager_.rtp_ports_.add(2);
    return {};
}

void Call::dial(std::chrono::milliseconds pace_delay) {
    asio::post(strand_, [self = shared_from_this(), pace_delay] {
        if (pace_delay.count() <= 0) return self->send_outbound_invite();
        // The trunk's max_calls_per_second: this call's turn comes a little later.
        self->ring_timer_ = std::make_unique<asio::steady_timer>(self->strand_, pace_delay);
        self->ring_timer_->async_wait([self](boost::system::error_code ec) {
            if (ec || self->state_ != State::kRouting) return;
            self->record_->status = "dialing";
            (void)self->manager_.store_.update_call(*self->record_);
            self->send_outbound_invite();
        });
    });
}

void Call::send_outbound_invite() {
    auto invite = outbound_invite();
    if (!invite) return outbound_failed({"local_error", std::nullopt, invite.error().message});
    // The record names the Call-ID the carrier sees; the capture follows it from the INVITE.
    record_->sip_call_id = invite->call_id;
    invite_.call_id = invite->call_id;
    follow_sip_call_id(invite->call_id);
    record_event("sip.invite", json::serialize(json::object{{"direction", "outbound"},
                                                            {"uri", invite->request_uri},
                                                            {"from", invite->from_uri}}));
    // Routable before the INVITE leaves (a fast answer would find nobody otherwise).
    invite_.dialog = manager_.stack_->invite(
        std::move(*invite), [this](sip::DialogId id) {
            manager_.attach_outbound(id, shared_from_this());
        });
    ring_timer_ = std::make_unique<asio::steady_timer>(strand_, manager_.config_.transfer_ring_timeout);
    ring_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->state_ != State::kRouting) return;
        // Nobody answered: CANCEL (its 487 arrives after we are done).
        self->manager_.stack_->bye(self->invite_.dialog);
        self->record_event("sip.cancel", R"({"reason":"ring_timeout"})");
        self->attempt_.ring_timeout = true;
        self->outbound_failed(self->attempt_failure(0, "", sip::ResponseOrigin::kLocal));
    });
}

void Call::on_outbound_response(int status,
                                const std::string& phrase,
                                const std::string& sdp,
                                sip::ResponseOrigin origin) {
    if (state_ != State::kRouting) return;
    record_event("sip.response",
                 json::serialize(json::object{{"status", status},
                                              {"phrase", phrase},
                                              {"from_network",
                                               origin == sip::ResponseOrigin::kNetwork}}));
    if (status < 200) {
        if (status == 180 || status == 183) {
            if (record_->status != "ringing") {
                record_->status = "ringing";
                record_->updated_at = now_iso8601();
                (void)manager_.store_.update_call(*record_);
            }
            // Early media (RFC 3960): our RTP starts, so the first audio is not lost.
            if (!sdp.empty()) (void)start_media_from_answer(sdp);
        }
        return;
    }
    if (status < 300) {
        if (!sdp.empty() || !rtp_) {
            if (auto st = start_media_from_answer(sdp); !st) {
                manager_.stack_->bye(invite_.dialog);
                return outbound_failed({"remote_error", status,
                                        "the callee answered with an SDP we cannot use: " +
                                            st.error().message});
            }
        }
        return outbound_answered();
    }
    outbound_failed(attempt_failure(status, phrase, origin));
}

void Call::outbound_failed(const FailureReason& failure) {
    if (ring_timer_) ring_timer_->cancel();
    if (record_) {
        record_->sip_status = failure.sip_code;
        record_->hint = failure.hint;
    }
    if (failure.reason == "auth_rejected" || failure.reason == "auth_required") {
        manager_.trunk_metrics_.auth_failure(route_->trunk.id);
    }
    // Busy, declined and unanswered calls reached the callee: they ended. The rest failed.
    const bool reached = failure.reason == "busy" || failure.reason == "no_answer" ||
                         (failure.reason == "rejected" && failure.sip_code != 403);
    finish(reached ? "ended" : "failed", failure.reason, reached ? std::string() : failure.hint);
}

// first_message of the request, else the assistant's first_message_outbound, else first_message.
std::string Call::opening_message() const {
    if (outbound_first_message_) return *outbound_first_message_;
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    if (ec || !doc.is_object()) return {};
    for (const char* key : {"first_message_outbound", "first_message"}) {
        const auto* m = doc.as_object().if_contains(key);
        if (m && m->is_string() && !m->as_string().empty()) return std::string(m->as_string());
    }
    return {};
}

void Call::outbound_answered() {
    if (ring_timer_) ring_timer_->cancel();
    state_ = State::kInProgress;  // the stack ACKs the 200 itself
    answered_at_ = std::chrono::steady_clock::now();
    if (transcript_.messages().empty()) {
        transcript_ = Transcript(answered_at_, std::chrono::system_clock::now());
    }
    record_->status = "in-progress";
    record_->started_at = now_iso8601();
    record_->updated_at = *record_->started_at;
    save_with_events({webhook::kStatusUpdate});
    log::with_fields(log_fields(), spdlog::level::info, "outbound answered by {}",
                     route_->dialled);
    const auto opening = opening_message();
    if (!opening.empty()) speak(opening, false);
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    if (!ec && doc.is_object()) {
        const auto* max = doc.as_object().if_contains("max_duration_seconds");
        if (max && max->is_int64()) max_duration_seconds_ = static_cast<int>(max->as_int64());
    }
    arm_max_duration();
    start_recording();
    start_conversation();
}

}  // namespace tl::call
