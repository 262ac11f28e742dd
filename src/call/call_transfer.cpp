// Transfers of a call: bridge (an outbound leg with RTP relayed), REFER (RFC 3515) and the
// `auto` fallback between them. Member functions of Call, on the call's strand.

#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

namespace tl::call {

namespace asio = boost::asio;
namespace json = boost::json;

// The host of a sip:/sips: URI (for DNS hints): between '@' (or the scheme) and ':' ';' '>'.
static std::string uri_host(std::string_view uri) {
    auto rest = uri.substr(uri.find(':') + 1);
    if (const auto at = rest.find('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(1, rest.find(']') - 1));
    return std::string(rest.substr(0, rest.find_first_of(":;>?")));
}

// European ringback (425 Hz, 1 s on, 4 s off; ETSI TR 101 041) played while a transfer rings.
voice::PcmPtr ringback() {
    static const voice::PcmPtr tone = [] {
        auto pcm = std::make_shared<media::Pcm>(5 * 8000, 0);
        for (int i = 0; i < 8000; ++i) {
            (*pcm)[static_cast<std::size_t>(i)] =
                static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 425 * i / 8000.0));
        }
        return pcm;
    }();
    return tone;
}

void Call::on_leg_response(sip::DialogId dialog,
                           int status,
                           std::string phrase,
                           std::string sdp,
                           sip::ResponseOrigin origin) {
    asio::post(strand_, [self = shared_from_this(), dialog, status, phrase = std::move(phrase),
                         sdp = std::move(sdp), origin] {
        const bool ours = self->outbound_ && dialog == self->invite_.dialog;
        const bool leg = self->leg_ && dialog == self->leg_->dialog() &&
                         self->state_ == State::kTransferring;
        if (!ours && !leg) return;
        if (origin == sip::ResponseOrigin::kNetwork) {
            self->attempt_.responded = true;
            if (status == 180 || status == 183) self->attempt_.rang = true;
        }
        if (ours) return self->on_outbound_response(status, phrase, sdp, origin);
        self->record_event("transfer.response",
                           json::serialize(json::object{
                               {"status", status},
                               {"phrase", phrase},
                               {"from_network", origin == sip::ResponseOrigin::kNetwork}}));
        if (status < 200) {
            if (!sdp.empty()) self->on_early_media(sdp);
            return;
        }
        if (status < 300) {
            if (auto st = self->leg_->answered(sdp, self->rtp_); !st) {
                return self->transfer_failed(
                    {"remote_error", status,
                     "the destination answered with an SDP we cannot use: " + st.error().message});
            }
            return self->transfer_connected();
        }
        self->transfer_failed(self->attempt_failure(status, phrase, origin));
    });
}

void Call::begin_attempt(const sip::OutboundInvite& invite, std::string target, std::string host) {
    attempt_ = AttemptOutcome{};
    attempt_.target = std::move(target);
    attempt_.host = std::move(host);
    attempt_.credentials_configured = !invite.auth_username.empty();
    attempt_.username = invite.auth_username;
    attempt_.ring_timeout_seconds = static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(manager_.config_.transfer_ring_timeout)
            .count());
}

FailureReason Call::attempt_failure(int status,
                                    const std::string& phrase,
                                    sip::ResponseOrigin origin) {
    attempt_.status = status;
    attempt_.phrase = phrase;
    attempt_.origin = origin;
    return classify_failure(attempt_);
}

// The destination plays its own ringback or an announcement (183 Session Progress with SDP): the
// caller hears it instead of ours.
void Call::on_early_media(const std::string& sdp) {
    const bool first = !leg_->early_media();
    if (auto st = leg_->early_media(sdp, rtp_); !st) {
        record_event("transfer.early_media_ignored",
                     json::serialize(json::object{{"reason", st.error().message}}));
        return;
    }
    if (!first) return;
    rtp_->flush();  // our ringback stops; the destination's audio is mixed in from now on
    record_event("transfer.early_media", "{}");
}

void Call::on_leg_challenge(sip::DialogId dialog, int status, std::string realm, bool answered) {
    // The realm arrives as written in the header, quoted.
    if (realm.size() >= 2 && realm.front() == '"' && realm.back() == '"') {
        realm = realm.substr(1, realm.size() - 2);
    }
    asio::post(strand_, [self = shared_from_this(), dialog, status, realm = std::move(realm),
                         answered] {
        const bool ours = self->outbound_ && dialog == self->invite_.dialog;
        if (!ours && (!self->leg_ || dialog != self->leg_->dialog())) return;
        self->attempt_.responded = true;
        if (answered) self->attempt_.credentials_sent = true;
        if (self->outbound_ && dialog == self->invite_.dialog) {
            return self->record_event("sip.challenge",
                                      json::serialize(json::object{{"status", status},
                                                                   {"realm", realm},
                                                                   {"answered", answered}}));
        }
        self->record_event("transfer.challenge",
                           json::serialize(json::object{
                               {"status", status}, {"realm", realm}, {"answered", answered}}));
    });
}

void Call::transfer(std::string destination, std::string message) {
    asio::post(strand_, [self = shared_from_this(), destination = std::move(destination),
                         message = std::move(message)] {
        self->begin_transfer(destination, message, {}, {});
    });
}

void Call::begin_transfer(const std::string& destination,
                          const std::string& message,
                          std::string username,
                          std::string password) {
    // Until media runs (a late offer awaiting its ACK) there is nothing to bridge yet.
    if ((state_ != State::kInProgress && state_ != State::kAnswered) || !rtp_) return;
    transfer_trunk_id_.clear();
    destination_username_ = std::move(username);
    destination_password_ = std::move(password);
    state_ = State::kTransferring;
    transfer_ = json::object{{"destination", destination},
                             {"method", transfer_method()},
                             {"status", "requested"},
                             {"sip_code", nullptr},
                             {"reason", nullptr},
                             {"hint", nullptr},
                             {"sip_call_id", nullptr},
                             {"requested_at", now_iso8601()},
                             {"connected_at", nullptr}};
    save_transfer();
    record_event("transfer.requested",
                 json::serialize(json::object{{"destination", destination},
                                              {"method", transfer_.at("method")}}));
    rtp_->flush();
    const bool has_message = !message.empty();
    speak(message, false, [self = shared_from_this(), has_message] {
        if (self->state_ != State::kTransferring) return;
        if (has_message) self->record_event("transfer.message_played", "{}");
        if (self->transfer_.at("method").as_string() == "bridge") {
            self->dial_transfer();
        } else {
            self->send_refer();
        }
    });
}

// The number's transfer trunk decides how (bridge | refer | auto); without one, bridge.
std::string Call::transfer_method() {
    if (!route_ || !route_->number || !route_->number->transfer_trunk_id) return "bridge";
    auto trunk = manager_.store_.get_trunk(org_id_, *route_->number->transfer_trunk_id);
    return trunk ? trunk->transfer_method : "bridge";
}

// The Refer-To of a transfer (RFC 3515): a sip:, sips: or tel: destination as given; a number as
// sip:+E164@<transfer trunk host>[:port] (softphones and most PBXs take nothing else: linphone
// refuses a tel: Refer-To with 400), or tel:+E164 when the trunk says refer_uri "tel".
std::string Call::refer_target(const std::string& destination) {
    if (destination.rfind("sip:", 0) == 0 || destination.rfind("sips:", 0) == 0 ||
        destination.rfind("tel:", 0) == 0) {
        return destination;
    }
    if (route_ && route_->number && route_->number->transfer_trunk_id) {
        auto trunk = manager_.store_.get_trunk(org_id_, *route_->number->transfer_trunk_id);
        if (trunk && trunk->refer_uri != "tel") {
            const bool v6 = trunk->host.find(':') != std::string::npos;
            const auto host = v6 ? "[" + trunk->host + "]" : trunk->host;
            return trunk->port == 5060 ? fmt::format("sip:{}@{}", destination, host)
                                       : fmt::format("sip:{}@{}:{}", destination, host,
                                                     trunk->port);
        }
    }
    return "tel:" + destination;
}

void Call::send_refer() {
    const std::string destination(transfer_.at("destination").as_string());
    const std::string target = refer_target(destination);
    const std::string by = route_->dialled.empty() ? "trunkline" : route_->dialled;
    record_event("transfer.refer_sent", json::serialize(json::object{{"refer_to", target}}));
    manager_.stack_->refer(invite_.dialog, "<" + target + ">",
                           "<sip:" + by + "@" + manager_.config_.media_public_ip + ">");
    transfer_timer_ = std::make_unique<asio::steady_timer>(strand_, std::chrono::seconds(32));
    transfer_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
        // No final NOTIFY in time (RFC 3515 leaves it to the transferor): give up on REFER.
        if (!ec && self->state_ == State::kTransferring && !self->leg_) {
            self->refer_failed(0, false);
        }
    });
}

void Call::on_refer_progress(int status, bool from_notify) {
    asio::post(strand_, [self = shared_from_this(), status, from_notify] {
        if (self->state_ != State::kTransferring || self->leg_) return;
        self->record_event(from_notify ? "transfer.notify" : "transfer.refer_response",
                           json::serialize(json::object{{"status", status}}));
        if (status < 200 || (!from_notify && status < 300)) return;  // 202 or progress
        if (status >= 300) return self->refer_failed(status, from_notify);
        // The far end connected the caller to the target: our part is done.
        if (self->transfer_timer_) self->transfer_timer_->cancel();
        self->transfer_["status"] = "connected";
        self->transfer_["sip_code"] = status;
        self->transfer_["connected_at"] = now_iso8601();
        self->save_transfer();
        self->manager_.stack_->bye(self->invite_.dialog);
        self->record_event("sip.bye", R"({"from":"trunkline"})");
        self->finish("ended", "transferred");
    });
}

void Call::refer_failed(int sip_code, bool from_notify) {
    if (transfer_timer_) transfer_timer_->cancel();
    if (transfer_.at("method").as_string() == "auto") {
        // The far end refused REFER (405/501/403/603 or a failing NOTIFY): bridge instead.
        record_event("transfer.fallback", json::serialize(json::object{{"refer_status", sip_code}}));
        return dial_transfer();
    }
    transfer_failed(classify_refer_failure(
        sip_code, from_notify, refer_target(std::string(transfer_.at("destination").as_string()))));
}

void Call::transfer_to_tool_destination(std::size_t index) {
    asio::post(strand_, [self = shared_from_this(), index] {
        if (self->state_ != State::kInProgress && self->state_ != State::kAnswered) return;
        // The first transfer_call tool of the assistant.
        for (std::size_t position = 0;; ++position) {
            const auto tool = self->tool_config(position);
            if (!tool) break;
            const auto* type = tool->if_contains("type");
            if (!type || !type->is_string() || type->as_string() != "transfer_call") continue;
            const auto* dests = tool->if_contains("destinations");
            if (dests && dests->is_array() && index < dests->as_array().size() &&
                dests->as_array()[index].is_object()) {
                return self->transfer_to(dests->as_array()[index].as_object());
            }
            break;
        }
        self->record_event("transfer.failed",
                           json::serialize(json::object{{"reason", "no_such_destination"},
                                                        {"index", index}}));
        log::with_fields(self->log_fields("no_such_destination"), spdlog::level::warn,
                         "transfer failed: the assistant has no transfer destination {}", index);
    });
}

// A destination of a transfer_call tool: its own message and, for SIP, its own credentials.
void Call::transfer_to(const json::object& destination) {
    auto text = [&](const char* key) {
        const auto* v = destination.if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    std::string password;
    if (const auto sealed = text("password_sealed"); !sealed.empty()) {
        if (auto unsealed = manager_.secrets_.unseal(sealed)) password = *unsealed;
    }
    const auto target = text("type") == "sip" ? text("sip_uri") : text("number");
    begin_transfer(target, text("message"), text("username"), std::move(password));
}

Result<BridgeTarget> Call::transfer_target() {
    const std::string destination(transfer_.at("destination").as_string());
    BridgeTarget target;
    target.destination = destination;
    const std::string caller = route_->caller.empty() ? "trunkline" : route_->caller;
    const auto host = manager_.config_.media_public_ip;
    target.invite.call_id = sip::new_call_id(host);
    if (destination.rfind("sip:", 0) == 0 || destination.rfind("sips:", 0) == 0) {
        target.invite.request_uri = destination;
        target.invite.from_uri = "sip:" + caller + "@" + host;
        target.invite.auth_username = destination_username_;
        target.invite.auth_password = destination_password_;
        begin_attempt(target.invite, destination, uri_host(destination));
        return target;
    }
    // E.164 or tel: goes out through the number's transfer trunk.
    const std::string number = destination.rfind("tel:", 0) == 0
                                   ? destination.substr(4, destination.find(';') - 4)
                                   : destination;
    if (!route_->number || !route_->number->transfer_trunk_id) {
        return make_error(Errc::kInvalidRequest,
                          "the number has no transfer trunk: set the number's transfer_trunk_id, "
                          "or transfer to a sip: URI");
    }
    auto trunk = manager_.store_.get_trunk(org_id_, *route_->number->transfer_trunk_id);
    if (!trunk) {
        return make_error(Errc::kInvalidRequest,
                          "the number's transfer trunk " + *route_->number->transfer_trunk_id +
                              " no longer exists");
    }
    target.invite.request_uri = fmt::format("sip:{}@{}:{}{}", number, trunk->host, trunk->port,
                                            trunk->transport == "tcp" ? ";transport=tcp" : "");
    target.invite.from_uri = "sip:" + trunk->caller_id.value_or(caller) + "@" + host;
    for (const auto& h : trunk->headers) target.invite.headers.push_back({h.name, h.value});
    if (trunk->auth_type == "digest" && trunk->username && trunk->password_sealed) {
        auto password = manager_.secrets_.unseal(*trunk->password_sealed);
        if (!password) {
            return make_error(Errc::kInternal,
                              "the transfer trunk's password cannot be unsealed (was the master "
                              "key changed?)");
        }
        target.invite.auth_username = trunk->auth_username.value_or(*trunk->username);
        target.invite.auth_password = std::move(*password);
    }
    begin_attempt(target.invite, fmt::format("{}:{}", trunk->host, trunk->port), trunk->host);
    transfer_trunk_id_ = trunk->id;
    return target;
}

void Call::dial_transfer() {
    auto target = transfer_target();
    if (!target) return transfer_failed({"local_error", std::nullopt, target.error().message});
    follow_sip_call_id(target->invite.call_id);
    // The leg's own Call-ID: what the PBX's or carrier's support will ask for.
    transfer_["sip_call_id"] = target->invite.call_id;
    save_transfer();
    leg_ = std::make_shared<BridgeLeg>(
        manager_.io_, *manager_.stack_, manager_.ports_,
        MediaSettings{manager_.config_.media_bind_ip, manager_.config_.media_public_ip,
                      manager_.config_.rtp_timeout});
    leg_->set_log_ids(id_, org_id_, transfer_trunk_id_);
    record_event("transfer.invite",
                 json::serialize(json::object{{"uri", target->invite.request_uri}}));
    // The leg is routable before its INVITE leaves: under load its 200 could otherwise arrive
    // first and be dropped (seen as 8 of 500 bench transfers failing after their 200 OK).
    auto dialog = leg_->dial(std::move(*target), [this](sip::DialogId id) {
        manager_.attach_leg(id, shared_from_this());
    });
    if (!dialog) {
        leg_.reset();
        return transfer_failed({"local_error", std::nullopt,
                                "no free RTP port for the transfer leg: " +
                                    dialog.error().message});
    }
    manager_.rtp_ports_.add(2);
    rtp_->play(ringback());
    transfer_timer_ = std::make_unique<asio::steady_timer>(strand_, manager_.config_.transfer_ring_timeout);
    transfer_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
        // No answer in time: the transfer has failed now (the caller must not hear ringback
        // until sofia's own 32 s timer); the leg is cancelled by close_leg, and its late final
        // response finds the transfer already over.
        if (!ec && self->state_ == State::kTransferring && self->leg_) {
            self->attempt_.ring_timeout = true;
            self->transfer_failed(self->attempt_failure(0, "", sip::ResponseOrigin::kLocal));
        }
    });
}

void Call::transfer_connected() {
    if (transfer_timer_) transfer_timer_->cancel();
    rtp_->flush();  // stop the ringback
    listener_.store(nullptr);  // the assistant leaves the media path
    relay_leg_.store(leg_);
    state_ = State::kBridged;
    transfer_["status"] = "connected";
    transfer_["sip_code"] = 200;
    transfer_["connected_at"] = now_iso8601();
    save_transfer();
    record_event("transfer.bridged", "{}");
    manager_.trunk_metrics_.call_ended(transfer_trunk_id_, "transfer", "connected");
}

void Call::transfer_failed(FailureReason failure) {
    if (state_ != State::kTransferring) return;
    if (transfer_timer_) transfer_timer_->cancel();
    close_leg();
    state_ = State::kInProgress;
    const json::value sip_code =
        failure.sip_code ? json::value(*failure.sip_code) : json::value(nullptr);
    transfer_["status"] = "failed";
    transfer_["sip_code"] = sip_code;
    transfer_["reason"] = failure.reason;
    transfer_["hint"] = failure.hint;
    save_transfer();
    record_event("transfer.failed",
                 json::serialize(json::object{
                     {"sip_code", sip_code}, {"reason", failure.reason}, {"hint", failure.hint}}));
    manager_.trunk_metrics_.call_ended(transfer_trunk_id_, "transfer", failure.reason);
    if (failure.reason == "auth_rejected" || failure.reason == "auth_required") {
        manager_.trunk_metrics_.auth_failure(transfer_trunk_id_);
    }
    auto fields = log_fields(failure.reason);
    if (!transfer_trunk_id_.empty()) fields.trunk_id = transfer_trunk_id_;
    const auto* leg_call_id = transfer_.if_contains("sip_call_id");
    log::with_fields(fields, spdlog::level::warn, "transfer to {} failed: {}{}{}",
                     std::string(transfer_.at("destination").as_string()), failure.hint,
                     failure.sip_code ? fmt::format(" (SIP {})", *failure.sip_code) : "",
                     leg_call_id && leg_call_id->is_string()
                         ? fmt::format(" [leg Call-ID {}]", leg_call_id->as_string().c_str())
                         : std::string());
    // The transfer was the fallback for a failed provider: nobody is left to talk to.
    if (fallback_error_) return end_after_failure();
    // Never silent: the caller is back with the assistant and told so.
    if (rtp_) rtp_->flush();
    speak("I'm sorry, the transfer did not go through. I am still here to help you.", false);
}

void Call::close_leg() {
    // A pending ring or REFER timer would keep the io_context (and shutdown) waiting for it.
    if (transfer_timer_) transfer_timer_->cancel();
    relay_leg_.store(nullptr);
    if (leg_) {
        if (leg_->bridged() || state_ != State::kEnded) leg_->hang_up();
        leg_->close();
        manager_.rtp_ports_.add(-2);
        leg_.reset();
    }
}

void Call::save_transfer() {
    if (!record_) return;
    record_->transfer_json = json::serialize(transfer_);
    record_->updated_at = now_iso8601();
    if (auto st = manager_.store_.update_call(*record_); !st) {
        log::with_fields(log_fields(), spdlog::level::warn, "cannot store the transfer: {}",
                         st.error().message);
    }
}

}  // namespace tl::call
