#include "call/bridge_leg.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace tl::call {

namespace {

// Frames waiting in a leg's play queue beyond this are dropped: a relay must add delay no longer
// than a few frames when the two sides' clocks drift.
constexpr int kMaxRelayBacklog = 3;

void relay(const std::shared_ptr<media::RtpSession>& to, std::span<const std::int16_t> frame) {
    if (!to || to->queued() > kMaxRelayBacklog) return;
    to->play(std::make_shared<media::Pcm>(frame.begin(), frame.end()));
}

}  // namespace

BridgeLeg::BridgeLeg(boost::asio::io_context& io,
                     sip::SipStack& stack,
                     std::shared_ptr<media::PortPool> ports,
                     MediaSettings media)
    : io_(io), stack_(stack), ports_(std::move(ports)), media_(std::move(media)) {}

BridgeLeg::~BridgeLeg() {
    close();
}

Result<sip::DialogId> BridgeLeg::dial(BridgeTarget target) {
    // The offer names the port before the session binds it (at the answer): skip pairs another
    // process holds now, as the caller's leg does.
    Result<media::PortLease> lease = make_error(Errc::kUnavailable, "no free RTP port pair");
    for (int attempt = 0; attempt < 4; ++attempt) {
        lease = ports_->acquire();
        if (!lease) break;
        if (media::pair_bindable(media_.bind_ip, lease->rtp_port())) break;
        lease = make_error(Errc::kUnavailable, "no free RTP port pair");
    }
    if (!lease) return lease.error();
    local_.address = media_.public_ip;
    local_.port = lease->rtp_port();
    local_.session_id = static_cast<std::uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffff);
    local_.session_version = local_.session_id;
    lease_ = std::move(*lease);
    target.invite.sdp = media::render_offer(local_);
    dialog_ = stack_.invite(std::move(target.invite));
    return dialog_;
}

Status BridgeLeg::answered(const std::string& sdp,
                           const std::shared_ptr<media::RtpSession>& caller) {
    auto answer = media::parse_sdp(sdp);
    auto audio = answer ? media::negotiate_answer(*answer)
                        : Result<media::NegotiatedAudio>(answer.error());
    if (!audio) {
        hang_up();
        return audio.error();
    }
    media::RtpSessionConfig config;
    config.bind_address = media_.bind_ip;
    config.ports = std::move(*lease_);
    lease_.reset();
    config.audio = *audio;
    config.inactivity_timeout = media_.rtp_timeout;
    media::RtpSession::Callbacks callbacks;
    // What the destination says goes to the caller; PCMU/PCMA differences vanish because both
    // sides decode to PCM and encode for their own leg.
    callbacks.on_audio = [weak = std::weak_ptr<media::RtpSession>(caller)](
                             std::span<const std::int16_t> frame) { relay(weak.lock(), frame); };
    auto rtp = media::RtpSession::create(io_, std::move(config), std::move(callbacks));
    if (!rtp) {
        hang_up();
        return rtp.error();
    }
    rtp_ = std::move(*rtp);
    caller_ = caller;
    rtp_->start();
    relay_target_.store(rtp_);
    bridged_ = true;
    return {};
}

void BridgeLeg::relay_to_destination(std::span<const std::int16_t> frame) {
    relay(relay_target_.load(), frame);
}

void BridgeLeg::hang_up() {
    if (hung_up_ || dialog_ == 0) return;
    hung_up_ = true;
    stack_.bye(dialog_);
}

void BridgeLeg::close() {
    relay_target_.store(nullptr);
    bridged_ = false;
    if (rtp_) {
        const auto stats = rtp_->stats();
        spdlog::info("transfer leg {}: RTP sent {}, received {}, dropped {}", dialog_,
                     stats.packets_sent, stats.packets_received, stats.packets_dropped);
        rtp_->stop();
        rtp_.reset();
    }
    lease_.reset();
}

}  // namespace tl::call
