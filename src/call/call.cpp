#include "call/call.hpp"

#include "call/call_manager.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "media/inband_dtmf_detector.hpp"
#include "webhook/payloads.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

namespace tl::call {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// A body we can read as SDP: `application/sdp`, parameters and case aside. No Content-Type at
// all is taken as SDP (lenient: the body is still parsed and refused if it is not).
bool is_sdp(std::string_view content_type) {
    const auto type = content_type.substr(0, content_type.find(';'));
    std::string lower;
    for (const char c : type) {
        if (c == ' ' || c == '\t') continue;
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return lower.empty() || lower == "application/sdp";
}

// The end_reason of a refused call: the router's finer reasons, as the API names them.
std::string refused_end_reason(std::string_view reason) {
    if (reason == "no_dialled_number" || reason == "number_not_on_trunk") return "unknown_number";
    if (reason == "no_codec") return "no_common_codec";
    return std::string(reason);
}

}  // namespace

Call::Call(CallManager& manager, sip::InviteRequest invite)
    : manager_(manager),
      strand_(asio::make_strand(manager.io_)),
      invite_(std::move(invite)),
      id_(new_uuid()) {
    // On the SIP thread, before the stack answers anything: the INVITE (pending in the
    // registry) and every later message of the dialog land in this call's capture.
    follow_sip_call_id(invite_.call_id);
}

void Call::start() {
    asio::post(strand_, [self = shared_from_this()] { self->route_and_answer(); });
}

void Call::on_ack(std::string sdp) {
    asio::post(strand_, [self = shared_from_this(), sdp = std::move(sdp)] {
        if (self->state_ == State::kEnded) return;
        const bool first = self->state_ == State::kAnswered;
        if (std::exchange(self->offer_in_our_200_, false)) {
            // Our 200 carried the offer: the ACK must carry the answer (RFC 3264 §4).
            if (sdp.empty()) {
                log::with_fields(self->log_fields("no_sdp_answer"), spdlog::level::warn,
                                 "ACK without the SDP answer to our offer: ending");
                self->record_event("sip.ack", R"({"sdp":false})");
                return self->hang_up("no_sdp_answer",
                                     "the ACK carried no SDP answer to the offer in our 200");
            }
            if (auto st = self->start_media_from_answer(sdp); !st) {
                log::with_fields(self->log_fields("no_sdp_answer"), spdlog::level::warn,
                                 "unusable SDP answer in the ACK: {}", st.error().message);
                return self->hang_up("no_sdp_answer", "unusable SDP answer in the ACK: " +
                                                          st.error().message);
            }
            if (first) {
                self->state_ = State::kInProgress;
                self->record_event("sip.ack", R"({"sdp":true})");
                return self->begin_conversation_media();
            }
            return self->record_event("sip.ack", R"({"sdp":true})");
        }
        if (!first) return;
        self->state_ = State::kInProgress;
        self->record_event("sip.ack", "{}");
        log::with_fields(self->log_fields(), spdlog::level::info, "in progress");
    });
}

void Call::on_digit(char digit, int duration_ms, std::string_view method) {
    asio::post(strand_, [self = shared_from_this(), digit, duration_ms, method = std::string(method)] {
        if (self->state_ == State::kEnded || self->state_ == State::kRouting) return;
        // Bridged, the key press is for the person at the destination (an IVR, a PIN). A tone
        // in the audio reaches them with the audio itself.
        const bool relayed = self->state_ == State::kBridged && self->leg_ && method != "inband";
        if (relayed) self->leg_->send_dtmf(digit, duration_ms > 0 ? duration_ms : 100);
        if (!relayed && self->conversing()) self->conversation_->on_dtmf(digit);
        self->record_event("dtmf", json::serialize(json::object{{"digit", std::string(1, digit)},
                                                                {"method", method},
                                                                {"duration_ms", duration_ms},
                                                                {"relayed", relayed}}));
    });
}

void Call::on_cancel() {
    asio::post(strand_, [self = shared_from_this()] {
        self->record_event("sip.cancel", "{}");
        self->finish("ended", "user_hangup");
    });
}

void Call::on_bye(sip::DialogId dialog) {
    asio::post(strand_, [self = shared_from_this(), dialog] {
        if (dialog != self->invite_.dialog) {
            // The transfer destination hung up: the caller's side ends too.
            self->record_event("sip.bye", R"({"from":"destination"})");
            if (self->state_ == State::kBridged) {
                self->manager_.stack_->bye(self->invite_.dialog);
                self->finish("ended", "transferred");
            }
            return;
        }
        self->record_event("sip.bye", R"({"from":"caller"})");
        const bool bridged = self->state_ == State::kBridged;
        if (self->leg_) self->leg_->hang_up();
        self->finish("ended", bridged ? "transferred" : "user_hangup");
    });
}

void Call::on_terminated(sip::DialogId dialog, int status, std::string phrase) {
    asio::post(strand_, [self = shared_from_this(), dialog, status, phrase = std::move(phrase)] {
        if (dialog != self->invite_.dialog) {
            // A transfer leg's dialog is gone. If it was still ringing and nothing reported an
            // outcome (no response at all), the transfer failed.
            if (self->state_ == State::kTransferring && self->leg_ &&
                dialog == self->leg_->dialog()) {
                self->transfer_failed(
                    self->attempt_failure(status, phrase, sip::ResponseOrigin::kLocal));
            }
            self->manager_.forget_leg(dialog);
            return;
        }
        // The dialog is gone; if nothing ended the call before (e.g. our 200 was never ACKed),
        // end it now so nothing leaks.
        if (self->state_ == State::kEnded) return;
        if (self->outbound_ && self->state_ == State::kRouting) {
            // The INVITE died without a final response (unreachable, transport error).
            self->record_event("sip.terminated", json::serialize(json::object{
                                                     {"status", status}, {"phrase", phrase}}));
            return self->outbound_failed(
                self->attempt_failure(status, phrase, sip::ResponseOrigin::kLocal));
        }
        self->record_event("sip.terminated",
                           json::serialize(json::object{{"status", status}, {"phrase", phrase}}));
        self->finish(self->state_ == State::kRouting ? "failed" : "ended",
                     status >= 400 ? "error" : "user_hangup",
                     status >= 400 ? fmt::format("SIP dialog failed: {} {}", status, phrase)
                                   : std::string());
    });
}

void Call::on_session_timer_expired(sip::DialogId dialog, bool bye_sent) {
    asio::post(strand_, [self = shared_from_this(), dialog, bye_sent] {
        if (self->state_ == State::kEnded) return;
        const bool leg = dialog != self->invite_.dialog;
        log::with_fields(self->log_fields("session_timer"), spdlog::level::warn,
                         "session timer expired on the {}: ending the call",
                         leg ? "transfer leg" : "call's dialog");
        self->record_event("sip.session_timer",
                           json::serialize(
                               json::object{{"dialog", leg ? "destination" : "caller"}}));
        // Ended here, on this turn of the strand: the dialog's termination, posted next by the
        // stack, must find the call already ended for this reason.
        if (self->leg_ && (leg || bye_sent)) self->leg_->hang_up();
        if (bye_sent && !leg) {
            return self->finish("ended", "session_timer", "the session was not refreshed in time");
        }
        self->end_now("session_timer", leg ? "the transfer leg's session expired"
                                           : "the session refresh failed");
    });
}

void Call::on_reinvite(sip::InviteRequest invite) {
    asio::post(strand_, [self = shared_from_this(), invite = std::move(invite)] {
        auto* stack = self->manager_.stack_;
        if (self->state_ == State::kEnded || !self->rtp_) return;
        if (invite.body.empty()) {
            // Offer-less re-INVITE (session refresh, or a late-offer PBX): our current
            // description is the offer, its answer comes in the ACK.
            self->offer_in_our_200_ = true;
            stack->reply(invite.dialog,
                         {200, {}, {}, media::render_offer(self->local_media_)});
            return;
        }
        if (!invite.content_type.empty() && !is_sdp(invite.content_type)) {
            stack->reply(invite.dialog, {415, {}, {{"Accept", "application/sdp"}}, {}});
            return;
        }
        auto offer = media::parse_sdp(invite.body);
        auto audio = offer ? media::negotiate_answer(*offer) : Result<media::NegotiatedAudio>(offer.error());
        if (!audio) {
            stack->reply(invite.dialog, {488, {}, {}, {}});
            return;
        }
        ++self->local_media_.session_version;
        self->rtp_->update(*audio);
        self->record_event("sip.reinvite",
                           json::serialize(json::object{
                               {"direction", std::string(media::to_string(audio->local_direction))}}));
        stack->reply(invite.dialog,
                     {200, {}, {}, media::render_answer(*offer, *audio, self->local_media_)});
    });
}

void Call::hang_up(std::string end_reason, std::string error) {
    asio::post(strand_, [self = shared_from_this(), end_reason = std::move(end_reason),
                         error = std::move(error)]() mutable {
        self->end_now(std::move(end_reason), std::move(error));
    });
}

void Call::end_now(std::string end_reason, std::string error) {
    if (state_ == State::kEnded) return;
    // An outbound call still ringing is cancelled, whoever asked.
    if (outbound_ && state_ == State::kRouting) end_reason = "cancelled";
    if (state_ == State::kRouting && !outbound_) {
        manager_.stack_->reply(invite_.dialog, {480, {}, {}, {}});
    } else {  // BYE, or CANCEL for an outbound call still ringing
        manager_.stack_->bye(invite_.dialog);
    }
    record_event("sip.bye", R"({"from":"trunkline"})");
    finish("ended", end_reason, error);
}

void Call::end_with_message(std::string message) {
    asio::post(strand_, [self = shared_from_this(), message = std::move(message)] {
        if (self->state_ == State::kEnded) return;
        // While a transfer is being set up its own playout step would follow the goodbye.
        const bool can_speak = self->rtp_ && (self->state_ == State::kInProgress ||
                                              self->state_ == State::kAnswered ||
                                              self->state_ == State::kBridged);
        if (message.empty() || !can_speak) {
            if (!message.empty()) {
                self->record_event("call.end_message_skipped",
                                   json::serialize(json::object{
                                       {"reason", "no audio to the caller in this state"}}));
            }
            return self->end_now("assistant_ended", {});
        }
        // Nothing else is said: no reply to what the caller says over the goodbye.
        self->stop_conversation();
        self->rtp_->flush();
        self->speak(message, true);
    });
}

void Call::end_call_tool() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->state_ != State::kInProgress && self->state_ != State::kAnswered) return;
        boost::system::error_code ec;
        const auto doc = json::parse(self->route_->assistant.config_json, ec);
        std::string message;
        if (!ec && doc.is_object()) {
            const auto* m = doc.as_object().if_contains("end_call_message");
            if (m && m->is_string()) message = std::string(m->as_string());
        }
        self->record_event("tool.end_call", "{}");
        // Whatever the assistant was saying gives way to the goodbye.
        if (self->rtp_) self->rtp_->flush();
        self->speak(message, true);
    });
}

void Call::say(std::string text, bool end_after) {
    asio::post(strand_, [self = shared_from_this(), text = std::move(text), end_after] {
        if (self->state_ != State::kInProgress && self->state_ != State::kAnswered &&
            self->state_ != State::kBridged) {
            return;
        }
        // Said into a live conversation, the words join its transcript.
        if (!end_after && self->conversing()) return self->conversation_->say(text);
        self->speak(text, end_after);
    });
}

void Call::send_digits(std::string digits) {
    asio::post(strand_, [self = shared_from_this(), digits = std::move(digits)] {
        if (self->state_ == State::kEnded || !self->rtp_) return;
        constexpr int kDigitMs = 100;  // the gap after each is the sender's (100 ms)
        const bool to_destination = self->state_ == State::kBridged && self->leg_;
        for (const char digit : digits) {
            if (to_destination) {
                self->leg_->send_dtmf(digit, kDigitMs);
            } else {
                self->rtp_->send_dtmf(digit, kDigitMs);
            }
        }
        self->record_event("dtmf.sent",
                           json::serialize(json::object{
                               {"digits", digits},
                               {"to", to_destination ? "destination" : "caller"}}));
    });
}

std::string Call::assistant_language() const {
    if (!route_) return "en";
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    if (ec || !doc.is_object()) return "en";
    for (const char* config : {"tts_config", "stt_config"}) {
        const auto* c = doc.as_object().if_contains(config);
        if (c && c->is_object()) {
            const auto* lang = c->as_object().if_contains("language");
            if (lang && lang->is_string() && lang->as_string() != "multi") {
                return std::string(lang->as_string());
            }
        }
    }
    return "en";
}

voice::SpeechService& Call::speech() {
    if (!speech_) {
        speech_ = std::shared_ptr<voice::SpeechService>();
        boost::system::error_code ec;
        const auto doc = route_ ? json::parse(route_->assistant.config_json, ec) : json::value();
        if (!ec && doc.is_object()) {
            auto service = manager_.voice_.speech_for(org_id_, doc.as_object());
            if (service) {
                speech_ = *service;
            } else {
                // The configured voice cannot be used: espeak-ng speaks, and the call says why.
                record_event("assistant.tts_unavailable",
                             json::serialize(json::object{{"reason", service.error().message}}));
            }
        }
    }
    return *speech_ && !voice_failed_ ? **speech_ : manager_.speech_;
}

void Call::speak(const std::string& text,
                 bool end_after,
                 std::function<void()> then,
                 std::string end_reason) {
    if (text.empty()) {
        if (end_after) hang_up(end_reason);
        if (then) then();
        return;
    }
    record_event("assistant.say", json::serialize(json::object{{"text", text}}));
    // On the strand, in the assistant's voice or, when that fails, espeak-ng's.
    synthesize_for_caller(
        text, [weak = weak_from_this(), text, end_after, then = std::move(then),
               end_reason = std::move(end_reason)](Result<voice::PcmPtr> audio) mutable {
            auto self = weak.lock();
            if (!self) return;
            if (self->state_ == State::kEnded || !self->rtp_) return;
            if (!audio) {
                self->record_event("assistant.tts_error",
                                   json::serialize(json::object{{"error", audio.error().message}}));
                if (end_after) self->hang_up(end_reason);
                if (then) then();
                return;
            }
            if (end_after) self->hang_up_after_playout_ = end_reason;
            if (then) self->after_playout_ = std::move(then);
            // Heard from now on: it joins the transcript (a failed synthesis was not heard).
            self->add_to_transcript("assistant", text, std::chrono::steady_clock::now());
            self->rtp_->play(*audio);
        });
}

void Call::reject(const sip::Reply& reply,
                  std::string reason,
                  std::optional<store::SipTrunk> trunk) {
    manager_.stack_->reply(invite_.dialog, reply);
    // A known trunk's refused call is the operator's business: it becomes a failed call record
    // (the store write is bounded by CallManager). Strangers are only counted and logged.
    if (!trunk && route_) trunk = route_->trunk;
    if (trunk) {
        log::Fields fields = log_fields(reason);
        fields.org_id = trunk->org_id;
        fields.trunk_id = trunk->id;
        fields.source = invite_.source_ip;
        log::rate_limited("call.refused.trunk", fields, spdlog::level::warn,
                          "refused {} ({}) from {}", reply.status, reason, invite_.source_ip);
        if (reason == "auth_failed") manager_.trunk_metrics_.auth_failure(trunk->id);
        capture_stored_ = manager_.record_refused(id_, invite_, *trunk,
                                                  refused_end_reason(reason), reply.status);
        if (capture_stored_) org_id_ = trunk->org_id;
    } else {
        log::Fields fields;
        fields.sip_call_id = invite_.call_id;
        fields.reason = reason;
        fields.source = invite_.source_ip;
        // A failed authentication is worth a warning (someone tries credentials); an unknown
        // caller or number alone is not.
        const bool auth = reason == "auth_failed" || reason == "auth_blocked";
        log::rate_limited("call.refused.stranger", fields,
                          auth ? spdlog::level::warn : spdlog::level::info,
                          "refused {} ({}) from {}", reply.status, reason, invite_.source_ip);
    }
    state_ = State::kEnded;
    manager_.forget(*this);
    if (capture_stored_) {
        persist_capture_later();
    } else {
        release_capture();
    }
}

media::RtpSession::Callbacks Call::rtp_callbacks() {
    std::weak_ptr<Call> weak = weak_from_this();
    media::RtpSession::Callbacks callbacks;
    callbacks.on_inactivity = [weak] {
        if (auto self = weak.lock()) {
            self->hang_up("rtp_timeout", "no media from the caller: RTP stopped");
        }
    };
    callbacks.on_dtmf = [weak](char digit, int duration_ms) {
        if (auto self = weak.lock()) self->on_digit(digit, duration_ms, "rfc4733");
    };
    callbacks.on_playout_done = [weak] {
        if (auto self = weak.lock()) {
            asio::post(self->strand_, [self] {
                if (self->hang_up_after_playout_) self->hang_up(*self->hang_up_after_playout_);
                if (auto then = std::exchange(self->after_playout_, nullptr)) then();
                if (self->conversing()) self->conversation_->on_playout_done();
                // Ringback repeats while the transfer destination rings.
                if (self->state_ == State::kTransferring && self->leg_ && self->rtp_ &&
                    !self->leg_->early_media()) {
                    self->rtp_->play(ringback());
                }
            });
        }
    };
    // Caller audio goes to the transfer destination once bridged (relay_leg_ is set then).
    // Until then it goes to the assistant's listener (when it converses).
    // Without telephone-event the caller's key presses are tones in the audio: a detector
    // (RTP strand only, no allocation per frame) finds them.
    std::shared_ptr<media::InbandDtmfDetector> detector;
    if (negotiated_ && !negotiated_->telephone_event_pt) {
        detector = std::make_shared<media::InbandDtmfDetector>();
    }
    callbacks.on_audio = [weak, detector](std::span<const std::int16_t> frame) {
        if (auto self = weak.lock()) {
            if (detector) {
                if (const auto digit = detector->push(frame)) self->on_digit(*digit, 0, "inband");
            }
            if (auto tap = self->recording_.load()) tap->caller_audio(frame);
            if (auto leg = self->relay_leg_.load()) {
                leg->relay_to_destination(frame);
            } else if (auto listener = self->listener_.load()) {
                listener->push(frame);
            }
        }
    };
    // What the caller hears (the assistant, or the bridged destination): the recording's right.
    callbacks.on_sent_audio = [weak](std::span<const std::int16_t> frame) {
        if (auto self = weak.lock()) {
            if (auto tap = self->recording_.load()) tap->sent_audio(frame);
        }
    };
    return callbacks;
}

void Call::route_and_answer() {
    auto decision = manager_.router_.route(invite_);
    if (auto* rejected = std::get_if<sip::RejectedCall>(&decision)) {
        return reject(rejected->reply, rejected->reason, std::move(rejected->trunk));
    }
    route_ = std::move(std::get<sip::AcceptedCall>(decision));
    org_id_ = route_->trunk.org_id;

    if (!invite_.body.empty() && !is_sdp(invite_.content_type)) {
        return reject({415, {}, {{"Accept", "application/sdp"}}, {}}, "unsupported_body");
    }
    // No SDP: late offer (RFC 3261 §13.2.1; Cisco CUCM, many SBCs). Our offer goes in the 200.
    offer_in_our_200_ = invite_.body.empty();
    Result<media::SessionDescription> offer = media::SessionDescription{};
    Result<media::NegotiatedAudio> audio = media::NegotiatedAudio{};
    if (!offer_in_our_200_) {
        offer = media::parse_sdp(invite_.body);
        if (!offer) return reject({400, "Malformed SDP offer", {}, {}}, "bad_sdp");
        audio = media::negotiate_answer(*offer);
        if (!audio) {
            return reject({488, "No Common Codec Offered",
                           {{"Warning", "304 trunkline \"No common codec\""}}, {}},
                          "no_codec");
        }
    }
    if (!offer_in_our_200_) {
        // Before the RTP session: its callbacks depend on what was negotiated (in-band DTMF).
        remote_sdp_ = std::move(*offer);
        negotiated_ = *audio;
    }
    local_media_.address = manager_.config_.media_public_ip;
    local_media_.session_id = static_cast<std::uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffff);
    local_media_.session_version = local_media_.session_id;

    // A port of the range may be taken by another process: try a few pairs before giving up.
    Result<std::shared_ptr<media::RtpSession>> rtp =
        make_error(Errc::kUnavailable, "no free RTP port pair");
    if (offer_in_our_200_) {
        // The session starts when the answer arrives; until then the ports are only held.
        auto lease = media::acquire_bindable(*manager_.ports_, manager_.config_.media_bind_ip);
        if (!lease) return reject({503, {}, {{"Retry-After", "5"}}, {}}, "no_rtp_ports");
        local_media_.port = lease->rtp_port();
        outbound_lease_ = std::move(*lease);
    }
    for (int attempt = 0; attempt < 4 && !rtp && !offer_in_our_200_; ++attempt) {
        auto lease = manager_.ports_->acquire();
        if (!lease) break;
        local_media_.port = lease->rtp_port();
        media::RtpSessionConfig rtp_config;
        rtp_config.bind_address = manager_.config_.media_bind_ip;
        rtp_config.ports = std::move(*lease);
        rtp_config.audio = *audio;
        rtp_config.inactivity_timeout = manager_.config_.rtp_timeout;
        rtp = media::RtpSession::create(manager_.io_, std::move(rtp_config), rtp_callbacks());
    }
    if (!rtp && !offer_in_our_200_) {
        return reject({503, {}, {{"Retry-After", "5"}}, {}}, "no_rtp_ports");
    }
    if (rtp) rtp_ = std::move(*rtp);
    manager_.rtp_ports_.add(2);

    store::Call record;
    record.id = id_;
    record.org_id = org_id_;
    record.direction = "inbound";
    record.status = "connecting";
    record.caller_phone = route_->caller.empty() ? std::nullopt : std::optional(route_->caller);
    if (!route_->dialled.empty()) record.assistant_phone = route_->dialled;
    if (!route_->assistant.id.empty()) record.assistant_id = route_->assistant.id;
    if (route_->number) record.number_id = route_->number->id;
    record.trunk_id = route_->trunk.id;
    record.sip_call_id = invite_.call_id;
    record.created_at = record.updated_at = now_iso8601();
    if (auto st = manager_.store_.create_call(record); !st) {
        log::with_fields(log_fields("store_unavailable"), spdlog::level::err,
                         "cannot store the call: {}", st.error().message);
        if (rtp_) rtp_->stop();
        rtp_.reset();
        outbound_lease_.reset();
        manager_.rtp_ports_.add(-2);
        return reject({503, {}, {{"Retry-After", "5"}}, {}}, "store_unavailable");
    }
    record_ = std::move(record);
    capture_stored_ = true;
    record_event("sip.invite",
                 json::serialize(json::object{{"from", invite_.from_uri},
                                              {"to", invite_.to_uri},
                                              {"source", invite_.source_ip},
                                              {"transport", invite_.transport}}));

    if (auto target = assistant_request_target()) return request_assistant(*target);
    ring_then_answer();
}

void Call::ring_then_answer() {
    const auto delay = manager_.config_.answer_delay;
    if (delay.count() > 0) {
        // Ring first (some operators want callers to hear ringing before the assistant).
        if (!ringing_sent_) {
            manager_.stack_->reply(invite_.dialog, {180, {}, {}, {}});
            record_event("sip.response", R"({"status":180})");
            ringing_sent_ = true;
        }
        ring_timer_ = std::make_unique<asio::steady_timer>(strand_, delay);
        ring_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && self->state_ == State::kRouting) self->answer();
        });
        return;
    }
    answer();
}

void Call::answer() {
    // Answer: media flows from now on (silence until the greeting is ready). With a late offer
    // our 200 makes the offer, and media waits for the ACK's answer.
    const auto sdp = offer_in_our_200_
                         ? media::render_offer(local_media_)
                         : media::render_answer(*remote_sdp_, *negotiated_, local_media_);
    manager_.stack_->reply(invite_.dialog, {200, {}, {}, sdp});
    if (rtp_) rtp_->start();
    state_ = State::kAnswered;
    answered_at_ = std::chrono::steady_clock::now();
    if (transcript_.messages().empty()) {
        transcript_ = Transcript(answered_at_, std::chrono::system_clock::now());
    }
    record_->status = "in-progress";
    record_->started_at = now_iso8601();
    record_->updated_at = *record_->started_at;
    save_with_events({webhook::kStatusUpdate});
    record_event("sip.response", R"({"status":200})");
    manager_.register_call(shared_from_this());
    log::with_fields(log_fields(), spdlog::level::info, "answered: assistant {} for {} from {}{}",
                     route_->assistant.id, route_->dialled, invite_.source_ip,
                     offer_in_our_200_ ? " (late offer: media after the ACK)" : "");
    if (!offer_in_our_200_) begin_conversation_media();
}

Status Call::start_media_from_answer(const std::string& sdp) {
    auto answer = media::parse_sdp(sdp);
    auto audio = answer ? media::negotiate_answer(*answer)
                        : Result<media::NegotiatedAudio>(answer.error());
    if (!audio) return audio.error();
    remote_sdp_ = std::move(*answer);
    negotiated_ = *audio;
    if (rtp_) {
        rtp_->update(*audio);
        return {};
    }
    media::RtpSessionConfig config;
    config.bind_address = manager_.config_.media_bind_ip;
    config.ports = std::move(*outbound_lease_);
    outbound_lease_.reset();
    config.audio = *audio;
    config.inactivity_timeout = manager_.config_.rtp_timeout;
    auto rtp = media::RtpSession::create(manager_.io_, std::move(config), rtp_callbacks());
    if (!rtp) return rtp.error();
    rtp_ = std::move(*rtp);
    rtp_->start();
    return {};
}

void Call::begin_conversation_media() {
    boost::system::error_code ec;
    const auto doc = json::parse(route_->assistant.config_json, ec);
    if (!ec && doc.is_object()) {
        const auto* first = doc.as_object().if_contains("first_message");
        if (first && first->is_string()) speak(std::string(first->as_string()), false);
        const auto* max = doc.as_object().if_contains("max_duration_seconds");
        if (!max_duration_seconds_ && max && max->is_int64()) {
            max_duration_seconds_ = static_cast<int>(max->as_int64());
        }
    }
    arm_max_duration();
    start_recording();
    start_conversation();
}

void Call::arm_max_duration() {
    if (!max_duration_seconds_ || *max_duration_seconds_ <= 0) return;
    max_duration_timer_ =
        std::make_unique<asio::steady_timer>(strand_, std::chrono::seconds(*max_duration_seconds_));
    max_duration_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->state_ == State::kEnded) return;
        self->record_event("call.max_duration", "{}");
        self->hang_up("max_duration");
    });
}

void Call::finish(std::string status, std::string end_reason, std::string error) {
    if (state_ == State::kEnded) return;
    const bool was_answered = state_ != State::kRouting;
    state_ = State::kEnded;
    if (ring_timer_) ring_timer_->cancel();
    if (max_duration_timer_) max_duration_timer_->cancel();
    stop_conversation();
    close_leg();
    if (rtp_) {
        rtp_->stop();
        rtp_.reset();
        manager_.rtp_ports_.add(-2);
    } else if (outbound_lease_) {  // an outbound call that ended before its media started
        outbound_lease_.reset();
        manager_.rtp_ports_.add(-2);
    }
    stop_recording();  // after the media stopped: nothing more reaches it
    if (record_) {
        const auto now = now_iso8601();
        record_->status = status;
        record_->end_reason = end_reason;
        if (!error.empty()) record_->error = error;
        record_->ended_at = now;
        record_->updated_at = now;
        if (was_answered) {
            record_->duration_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now() - answered_at_)
                                            .count();
        }
        if (was_answered) {
            save_with_events({webhook::kStatusUpdate, webhook::kEndOfCallReport});
        } else if (auto st = manager_.store_.update_call(*record_); !st) {
            log::with_fields(log_fields(), spdlog::level::warn,
                             "cannot store the end of the call: {}", st.error().message);
        }
    }
    log::with_fields(log_fields(end_reason), status == "failed" ? spdlog::level::warn
                                                                 : spdlog::level::info,
                     "{}: {}{}", status, end_reason,
                     record_ && record_->hint ? " (" + *record_->hint + ")" : std::string());
    if (route_) {
        manager_.trunk_metrics_.call_ended(route_->trunk.id, outbound_ ? "outbound" : "inbound",
                                           end_reason);
    }
    persist_capture_later();
    if (outbound_) manager_.outbound_ended(*this);
    manager_.forget(*this);
}

void Call::record_event(std::string type, std::string data_json) {
    // A provider or playout failure on a live call is the operator's business, not just the
    // call's timeline: a warn line with the call's ids and the failure as the reason.
    const std::string_view kind(type);
    if (kind.ends_with("_error") || kind.ends_with("_unavailable")) {
        log::with_fields(log_fields(kind), spdlog::level::warn, "{}: {}", type,
                         log::clip(data_json, 512));
    }
    if (!record_) return;
    store::CallEvent event;
    event.call_id = id_;
    event.type = std::move(type);
    event.data_json = std::move(data_json);
    event.created_at = now_iso8601();
    if (auto st = manager_.store_.append_call_event(event); !st) {
        log::with_fields(log_fields(), spdlog::level::warn, "cannot store event {}: {}",
                         event.type, st.error().message);
    }
}

}  // namespace tl::call
