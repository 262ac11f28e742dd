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

    // Leases RTP ports and sends the INVITE; the dialog id routes this leg's SIP events.
    Result<sip::DialogId> dial(BridgeTarget target);

    // A final answer to the INVITE: on 2xx the leg's media starts and is relayed with `caller`.
    // Returns the error text when a 2xx could not be used (bad SDP: the leg is hung up).
    Status answered(const std::string& sdp, const std::shared_ptr<media::RtpSession>& caller);

    // Audio the caller sent: relayed to the destination (allocation per frame; see docs/calls.md).
    void relay_to_destination(std::span<const std::int16_t> frame);

    void hang_up();  // CANCEL while ringing, BYE once answered; idempotent
    void close();    // media off, no more relaying
    sip::DialogId dialog() const { return dialog_; }
    bool bridged() const { return bridged_.load(); }

private:
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
};

}  // namespace tl::call
