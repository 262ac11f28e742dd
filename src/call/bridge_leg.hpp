#pragma once
// The outbound leg of a bridge transfer: an INVITE to the destination (through the number's
// transfer trunk, or straight to a SIP URI), its own RTP session, and the audio relay between it
// and the caller's session once answered. Lives on the owning call's strand; the call feeds it
// SIP events for its dialog and learns the outcome through the return values.

#include "media/port_pool.hpp"
#include "media/rtp_session.hpp"
#include "media/sdp.hpp"
#include "sip/sip_types.hpp"
#include "sip/stack/sip_stack.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tl::call {

struct BridgeTarget {
    std::string destination;  // as requested (+E.164, tel:, sip:)
    sip::OutboundInvite invite;
};

struct MediaSettings {
    std::string bind_ip;
    std::string public_ip;
    std::chrono::milliseconds rtp_timeout{60'000};
};

class BridgeLeg {
public:
    BridgeLeg(boost::asio::io_context& io,
              sip::SipStack& stack,
              std::shared_ptr<media::PortPool> ports,
              MediaSettings media);
    ~BridgeLeg();

    // Leases RTP ports and sends the INVITE; the dialog id routes this leg's SIP events and is
    // given to `before_send` before the INVITE leaves (see SipStack::invite).
    Result<sip::DialogId> dial(BridgeTarget target,
                               const std::function<void(sip::DialogId)>& before_send);

    // A provisional answer with SDP (183/180, RFC 3960 early media): the leg's media starts and
    // what the destination plays (its ringback, an announcement) goes to `caller`; nothing goes
    // the other way yet. A later SDP replaces the earlier one. An unusable SDP is ignored (the
    // caller keeps hearing our ringback): returns the reason.
    Status early_media(const std::string& sdp, const std::shared_ptr<media::RtpSession>& caller);

    // A final answer to the INVITE: on 2xx the leg's media starts (or continues from early
    // media, updated when the 2xx carries SDP) and is relayed both ways with `caller`.
    // Returns the error text when a 2xx could not be used (bad SDP: the leg is hung up).
    Status answered(const std::string& sdp, const std::shared_ptr<media::RtpSession>& caller);

    // Audio the caller sent: relayed to the destination (no allocation, no lock: SampleRelay).
    void relay_to_destination(std::span<const std::int16_t> frame);
    // A digit the caller pressed: sent on to the destination (RFC 4733 or in-band).
    void send_dtmf(char digit, int duration_ms);

    // The ids its log lines carry (the call's, its organization's, the transfer trunk's).
    void set_log_ids(std::string call_id, std::string org_id, std::string trunk_id);

    void hang_up();  // CANCEL while ringing, BYE once answered; idempotent
    void close();    // media off, no more relaying
    sip::DialogId dialog() const { return dialog_; }
    bool bridged() const { return bridged_.load(); }
    bool early_media() const { return rtp_ != nullptr && !bridged_.load(); }

private:
    Result<media::NegotiatedAudio> negotiate(const std::string& sdp) const;
    Status start_media(const media::NegotiatedAudio& audio,
                       const std::shared_ptr<media::RtpSession>& caller);

    boost::asio::io_context& io_;
    sip::SipStack& stack_;
    std::shared_ptr<media::PortPool> ports_;
    MediaSettings media_;
    sip::DialogId dialog_ = 0;
    std::optional<media::PortLease> lease_;
    media::LocalMedia local_;
    std::shared_ptr<media::RtpSession> rtp_;
    // Read by the caller's RTP strand for every frame it relays; set and cleared on the call strand.
    std::atomic<std::shared_ptr<media::RtpSession>> relay_target_;
    std::atomic<bool> bridged_{false};
    bool hung_up_ = false;
    std::weak_ptr<media::RtpSession> caller_;
    std::string call_id_;
    std::string org_id_;
    std::string trunk_id_;
};

}  // namespace tl::call
