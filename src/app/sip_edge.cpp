#include "app/sip_edge.hpp"

#include "common/clock.hpp"
#include "media/port_pool.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

namespace tl::app {

namespace asio = boost::asio;

Result<int> pick_free_sip_port(const std::string& host) {
    asio::io_context io;
    const auto address = asio::ip::make_address(host);
    for (int attempt = 0; attempt < 20; ++attempt) {
        boost::system::error_code ec;
        asio::ip::udp::socket udp(io);
        udp.open(address.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
        if (!ec) udp.bind({address, 0}, ec);
        if (ec) continue;
        const int port = udp.local_endpoint().port();
        asio::ip::tcp::acceptor tcp(io);
        tcp.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
        if (!ec) tcp.bind({address, static_cast<unsigned short>(port)}, ec);
        if (!ec) return port;
    }
    return make_error(Errc::kUnavailable, "no free SIP port on " + host);
}

Result<std::unique_ptr<SipEdge>> SipEdge::start(asio::io_context& io,
                                                store::Store& store,
                                                const store::SecretBox& secrets,
                                                metrics::Registry& metrics,
                                                const SipEdgeOptions& options) {
    std::unique_ptr<SipEdge> edge(new SipEdge());
    int port = options.sip_listen.port;
    if (port == 0) {
        auto picked = pick_free_sip_port(options.sip_listen.host);
        if (!picked) return picked.error();
        port = *picked;
    }
    std::string announced = options.public_ip;
    if (announced.empty()) {
        announced = options.sip_listen.host == "0.0.0.0" || options.sip_listen.host == "::"
                        ? "127.0.0.1"
                        : options.sip_listen.host;
    }
    edge->endpoint_ = "sip:" + ListenAddress{announced, port}.to_string();
    edge->announced_host_ = announced;
    edge->listening_ = "sip:" + ListenAddress{options.sip_listen.host, port}.to_string();

    edge->speech_ = std::make_unique<voice::SpeechService>(voice::make_espeak_tts(), 1, 256);
    std::array<unsigned char, 32> nonce_secret{};
    randombytes_buf(nonce_secret.data(), nonce_secret.size());
    sip::InboundRouterConfig router_config;
    router_config.offer_sha256 = options.digest_sha256;
    edge->router_ = std::make_unique<sip::InboundRouter>(store, secrets, metrics, router_config,
                                                         nonce_secret);
    call::CallManagerConfig call_config;
    call_config.media_bind_ip =
        options.sip_listen.host == "::" ? "::" : options.sip_listen.host;
    call_config.media_public_ip = announced;
    call_config.rtp_timeout = options.rtp_timeout;
    call_config.max_concurrent_calls = options.max_concurrent_calls;
    call_config.max_calls_per_second = options.max_calls_per_second;
    call_config.answer_delay = options.answer_delay;
    call_config.transfer_ring_timeout = options.transfer_timeout;
    call_config.webhook_tls = options.webhook_tls;
    if (options.recordings != nullptr) {
        // Recording events join the call's timeline; the writer thread stores them itself.
        edge->recorder_ = std::make_unique<recording::Recorder>(
            *options.recordings,
            [&store](const recording::RecordingJob& job, const std::string& type,
                     const std::string& data) {
                store::CallEvent event;
                event.call_id = job.call_id;
                event.type = type;
                event.data_json = data;
                event.created_at = now_iso8601();
                if (auto st = store.append_call_event(event); !st) {
                    spdlog::warn("cannot store event {} of call {}: {}", type, job.call_id,
                                 st.error().message);
                }
            },
            recording::Recorder::Options{});
        call_config.recorder = edge->recorder_.get();
    }
    edge->calls_ = std::make_shared<call::CallManager>(
        io, store, *edge->router_, *edge->speech_, secrets,
        media::PortPool::create(options.rtp_ports.low, options.rtp_ports.high), metrics,
        call_config);

    edge->capture_ = std::make_unique<sip::SipCaptureRegistry>();
    if (!options.hep_endpoint.empty()) {
        auto hep = sip::HepSender::open(options.hep_endpoint, options.hep_id, metrics);
        if (!hep) return hep.error();
        edge->hep_ = std::move(*hep);
        edge->capture_->set_exporter(
            [hep = edge->hep_.get()](const sip::CapturedMessage& m, std::string_view call_id) {
                hep->send(m, call_id);
            });
    }
    edge->capture_purger_ = std::make_unique<CapturePurger>(store, options.capture_retention_days);

    sip::SipStackConfig stack_config;
    stack_config.capture = edge->capture_.get();
    stack_config.listen_host = options.sip_listen.host;
    stack_config.listen_port = port;
    stack_config.contact_host = announced;
    stack_config.user_agent = options.user_agent;
    stack_config.tcp_idle_timeout = options.tcp_idle_timeout;
    stack_config.incomplete_message_timeout = options.tcp_idle_timeout;
    auto stack = sip::SipStack::start(stack_config, *edge->calls_);
    if (!stack) return stack.error();
    edge->stack_ = std::move(*stack);
    edge->calls_->attach(*edge->stack_, edge->capture_.get());
    auto tcp_limits = options.tcp_limits;
    tcp_limits.idle_timeout = options.tcp_idle_timeout;
    edge->tcp_guard_ = std::make_unique<sip::TcpConnectionGuard>(port, tcp_limits, metrics);
    edge->tcp_guard_->start();
    edge->keepalive_ =
        std::make_unique<TrunkKeepAlive>(store, *edge->stack_, metrics, announced);
    spdlog::info("sip listening on {}:{} (udp, tcp), announced as {}", options.sip_listen.host,
                 port, edge->endpoint_);
    return edge;
}

SipEdge::~SipEdge() {
    stop();
}

std::string SipEdge::endpoint() const {
    return endpoint_;
}

void SipEdge::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (tcp_guard_) tcp_guard_->stop();
    keepalive_.reset();
    if (calls_) calls_->shutdown(std::chrono::milliseconds(2000));
    if (stack_) stack_->stop();
}

}  // namespace tl::app
