#pragma once
// Inbound calls end to end: SIP events in, routing, media, the greeting, the call record and its
// events, control commands, overload protection and leak-free gauges.
//
// Threads: SipEvents callbacks arrive on the SIP thread and only post; each Call lives on its own
// strand of the io_context; speech synthesis runs on the SpeechService's workers.

#include "call/call_control.hpp"
#include "call/voice_providers.hpp"
#include "net/http_client.hpp"
#include "recording/recorder.hpp"

#include <boost/asio/strand.hpp>
#include "common/metrics.hpp"
#include "media/port_pool.hpp"
#include "sip/inbound_router.hpp"
#include "sip/sip_capture_registry.hpp"
#include "sip/sip_types.hpp"
#include "sip/trunk_metrics.hpp"
#include "sip/stack/sip_stack.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"
#include "voice/text_to_speech.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tl::call {

struct CallManagerConfig {
    std::string media_bind_ip = "0.0.0.0";
    std::string media_public_ip;  // address announced in SDP (--public-ip, else the SIP host)
    std::chrono::milliseconds rtp_timeout{60'000};
    int max_concurrent_calls = 1000;
    int max_calls_per_second = 200;
    std::chrono::milliseconds answer_delay{0};  // ring (180) this long before answering
    std::chrono::milliseconds transfer_ring_timeout{30'000};  // a transfer leg rings this long
    // How long a ringing call waits for the assistant-request webhook (api-contract.md §5.4).
    std::chrono::milliseconds assistant_request_timeout{5'000};
    std::optional<net::TlsClientContext> webhook_tls;  // none: the system CA store
    // Writes the recordings of calls whose assistant (or outbound request) asks for one;
    // null: calls are not recorded. Outlives the manager.
    recording::Recorder* recorder = nullptr;
};

class Call;

class CallManager : public sip::SipEvents,
                    public CallControl,
                    public std::enable_shared_from_this<CallManager> {
public:
    CallManager(boost::asio::io_context& io,
                store::Store& store,
                sip::InboundRouter& router,
                voice::SpeechService& speech,
                const store::SecretBox& secrets,
                std::shared_ptr<media::PortPool> ports,
                metrics::Registry& metrics,
                CallManagerConfig config);
    ~CallManager() override;

    // `capture`: where the calls' SIP messages are routed (none: no SIP capture).
    void attach(sip::SipStack& stack, sip::SipCaptureRegistry* capture = nullptr);

    // sip::SipEvents (SIP thread)
    void on_invite(const sip::InviteRequest& invite) override;
    void on_reinvite(sip::DialogId dialog, const sip::InviteRequest& invite) override;
    void on_ack(sip::DialogId dialog, const std::string& sdp) override;
    void on_info_dtmf(sip::DialogId dialog, char digit, int duration_ms) override;
    void on_session_timer_expired(sip::DialogId dialog, bool bye_sent) override;
    void on_cancel(sip::DialogId dialog) override;
    void on_bye(sip::DialogId dialog) override;
    void on_terminated(sip::DialogId dialog, int status, const std::string& phrase) override;
    void on_refer_progress(sip::DialogId dialog, int status, bool from_notify) override;
    void on_auth_challenge(sip::DialogId dialog,
                           int status,
                           const std::string& realm,
                           bool answered) override;
    void on_response(sip::DialogId dialog,
                     int status,
                     const std::string& phrase,
                     const std::string& sdp,
                     sip::ResponseOrigin origin) override;

    // CallControl (any thread)
    Status end_call(const std::string& org_id,
                    const std::string& call_id,
                    const std::string& message) override;
    Status transfer(const std::string& org_id,
                    const std::string& call_id,
                    const std::string& destination,
                    const std::string& message) override;
    Status say(const std::string& org_id,
               const std::string& call_id,
               const std::string& text,
               bool end_after) override;
    Status send_dtmf(const std::string& org_id,
                     const std::string& call_id,
                     const std::string& digits) override;

    // The transfer_call tool's entry point (conversation runtime; the test hook until then).
    Status transfer_to_tool_destination(const std::string& org_id,
                                        const std::string& call_id,
                                        std::size_t index) override;
    Status end_call_tool(const std::string& org_id, const std::string& call_id) override;
    Result<std::string> dial(OutboundCallRequest request) override;
    std::optional<sip::CaptureSnapshot> live_sip_capture(const std::string& org_id,
                                                         const std::string& call_id) override;
    Status inject_context(const std::string& org_id,
                          const std::string& call_id,
                          const std::string& text,
                          bool trigger_response) override;

    // Ends every live call (BYE) and waits up to `timeout` for them to finish.
    void shutdown(std::chrono::milliseconds timeout);

    int active_calls() const;

private:
    friend class Call;
    std::shared_ptr<Call> find(sip::DialogId dialog) const;
    std::shared_ptr<Call> find_by_id(const std::string& org_id, const std::string& call_id) const;
    void register_call(const std::shared_ptr<Call>& call);  // answered: reachable by id
    void forget(const Call& call);
    void attach_leg(sip::DialogId dialog, const std::shared_ptr<Call>& call);  // outbound leg
    // Outbound calls (issue 7): the call's own dialog, and its end (frees its trunk's slot).
    void attach_outbound(sip::DialogId dialog, const std::shared_ptr<Call>& call);
    void outbound_ended(const Call& call);
    // The trunk's limits: how long the call must wait for its turn, or kRateLimited.
    Result<std::chrono::milliseconds> reserve_trunk_slot(const store::SipTrunk& trunk);
    void forget_leg(sip::DialogId dialog);
    // The capture of a call that just ended, readable until it is stored (a moment later).
    void keep_recent_capture(const std::string& org_id,
                             const std::string& call_id,
                             std::shared_ptr<sip::CallCapture> capture);
    void forget_recent_capture(const std::string& call_id);
    bool admit();  // overload protection: concurrency and setup rate
    // A refused INVITE of a known trunk becomes a failed call record (call_id: the record's id),
    // at most kMaxRefusedRecordsPerSecond a second so a flood cannot fill the database; beyond
    // that it is only counted. Runs on an io thread (it writes to the store). Returns whether the
    // record was stored.
    bool record_refused(const std::string& call_id,
                        const sip::InviteRequest& invite,
                        const store::SipTrunk& trunk,
                        std::string end_reason,
                        int sip_status);

    boost::asio::io_context& io_;
    store::Store& store_;
    sip::InboundRouter& router_;
    voice::SpeechService& speech_;
    VoiceProviders voice_;
    // The webhooks calls wait on (assistant-request, tool-calls) share one keep-alive client,
    // used only on its own strand.
    boost::asio::strand<boost::asio::io_context::executor_type> hooks_strand_;
    net::HttpClient hooks_client_;
    const store::SecretBox& secrets_;
    std::shared_ptr<media::PortPool> ports_;
    CallManagerConfig config_;
    sip::SipStack* stack_ = nullptr;
    sip::SipCaptureRegistry* capture_registry_ = nullptr;

    metrics::Gauge& active_calls_;
    metrics::Gauge& dialogs_;
    metrics::Gauge& rtp_ports_;
    metrics::Counter& calls_total_;
    metrics::Counter& rejected_overload_;
    metrics::Counter& refused_recorded_;
    metrics::Counter& refused_unrecorded_;
    sip::TrunkMetrics trunk_metrics_;

    mutable std::mutex mutex_;
    std::unordered_map<sip::DialogId, std::shared_ptr<Call>> by_dialog_;
    std::unordered_map<std::string, std::shared_ptr<Call>> by_id_;
    struct TrunkPace {
        int active = 0;  // outbound calls of the trunk not yet ended
        std::chrono::steady_clock::time_point next_slot{};
    };
    std::unordered_map<std::string, TrunkPace> trunk_pace_;  // by trunk id
    // Outbound transfer legs, until their dialog terminates (which may be after the call ended).
    std::unordered_map<sip::DialogId, std::shared_ptr<Call>> legs_;
    struct RecentCapture {
        std::string org_id;
        std::shared_ptr<sip::CallCapture> capture;
    };
    std::unordered_map<std::string, RecentCapture> recent_captures_;  // by call id
    std::chrono::steady_clock::time_point rate_window_start_{};
    int rate_window_count_ = 0;
    std::chrono::steady_clock::time_point refused_window_start_{};
    int refused_window_count_ = 0;
};

}  // namespace tl::call
