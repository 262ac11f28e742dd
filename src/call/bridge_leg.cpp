#include "call/bridge_leg.hpp"

#include "common/log.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace tl::call {

BridgeLeg::BridgeLeg(boost::asio::io_context& io,
                     sip::SipStack& stack,
                     std::shared_ptr<media::PortPool> ports,
                     MediaSettings media)
    : io_(io), stack_(stack), ports_(std::move(ports)), media_(std::move(media)) {}

BridgeLeg::~BridgeLeg() {
    close();
}

Result<sip::DialogId> BridgeLeg::dial(BridgeTarget target,
                                      const std::function<void(sip::DialogId)>& before_send) {
    auto lease = media::acquire_bindable(*ports_, media_.bind_ip);
    if (!lease) return lease.error();
    local_.address = media_.public_ip;
    local_.port = lease->rtp_port();
    local_.session_id = static_cast<std::uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffff);
    local_.session_version = local_.session_id;
    lease_ = std::move(*lease);
    target.invite.sdp = media::render_offer(local_);
    dialog_ = stack_.invite(std::move(target.invite), before_send);
    return dialog_;
}

Result<media::NegotiatedAudio> BridgeLeg::negotiate(const std::string& sdp) const {
    auto answer = media::parse_sdp(sdp);
    if (!answer) return answer.error();
    return media::negotiate_answer(*answer);
}

Status BridgeLeg::start_media(const media::NegotiatedAudio& audio,
                              const std::shared_ptr<media::RtpSession>& caller) {
    media::RtpSessionConfig config;
    config.bind_address = media_.bind_ip;
    config.ports = std::move(*lease_);
    lease_.reset();
    config.audio = audio;
    config.inactivity_timeout = media_.rtp_timeout;
    media::RtpSession::Callbacks callbacks;
    // What the destination says goes to the caller; PCMU/PCMA differences vanish because both
    // sides decode to PCM and encode for their own leg. Its key presses go on as digits.
    const std::weak_ptr<media::RtpSession> weak(caller);
    callbacks.on_audio = [weak](std::span<const std::int16_t> frame) {
        if (auto to = weak.lock()) to->relay(frame);
    };
    callbacks.on_dtmf = [weak](char digit, int duration_ms) {
        if (auto to = weak.lock()) to->send_dtmf(digit, duration_ms);
    };
    auto rtp = media::RtpSession::create(io_, std::move(config), std::move(callbacks));
    if (!rtp) return rtp.error();
    rtp_ = std::move(*rtp);
    caller_ = caller;
    rtp_->start();
    return {};
}

Status BridgeLeg::early_media(const std::string& sdp,
                              const std::shared_ptr<media::RtpSession>& caller) {
    if (hung_up_ || bridged_) return make_error(Errc::kInvalidRequest, "leg not ringing");
    auto audio = negotiate(sdp);
    if (!audio) return audio.error();
    if (rtp_) {
        rtp_->update(*audio);
        return {};
    }
    return start_media(*audio, caller);
}

Status BridgeLeg::answered(const std::string& sdp,
                           const std::shared_ptr<media::RtpSession>& caller) {
    if (rtp_) {
        // Early media ran: a 2xx without SDP keeps it (RFC 3261 §13.2.1 allows the answer in a
        // reliable provisional), one with SDP may move it.
        if (!sdp.empty()) {
            auto audio = negotiate(sdp);
            if (!audio) {
                hang_up();
                return audio.error();
            }
            rtp_->update(*audio);
        }
    } else {
        auto audio = negotiate(sdp);
        Status started = audio ? start_media(*audio, caller) : Status(audio.error());
        if (!started) {
            hang_up();
            return started;
        }
    }
    relay_target_.store(rtp_);
    bridged_ = true;
    return {};
}

void BridgeLeg::relay_to_destination(std::span<const std::int16_t> frame) {
    if (auto to = relay_target_.load()) to->relay(frame);
}

void BridgeLeg::send_dtmf(char digit, int duration_ms) {
    if (auto to = relay_target_.load()) to->send_dtmf(digit, duration_ms);
}

void BridgeLeg::hang_up() {
    if (hung_up_ || dialog_ == 0) return;
    hung_up_ = true;
    stack_.bye(dialog_);
}

void BridgeLeg::set_log_ids(std::string call_id, std::string org_id, std::string trunk_id) {
    call_id_ = std::move(call_id);
    org_id_ = std::move(org_id);
    trunk_id_ = std::move(trunk_id);
}

void BridgeLeg::close() {
    relay_target_.store(nullptr);
    bridged_ = false;
    if (rtp_) {
        const auto stats = rtp_->stats();
        log::Fields fields;
        fields.call_id = call_id_;
        fields.org_id = org_id_;
        fields.trunk_id = trunk_id_;
        log::with_fields(fields, spdlog::level::info,
                         "transfer leg {}: RTP sent {}, received {}, dropped {}", dialog_,
                         stats.packets_sent, stats.packets_received, stats.packets_dropped);
        rtp_->stop();
        rtp_.reset();
    }
    lease_.reset();
}

}  // namespace tl::call
