#pragma once
// What the rest of Trunkline sees of SIP: plain C++ values copied out of the stack's messages, and
// dialog ids instead of C handles (the handles live only on the SIP thread).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl::sip {

using DialogId = std::uint64_t;

struct HeaderField {
    std::string name;
    std::string value;
};

struct InviteRequest {
    DialogId dialog = 0;
    std::string call_id;
    std::string method = "INVITE";
    std::string request_uri;  // as received, e.g. "sip:+31850835037@trunkline.example"
    std::string request_user;
    std::string to_uri;
    std::string to_user;
    std::string from_uri;
    std::string from_user;
    std::string from_display;
    std::string source_ip;
    int source_port = 0;
    std::string transport;  // "udp" | "tcp"
    std::vector<HeaderField> extra_headers;  // headers the stack does not know (X-...)
    std::vector<std::string> authorization;  // Authorization header values ("Digest ...")
    std::string content_type;
    std::string body;

    std::optional<std::string> header(std::string_view name) const;  // case-insensitive
};

struct Reply {
    int status = 200;
    std::string phrase;  // empty = the standard phrase
    std::vector<HeaderField> headers;
    std::string sdp;  // non-empty: sent as application/sdp
};

// An INVITE we send (the test phone now; transfers and outbound calls later).
struct OutboundInvite {
    // The dialog's Call-ID, chosen by the caller so that its SIP capture can follow the dialog
    // from the first message (new_call_id()); empty: the stack picks one.
    std::string call_id;
    std::string request_uri;  // "sip:+31850835037@carrier.example:5060"
    std::string from_uri;     // "sip:+31612345678@192.0.2.10"
    std::string sdp;          // our offer
    std::vector<HeaderField> headers;
    std::string auth_username;  // answered once per challenge (401/407) when set
    std::string auth_password;
};

// Where a response came from: the far end, or our own stack (sofia-sip answers a request itself
// when DNS fails (503), nothing answers in time (408) or the transport fails (503)). A status the
// stack made up is never reported as if the far end had sent it.
enum class ResponseOrigin { kNetwork, kLocal };

// A fresh Call-ID (RFC 3261 §8.1.1.4): 128 random bits, hex, "@" `host`.
std::string new_call_id(std::string_view host);

// Callbacks from the SIP thread. Implementations must return quickly: post real work elsewhere.
class SipEvents {
public:
    virtual ~SipEvents() = default;
    virtual void on_invite(const InviteRequest& invite) = 0;
    // A re-INVITE on an established dialog (hold/resume/codec change); answer with reply().
    virtual void on_reinvite(DialogId dialog, const InviteRequest& invite) = 0;
    // The ACK of our 2xx; `sdp` is its body: the answer to an offer we made in that 2xx (late
    // offer, RFC 3261 §13.2.1), else empty.
    virtual void on_ack(DialogId dialog, const std::string& sdp) = 0;
    // A key press sent as SIP INFO (application/dtmf-relay or application/dtmf) on `dialog`;
    // the stack has answered the INFO already. `duration_ms` 0 when the sender did not say.
    virtual void on_info_dtmf(DialogId dialog, char digit, int duration_ms) {}
    virtual void on_cancel(DialogId dialog) = 0;
    virtual void on_bye(DialogId dialog) = 0;
    // A response to an INVITE we sent (provisional and final; `sdp` empty when none).
    virtual void on_response(DialogId dialog,
                             int status,
                             const std::string& phrase,
                             const std::string& sdp,
                             ResponseOrigin origin) {}
    // The far end challenged an INVITE we sent (401/407) in `realm`; `answered`: the stack sent
    // credentials (once per INVITE), else the challenge ends it (on_response follows).
    virtual void on_auth_challenge(DialogId dialog, int status, const std::string& realm,
                                   bool answered) {}
    // Progress of a REFER we sent on `dialog` (RFC 3515): the REFER's own response
    // (`from_notify` false: 202 accepted, or a refusal), then the status lines the far end reports
    // in NOTIFY message/sipfrag bodies (`from_notify` true), up to a final one (>= 200).
    virtual void on_refer_progress(DialogId dialog, int status, bool from_notify) {}
    // The session timer (RFC 4028) ended the dialog: no refresh came in time (`bye_sent`: the
    // stack has sent the BYE), or our refresh failed (the BYE is the application's to send).
    virtual void on_session_timer_expired(DialogId dialog, bool bye_sent) {}
    // The dialog is gone (after BYE either way, a final error response, or a CANCEL).
    virtual void on_terminated(DialogId dialog, int status, const std::string& phrase) = 0;
};

}  // namespace tl::sip
