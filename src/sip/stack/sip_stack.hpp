#pragma once
// The SIP stack (sofia-sip NUA) on its own thread. Nothing else touches sofia objects: other
// threads call the methods below, which post to the SIP thread; events come back through
// SipEvents on the SIP thread. Media is ours (NUA's SDP engine is disabled), so SDP travels as
// plain text.
//
// Thread-safety: every public method may be called from any thread.

#include "common/error.hpp"
#include "sip/sip_types.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace tl::sip {

class SipCaptureRegistry;

struct SipStackConfig {
    std::string listen_host = "0.0.0.0";
    int listen_port = 5060;
    std::string contact_host;  // --public-ip, else the listen host
    // User-Agent and Server: no version by default, so scanners cannot fingerprint a release.
    std::string user_agent = "trunkline";
    // NOTIFY: the progress of REFERs we send (in-dialog only; others are answered 481).
    // INFO: DTMF (application/dtmf-relay, application/dtmf); other bodies get 415.
    // UPDATE: session refreshes (RFC 4028, 3311), answered by the stack.
    std::string allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, INFO, UPDATE";
    // A TCP connection with nothing to send or receive for this long is closed; so is one
    // whose message stays incomplete (slow-loris) or that sent a message we could not parse
    // (the stack stops reading it after the 400).
    std::chrono::milliseconds tcp_idle_timeout{30'000};
    std::chrono::milliseconds incomplete_message_timeout{30'000};
    // Every message sent or received goes here (per-call SIP capture); none: not captured.
    // Must outlive the stack.
    SipCaptureRegistry* capture = nullptr;
};

// An OPTIONS request out of dialog (RFC 3261 §11): the trunk doctor's probe and the trunks'
// keep-alive.
struct OptionsRequest {
    std::string request_uri;  // "sip:pbx.example.com:5060;transport=tcp"
    std::string call_id;      // chosen so the SIP capture can follow it; empty: the stack's
    std::string auth_username;  // a 401/407 challenge is answered once when set
    std::string auth_password;
};

struct OptionsResult {
    int status = 0;  // the first final response
    std::string phrase;
    ResponseOrigin origin = ResponseOrigin::kLocal;
    std::chrono::microseconds round_trip{0};  // request sent to that response
    std::string realm;            // of the challenge, when status is 401/407
    bool credentials_sent = false;
    int status_after_credentials = 0;  // the response to the authenticated OPTIONS
    std::string phrase_after_credentials;
    ResponseOrigin origin_after_credentials = ResponseOrigin::kLocal;
};

class SipStack {
public:
    // Binds UDP and TCP and starts the SIP thread.
    static Result<std::unique_ptr<SipStack>> start(const SipStackConfig& config, SipEvents& events);
    ~SipStack();  // stop()

    void reply(DialogId dialog, Reply reply);
    // Sends an INVITE; responses arrive through SipEvents::on_response. `before_send` runs with
    // the new id before the INVITE reaches the SIP thread: whoever routes the responses must know
    // the id by then, or a fast answer (a busy server, a loaded machine) finds nobody to go to.
    DialogId invite(OutboundInvite invite, const std::function<void(DialogId)>& before_send = {});
    // REFER on an established dialog (RFC 3515) with `refer_to` ("<tel:+31612345678>" or
    // "<sip:agent@pbx>"); progress arrives through SipEvents::on_refer_progress.
    void refer(DialogId dialog, std::string refer_to, std::string referred_by);
    // Sends an OPTIONS; `done` runs on the SIP thread with the outcome (sofia gives up after
    // 32 s with its own 408). Never called if the stack stops first.
    void options(OptionsRequest request, std::function<void(OptionsResult)> done);
    // BYE on an established dialog, CANCEL on one still ringing.
    void bye(DialogId dialog);
    // Runs `fn` on the SIP thread (tests, diagnostics).
    void post(std::function<void()> fn);
    // Ends every dialog (BYE or 503), shuts the stack down and joins the thread; idempotent.
    void stop();

    int bound_port() const;

    struct Impl;

private:
    explicit SipStack(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tl::sip
