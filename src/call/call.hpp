#pragma once
// One inbound call: its SIP dialog, its media stream and its record. All state lives on the
// call's strand, so a Call holds no mutex (STYLE.md "Concurrency").

#include "call/bridge_leg.hpp"
#include "call/call_control.hpp"
#include "call/caller_listener.hpp"
#include "call/failure_reason.hpp"
#include "call/transcript.hpp"
#include "common/log.hpp"
#include "media/rtp_session.hpp"
#include "media/sdp.hpp"
#include "recording/recording_tap.hpp"
#include "sip/capture/call_capture.hpp"
#include "sip/inbound_router.hpp"
#include "sip/sip_types.hpp"
#include "store/records.hpp"
#include "webhook/sync_request.hpp"
#include "voice/conversation/conversation.hpp"
#include "voice/text_to_speech.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/io_context.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tl::call {

class CallManager;

// The 425 Hz ringback cadence a caller hears while a transfer destination rings.
voice::PcmPtr ringback();

class Call : public std::enable_shared_from_this<Call>, private voice::ConversationActions {
public:
    Call(CallManager& manager, sip::InviteRequest invite);
    // An outbound call (call_outbound.cpp): dial() places it on the strand.
    Call(CallManager& manager, OutboundCallRequest request);
    // `pace_delay`: the trunk's max_calls_per_second holds the INVITE back this long ("queued").
    void dial(std::chrono::milliseconds pace_delay);
    // Leases the RTP ports and stores the call record ("dialing" or "queued"); before dial().
    Status prepare_outbound(std::chrono::milliseconds pace_delay);

    // Each posts to the call's strand.
    void start();
    void on_ack(std::string sdp);
    // A key press from the caller, by whichever way it came ("rfc4733", "info", "inband").
    void on_digit(char digit, int duration_ms, std::string_view method);
    void on_cancel();
    void on_bye(sip::DialogId dialog);
    void on_leg_response(sip::DialogId dialog,
                         int status,
                         std::string phrase,
                         std::string sdp,
                         sip::ResponseOrigin origin);
    // The destination challenged our INVITE (401/407); `answered`: credentials were sent.
    void on_leg_challenge(sip::DialogId dialog, int status, std::string realm, bool answered);
    void on_refer_progress(int status, bool from_notify);
    void on_reinvite(sip::InviteRequest invite);
    void on_terminated(sip::DialogId dialog, int status, std::string phrase);
    // RFC 4028: the session of `dialog` (the call's, or a transfer leg's) was not refreshed.
    void on_session_timer_expired(sip::DialogId dialog, bool bye_sent);
    void hang_up(std::string end_reason, std::string error = {});
    // The end-call command: with a `message`, what was playing gives way to it, the
    // conversation stops, and BYE follows once it has been heard (assistant_ended). Without
    // one, while a transfer is being set up, or if it cannot be synthesised: BYE at once.
    void end_with_message(std::string message);
    void say(std::string text, bool end_after);
    // send-dtmf: to the transfer destination while bridged, else to the caller.
    void send_digits(std::string digits);
    // inject-context: a message for the assistant's model; with `respond` it answers now.
    void inject_context(std::string text, bool respond);
    void transfer(std::string destination, std::string message);
    // The assistant's entry point (the transfer_call tool): destination `index` of the
    // assistant's transfer_call tool, with its own message and, for SIP destinations, its own
    // sealed credentials. The conversation runtime calls it; tests reach it through a hook.
    void transfer_to_tool_destination(std::size_t index);
    // The assistant's end_call tool: speaks the assistant's end_call_message (if any), then
    // hangs up with end_reason assistant_ended.
    void end_call_tool();

    const std::string& id() const { return id_; }
    sip::DialogId dialog() const { return invite_.dialog; }
    // Set once before the call is registered by id; read-only afterwards.
    const std::string& org_id() const { return org_id_; }
    const std::string& trunk_id() const { return route_->trunk.id; }
    // Every SIP message of the call's dialogs so far (the API's GET /calls/{id}/sip while the
    // call is live). Any thread.
    sip::CaptureSnapshot sip_capture() const { return capture_->snapshot(); }

private:
    enum class State { kRouting, kAnswered, kInProgress, kTransferring, kBridged, kEnded };

    // Outbound (call_outbound.cpp).
    Result<sip::OutboundInvite> outbound_invite();
    void send_outbound_invite();
    void on_outbound_response(int status,
                              const std::string& phrase,
                              const std::string& sdp,
                              sip::ResponseOrigin origin);
    // An outbound call that did not connect: end_reason, hint and sip_code from `failure`.
    void outbound_failed(const FailureReason& failure);
    void outbound_answered();
    std::string opening_message() const;
    void route_and_answer();
    void ring_then_answer();
    void answer();
    // hang_up's body, on the strand: BYE (480 while routing, CANCEL while an outbound call
    // rings), then the record.
    void end_now(std::string end_reason, std::string error);
    // Media and the assistant start: at once after our 200, or after the ACK's answer when the
    // INVITE had no offer (late offer).
    void begin_conversation_media();
    Status start_media_from_answer(const std::string& sdp);
    // assistant-request (call_assistant_request.cpp): where to ask, asking, and the answer.
    struct WebhookTarget {
        std::string url;
        std::optional<std::string> secret_sealed;
    };
    std::optional<WebhookTarget> assistant_request_target();
    void request_assistant(const WebhookTarget& target);
    void on_assistant_answer(Result<boost::json::value> answer);
    void refuse_with_message(const std::string& message);
    void fail_unanswered(int sip_status, std::string end_reason);
    void arm_max_duration();
    // The assistant converses (call_conversation.cpp).
    void start_conversation();
    void stop_conversation();
    bool conversing() const;
    void synthesize(std::string text, std::function<void(Result<voice::PcmPtr>)> done) override;
    void play(voice::PcmPtr audio) override;
    void stop_playing() override;
    void transfer(const voice::ConfiguredTool& tool, std::size_t destination) override;
    void end_call(const std::string& message, const std::string& end_reason) override;
    void fall_back(const std::string& provider, const std::string& error) override;
    // A fallback's transfer did not connect, or there was nothing to transfer to: the goodbye,
    // then the end (assistant_error).
    void end_after_failure();
    void call_function(const voice::ConfiguredTool& tool,
                       const voice::ToolCall& call,
                       std::function<void(Result<std::string>)> done) override;
    void record_event(std::string type, std::string data_json) override;
    void report_words(std::uint64_t turn, std::size_t words) override;
    void transcript_entry(voice::Role role,
                          const std::string& content,
                          std::chrono::steady_clock::time_point started) override;
    // Adds to the call's `messages` and stores them.
    void add_to_transcript(std::string_view role,
                           std::string_view content,
                           std::chrono::steady_clock::time_point started);
    std::optional<boost::json::object> tool_config(std::size_t position) const;
    void transfer_to(const boost::json::object& destination);
    media::RtpSession::Callbacks rtp_callbacks();
    // Answers the INVITE with `reply`; `trunk` (else the routed one): record it as refused.
    void reject(const sip::Reply& reply,
                std::string reason,
                std::optional<store::SipTrunk> trunk = std::nullopt);
    void speak(const std::string& text,
               bool end_after,
               std::function<void()> then = {},
               std::string end_reason = "assistant_ended");
    void begin_transfer(const std::string& destination,
                        const std::string& message,
                        std::string username,
                        std::string password);
    void dial_transfer();
    void on_early_media(const std::string& sdp);
    void send_refer();
    std::string refer_target(const std::string& destination);
    // `sip_code` 0: no final NOTIFY in time.
    void refer_failed(int sip_code, bool from_notify);
    std::string transfer_method();
    void transfer_failed(FailureReason failure);
    // The attempt (a transfer leg, an outbound call) is over without an answer.
    FailureReason attempt_failure(int status, const std::string& phrase, sip::ResponseOrigin origin);
    void begin_attempt(const sip::OutboundInvite& invite, std::string target, std::string host);
    // The SIP capture: follow a dialog's Call-ID; store what was captured (at the end, and once
    // more a moment later for the last messages: the 200 to our BYE, the ACK of our refusal).
    void follow_sip_call_id(const std::string& sip_call_id);
    void persist_capture();
    void persist_capture_later();
    // A refusal nobody stores (a digest challenge, a stranger): its messages go back to the
    // registry for the call that follows on the same Call-ID (the authenticated INVITE).
    void release_capture();
    // The recording (call_recording.cpp): from the answer, when the assistant asks for one, to
    // the end of the call, the bridged part of a transfer included.
    void start_recording();
    void stop_recording();
    // The ids every log line about this call carries.
    log::Fields log_fields(std::string_view reason = {}) const;
    void transfer_connected();
    void save_transfer();
    void close_leg();
    Result<BridgeTarget> transfer_target();
    // `error` set: the call ended because something failed (webhooks say ended-with-error).
    void finish(std::string status, std::string end_reason, std::string error = {});
    // Stores the record and, in the same transaction, the webhook events it causes.
    void save_with_events(std::initializer_list<std::string_view> events);
    // A webhook the call waits on (assistant-request, tool-calls); `done` runs on the strand.
    void send_webhook(webhook::SyncWebhook hook, std::function<void(Result<boost::json::value>)> done);
    std::string assistant_language() const;
    // The assistant's speech service (network TTS) or the server's espeak-ng; chosen once.
    voice::SpeechService& speech();
    // Synthesis in the assistant's voice; when that voice fails, once in espeak-ng (the words
    // are never lost to a broken voice) and espeak-ng for the rest of the call. `done` on the
    // strand.
    void synthesize_for_caller(std::string text, std::function<void(Result<voice::PcmPtr>)> done);

    CallManager& manager_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    sip::InviteRequest invite_;
    std::string id_;
    std::string org_id_;
    State state_ = State::kRouting;
    bool outbound_ = false;
    std::optional<std::string> outbound_first_message_;
    std::optional<media::PortLease> outbound_lease_;
    std::optional<store::Call> record_;
    std::optional<sip::AcceptedCall> route_;
    std::shared_ptr<media::RtpSession> rtp_;
    std::optional<media::SessionDescription> remote_sdp_;
    std::optional<media::NegotiatedAudio> negotiated_;
    std::unique_ptr<boost::asio::steady_timer> ring_timer_;
    std::unique_ptr<boost::asio::steady_timer> max_duration_timer_;
    std::optional<int> max_duration_seconds_;  // from the assistant, or assistant-request
    media::LocalMedia local_media_;
    std::optional<std::string> hang_up_after_playout_;  // the end reason, once playout ends
    // A provider failed and the assistant's fallback runs: "llm: <why>" (docs/conversation.md).
    std::optional<std::string> fallback_error_;
    bool ringing_sent_ = false;
    // Late offer (RFC 3261 §13.2.1, INVITE without SDP): our offer went in the 200 and the
    // answer comes in the ACK. Also set while a 200 to an offer-less re-INVITE awaits its ACK.
    bool offer_in_our_200_ = false;
    std::function<void()> after_playout_;
    // Transfer (bridge): the outbound leg, reachable from the caller's RTP strand for relaying.
    std::shared_ptr<BridgeLeg> leg_;
    std::atomic<std::shared_ptr<BridgeLeg>> relay_leg_;
    std::unique_ptr<boost::asio::steady_timer> transfer_timer_;
    boost::json::object transfer_;
    std::string transfer_trunk_id_;  // the trunk the current transfer leg goes through
    std::string destination_username_;  // a SIP destination's own credentials (tool path)
    std::string destination_password_;
    std::chrono::steady_clock::time_point answered_at_{};
    Transcript transcript_;  // started at the answer
    std::shared_ptr<voice::Conversation> conversation_;
    // Every SIP message of the call's dialogs (SipCaptureRegistry fills it, from the SIP thread).
    std::shared_ptr<sip::CallCapture> capture_ = std::make_shared<sip::CallCapture>();
    std::vector<std::string> capture_call_ids_;
    std::unique_ptr<boost::asio::steady_timer> capture_timer_;
    bool capture_stored_ = false;  // the record exists and the capture may be stored with it
    // What the current transfer leg or outbound INVITE has seen (failure_reason.hpp).
    AttemptOutcome attempt_;
    std::optional<std::shared_ptr<voice::SpeechService>> speech_;
    // The assistant's own voice failed on this call: espeak-ng speaks from then on.
    bool voice_failed_ = false;
    // Read by the caller's RTP strand for every frame; set and cleared on the call's strand.
    std::atomic<std::shared_ptr<CallerListener>> listener_;
    // Read by the caller's RTP strand for every frame, both ways; set and cleared on the strand.
    std::atomic<std::shared_ptr<recording::RecordingTap>> recording_;
};

}  // namespace tl::call
