#pragma once
// The call-handling half of `serve`: RTP ports, speech synthesis, inbound routing, the call
// manager and the SIP stack, built and torn down together.

#include "app/listen_address.hpp"
#include "net/tls_client_context.hpp"
#include "recording/recorder.hpp"
#include "call/call_manager.hpp"
#include "common/metrics.hpp"
#include "app/capture_purger.hpp"
#include "app/trunk_keepalive.hpp"
#include "sip/hep_sender.hpp"
#include "sip/inbound_router.hpp"
#include "sip/sip_capture_registry.hpp"
#include "sip/stack/sip_stack.hpp"
#include "sip/tcp_guard.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"
#include "voice/text_to_speech.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace tl::app {

struct SipEdgeOptions {
    ListenAddress sip_listen;
    PortRange rtp_ports;
    std::string public_ip;
    std::chrono::milliseconds rtp_timeout{60'000};
    int max_concurrent_calls = 1000;
    int max_calls_per_second = 200;
    std::chrono::milliseconds answer_delay{0};
    bool digest_sha256 = false;
    std::string user_agent = "trunkline";
    std::chrono::milliseconds tcp_idle_timeout{30'000};
    sip::TcpGuardLimits tcp_limits;  // also challenge with SHA-256 (docs/adr/0005)
    std::chrono::milliseconds transfer_timeout{30'000};
    // Trust for the webhooks a call waits on (assistant-request, tool-calls), as for deliveries.
    std::optional<net::TlsClientContext> webhook_tls;
    int capture_retention_days = 7;  // calls' SIP captures
    std::string hep_endpoint;        // HOST:PORT of a Homer collector; empty: no HEP export
    std::uint32_t hep_id = 2001;
    // Where calls' recordings go; null: calls are not recorded. Outlives the edge.
    const recording::RecordingFiles* recordings = nullptr;
};

class SipEdge {
public:
    static Result<std::unique_ptr<SipEdge>> start(boost::asio::io_context& io,
                                                  store::Store& store,
                                                  const store::SecretBox& secrets,
                                                  metrics::Registry& metrics,
                                                  const SipEdgeOptions& options);
    ~SipEdge();

    call::CallControl& calls() { return *calls_; }
    sip::SipStack& stack() { return *stack_; }
    sip::SipCaptureRegistry& capture() { return *capture_; }
    // The host we announce (Contact, SDP): --public-ip, else the listen address.
    const std::string& announced_host() const { return announced_host_; }
    // Where carriers send INVITEs: the public IP (else the bound address) and the bound port.
    std::string endpoint() const;
    // The address the SIP stack is bound to ("sip:127.0.0.1:5060"), port 0 resolved.
    std::string listening() const { return listening_; }
    // Ends calls (BYE), then stops the SIP stack and the speech workers; idempotent.
    void stop();

private:
    SipEdge() = default;
    std::string endpoint_;
    std::string listening_;
    std::string announced_host_;
    std::unique_ptr<voice::SpeechService> speech_;
    std::unique_ptr<sip::InboundRouter> router_;
    // Declared before the stack and the calls, so it outlives both (they record into it).
    std::unique_ptr<sip::HepSender> hep_;
    std::unique_ptr<sip::SipCaptureRegistry> capture_;
    std::unique_ptr<CapturePurger> capture_purger_;
    // Declared before the calls, so it outlives them: a call's end finishes its recording.
    std::unique_ptr<recording::Recorder> recorder_;
    std::shared_ptr<call::CallManager> calls_;
    std::unique_ptr<sip::SipStack> stack_;
    std::unique_ptr<sip::TcpConnectionGuard> tcp_guard_;
    std::unique_ptr<TrunkKeepAlive> keepalive_;
    bool stopped_ = false;
};

// A port free on both UDP and TCP at `host` (SIP listens on both), for "--sip-listen HOST:0".
Result<int> pick_free_sip_port(const std::string& host);

}  // namespace tl::app
