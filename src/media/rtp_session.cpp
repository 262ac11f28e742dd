#include "media/rtp_session.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <random>

#include "media/dtmf.hpp"
#include "media/g711.hpp"
#include "media/rtp_packet.hpp"
#include "media/sample_relay.hpp"

// Everything below runs on the session's strand except the public entry points, which only
// post, and stats()/playing()/local_port(), which read atomics or constants.

namespace tl::media {
namespace {

namespace asio = boost::asio;
using Udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kSamplesPerFrame = 160;  // 20 ms at 8 kHz
constexpr auto kFrameInterval = 20ms;
constexpr auto kMaxLateness = 100ms;  // later than this, skip ahead instead of bursting
constexpr std::size_t kMaxDatagram = 2048;
constexpr std::size_t kMaxQueuedBuffers = 1024;
constexpr std::size_t kInbandGapSamples = 800;  // 100 ms at 8 kHz between in-band digits
constexpr int kSamplesPerMs = 8;
constexpr int kDscpExpedited = 46 << 2;  // EF (RFC 3246) in the IP TOS byte

std::uint8_t silence_byte(Codec codec) {
    return codec == Codec::kPcmu ? linear_to_ulaw(0) : linear_to_alaw(0);
}

}  // namespace

struct RtpSession::Impl {
    Impl(asio::io_context& io, RtpSessionConfig cfg, Callbacks cbs)
        : strand(asio::make_strand(io)),
          rtp_socket(strand),
          rtcp_socket(strand),
          send_timer(strand),
          rtcp_timer(strand),
          inactivity_timer(strand),
          config(std::move(cfg)),
          callbacks(std::move(cbs)),
          audio(config.audio) {}

    asio::strand<asio::io_context::executor_type> strand;
    Udp::socket rtp_socket;
    Udp::socket rtcp_socket;
    asio::steady_timer send_timer;
    asio::steady_timer rtcp_timer;
    asio::steady_timer inactivity_timer;
    RtpSessionConfig config;
    Callbacks callbacks;
    std::weak_ptr<RtpSession> weak_self;
    int local_rtp_port = 0;

    // Set by stop() on any thread, checked before every callback: none runs after stop().
    std::atomic<bool> stopped{false};

    // --- strand state ---
    NegotiatedAudio audio;
    bool started = false;
    bool closed = false;
    Udp::endpoint rtp_dest;
    Udp::endpoint rtcp_dest;
    bool have_rtp_dest = false;
    bool have_rtcp_dest = false;
    bool rtp_latched = false;
    bool rtcp_latched = false;

    std::uint32_t ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;  // of the frame due at next_send
    Clock::time_point next_send;
    bool marker_pending = true;  // first packet, and first after a pause in sending
    bool in_talkspurt = false;
    std::uint32_t payload_octets_sent = 0;

    std::deque<std::shared_ptr<const Pcm>> queue;
    std::size_t queue_offset = 0;  // samples of queue.front() already sent
    bool playout_pending = false;  // audio was queued: report when the queue runs empty

    DtmfReceiver dtmf;
    DtmfSender dtmf_sender;
    // Far-end silence (silence suppression, a stream that ended): after kSilentTicks ticks
    // without a packet, on_audio gets silent frames on our clock (see rtp_session.hpp).
    bool packet_since_tick = false;
    int ticks_without_packet = 0;
    static constexpr int kSilentTicks = 3;
    std::array<std::int16_t, kSamplesPerFrame> silence{};
    SampleRelay relayed;  // written by the other leg's strand (see relay())
    Clock::time_point last_received;
    bool inactivity_fired = false;

    std::array<std::int16_t, kSamplesPerFrame> frame{};
    std::array<std::uint8_t, rtp::kHeaderSize + kSamplesPerFrame> send_buffer{};
    std::array<std::uint8_t, kMaxDatagram> receive_buffer{};
    Udp::endpoint receive_from;
    std::array<std::int16_t, kMaxDatagram> decoded{};
    std::array<std::uint8_t, kMaxDatagram> rtcp_receive_buffer{};
    Udp::endpoint rtcp_receive_from;
    std::array<std::uint8_t, 512> rtcp_send_buffer{};

    // --- any thread ---
    std::atomic<std::uint64_t> packets_sent{0};
    std::atomic<std::uint64_t> packets_received{0};
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> bytes_received{0};
    std::atomic<std::uint64_t> packets_dropped{0};
    std::atomic<std::uint64_t> dtmf_events{0};
    std::atomic<std::uint64_t> dtmf_sent{0};
    std::atomic<std::uint64_t> latched{0};
    std::atomic<std::uint64_t> rtcp_sent{0};
    std::atomic<std::uint64_t> rtcp_received{0};
    std::atomic<int> queued_buffers{0};

    static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
        counter.fetch_add(n, std::memory_order_relaxed);
    }

    bool sending() const {
        return audio.local_direction == Direction::kSendRecv ||
               audio.local_direction == Direction::kSendOnly;
    }

    bool receiving() const {
        return audio.local_direction == Direction::kSendRecv ||
               audio.local_direction == Direction::kRecvOnly;
    }

    // The addresses of the SDP, until packets tell us better (symmetric RTP).
    void set_destinations_from_sdp() {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(audio.remote_address, ec);
        have_rtp_dest = !ec && !address.is_unspecified() && audio.remote_port > 0;
        if (have_rtp_dest)
            rtp_dest = Udp::endpoint(address, static_cast<std::uint16_t>(audio.remote_port));
        if (rtcp_latched) return;
        const int rtcp_port =
            audio.remote_rtcp_port > 0 ? audio.remote_rtcp_port : audio.remote_port + 1;
        have_rtcp_dest = have_rtp_dest && rtcp_port <= 65535;
        if (have_rtcp_dest)
            rtcp_dest = Udp::endpoint(address, static_cast<std::uint16_t>(rtcp_port));
    }

    // --- lifecycle ---

    void do_start() {
        if (started || closed) return;
        started = true;
        const auto now = Clock::now();
        // Every session ticks on the same 20 ms grid of the steady clock, so one timer wakeup
        // serves all the calls due at that instant instead of one wakeup (and context switch) per
        // call per frame. The first frame goes out at once.
        next_send = now - now.time_since_epoch() % kFrameInterval;
        last_received = now;
        receive_rtp();
        receive_rtcp();
        on_send_tick();
        arm_rtcp();
        arm_inactivity();
    }

    void close() {
        if (closed) return;
        closed = true;
        stopped.store(true);
        send_timer.cancel();
        rtcp_timer.cancel();
        inactivity_timer.cancel();
        boost::system::error_code ignored;
        rtp_socket.close(ignored);
        rtcp_socket.close(ignored);
        queued_buffers.fetch_sub(static_cast<int>(queue.size()));
        queue.clear();
        config.ports = PortLease{};  // the pair goes back to the pool
    }

    // --- sending: absolute 20 ms deadlines (next += 20 ms) so the pace never drifts ---

    void arm_send() {
        send_timer.expires_at(next_send);
        send_timer.async_wait([weak = weak_self](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->impl_->on_send_tick();
        });
    }

    void on_send_tick() {
        if (closed) return;
        const auto now = Clock::now();
        if (now - next_send > kMaxLateness) {
            // A stalled thread or suspended VM: drop the missed slots rather than burst them.
            // The timestamp still advances by the skipped time so the far end stays in sync.
            const auto missed = (now - next_send) / kFrameInterval;
            next_send += missed * kFrameInterval;
            timestamp += static_cast<std::uint32_t>(missed) * kSamplesPerFrame;
        }
        const bool speech = take_frame();
        if (!stopped.load() && callbacks.on_sent_audio) callbacks.on_sent_audio(frame);
        const auto event = audio.telephone_event_pt ? dtmf_sender.tick(timestamp) : std::nullopt;
        if (sending() && event) {
            send_event(*event);
        } else if (sending()) {
            send_frame(speech);
        } else {
            marker_pending = true;  // the first packet after hold starts a new talkspurt
        }
        timestamp += kSamplesPerFrame;
        next_send += kFrameInterval;
        conceal_silence();
        if (closed) return;
        if (playout_pending && queue.empty()) {
            playout_pending = false;
            if (!stopped.load() && callbacks.on_playout_done) callbacks.on_playout_done();
            if (closed) return;
        }
        arm_send();
    }

    void conceal_silence() {
        if (!receiving() || !rtp_latched) return;  // nothing heard yet, or on hold: no listener time
        if (std::exchange(packet_since_tick, false)) {
            ticks_without_packet = 0;
            return;
        }
        if (++ticks_without_packet < kSilentTicks) return;  // jitter, not silence
        if (!stopped.load() && callbacks.on_audio) callbacks.on_audio(silence);
    }

    // Fills `frame` from the play queue (across buffer boundaries), padding with silence.
    // Returns whether it holds queued audio. While on hold the queue is consumed all the same:
    // playout follows real time.
    bool take_frame() {
        std::size_t filled = 0;
        bool speech = false;
        while (filled < kSamplesPerFrame && !queue.empty()) {
            const Pcm& buffer = *queue.front();
            const std::size_t n = std::min(kSamplesPerFrame - filled, buffer.size() - queue_offset);
            std::copy_n(buffer.begin() + static_cast<std::ptrdiff_t>(queue_offset), n,
                        frame.begin() + static_cast<std::ptrdiff_t>(filled));
            filled += n;
            queue_offset += n;
            speech = speech || n > 0;
            if (queue_offset >= buffer.size()) {
                queue.pop_front();
                queue_offset = 0;
                queued_buffers.fetch_sub(1);
            }
        }
        std::fill(frame.begin() + static_cast<std::ptrdiff_t>(filled), frame.end(),
                  std::int16_t{0});
        // A bridged leg's audio mixes with whatever we play ourselves (an announcement).
        return relayed.mix_into(frame) > 0 || speech;
    }

    void send_event(const DtmfSender::Packet& event) {
        if (!have_rtp_dest) return;
        std::array<std::uint8_t, rtp::kHeaderSize + 4> packet{};
        rtp::write_header({event.marker, static_cast<std::uint8_t>(*audio.telephone_event_pt),
                           sequence, event.timestamp, ssrc},
                          packet);
        std::copy(event.payload.begin(), event.payload.end(), packet.begin() + rtp::kHeaderSize);
        boost::system::error_code ec;
        rtp_socket.send_to(asio::buffer(packet), rtp_dest, 0, ec);
        ++sequence;
        if (ec) return;
        marker_pending = false;
        in_talkspurt = false;  // audio after the event starts a new talkspurt
        payload_octets_sent += 4;
        bump(packets_sent);
        bump(bytes_sent, packet.size());
    }

    void send_frame(bool speech) {
        // Marker (RFC 3551 §4.1): first packet of the stream and first packet of a talkspurt.
        const bool marker = marker_pending || (speech && !in_talkspurt);
        in_talkspurt = speech;
        auto payload = std::span(send_buffer).subspan(rtp::kHeaderSize);
        if (speech) {
            if (audio.codec == Codec::kPcmu) {
                encode_ulaw(frame, payload);
            } else {
                encode_alaw(frame, payload);
            }
        } else {
            std::fill(payload.begin(), payload.end(), silence_byte(audio.codec));
        }
        if (!have_rtp_dest) return;
        rtp::write_header(
            {marker, static_cast<std::uint8_t>(audio.payload_type), sequence, timestamp, ssrc},
            send_buffer);
        boost::system::error_code ec;
        rtp_socket.send_to(asio::buffer(send_buffer), rtp_dest, 0, ec);  // non-blocking socket
        ++sequence;
        if (ec) return;  // would_block or unreachable: a lost packet, as on the network
        marker_pending = false;
        payload_octets_sent += kSamplesPerFrame;
        bump(packets_sent);
        bump(bytes_sent, send_buffer.size());
    }

    // --- receiving: validate, latch, decode into the fixed buffer, no jitter buffer ---

    void receive_rtp() {
        rtp_socket.async_receive_from(
            asio::buffer(receive_buffer), receive_from,
            [weak = weak_self](const boost::system::error_code& ec, std::size_t n) {
                if (ec == asio::error::operation_aborted) return;
                if (auto self = weak.lock()) self->impl_->on_rtp(ec, n);
            });
    }

    void on_rtp(const boost::system::error_code& ec, std::size_t n) {
        if (closed) return;
        if (!ec) handle_rtp(std::span(receive_buffer.data(), n));
        if (!closed) receive_rtp();
    }

    void handle_rtp(std::span<const std::uint8_t> datagram) {
        const auto packet = rtp::parse(datagram);
        if (!packet) return bump(packets_dropped);
        const int pt = packet->header.payload_type;
        const bool is_audio = pt == audio.payload_type;
        const bool is_event = audio.telephone_event_pt && pt == *audio.telephone_event_pt;
        if (!is_audio && !is_event) return bump(packets_dropped);
        if (rtp_latched && receive_from != rtp_dest) return bump(packets_dropped);
        if (!rtp_latched) latch(receive_from);

        bump(packets_received);
        bump(bytes_received, datagram.size());
        last_received = Clock::now();
        packet_since_tick = true;

        if (is_event) {
            if (const auto digit = dtmf.on_packet(packet->header.timestamp, packet->payload)) {
                bump(dtmf_events);
                if (!stopped.load() && callbacks.on_dtmf) {
                    callbacks.on_dtmf(digit->digit, digit->duration_ms);
                }
            }
            return;
        }
        const std::size_t n = std::min(packet->payload.size(), decoded.size());
        const auto out = std::span(decoded.data(), n);
        if (audio.codec == Codec::kPcmu) {
            decode_ulaw(packet->payload.first(n), out);
        } else {
            decode_alaw(packet->payload.first(n), out);
        }
        if (!stopped.load() && callbacks.on_audio) callbacks.on_audio(out);
    }

    void latch(const Udp::endpoint& source) {
        rtp_latched = true;
        if (!have_rtp_dest || source != rtp_dest) bump(latched);
        rtp_dest = source;
        have_rtp_dest = true;
        if (rtcp_latched) return;
        // Until RTCP arrives, send it to the same host; behind a NAT the SDP port is meaningless,
        // so use the RTP source port + 1.
        const bool same_port = source.port() == audio.remote_port;
        const int port =
            same_port && audio.remote_rtcp_port > 0 ? audio.remote_rtcp_port : source.port() + 1;
        have_rtcp_dest = port <= 65535;
        if (have_rtcp_dest)
            rtcp_dest = Udp::endpoint(source.address(), static_cast<std::uint16_t>(port));
    }

    // --- RTCP: compound SR (or RR on hold) + SDES CNAME every interval; received: counted ---

    void arm_rtcp() {
        rtcp_timer.expires_after(config.rtcp_interval);
        rtcp_timer.async_wait([weak = weak_self](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->impl_->on_rtcp_tick();
        });
    }

    void on_rtcp_tick() {
        if (closed) return;
        send_report();
        arm_rtcp();
    }

    void send_report() {
        if (!have_rtcp_dest) return;
        const auto now = Clock::now();
        // RTP time of "now": `timestamp` belongs to the frame due at next_send.
        const auto ahead = std::chrono::duration_cast<std::chrono::milliseconds>(next_send - now);
        rtp::SenderInfo info;
        info.ssrc = ssrc;
        info.ntp_timestamp = rtp::to_ntp(std::chrono::system_clock::now());
        info.rtp_timestamp = timestamp - static_cast<std::uint32_t>(ahead.count() * kSamplesPerMs);
        info.packet_count =
            static_cast<std::uint32_t>(packets_sent.load(std::memory_order_relaxed));
        info.octet_count = payload_octets_sent;
        const auto sender =
            sending() && info.packet_count > 0 ? rtp::Sender::kYes : rtp::Sender::kNo;
        const std::size_t n = rtp::write_report(info, sender, config.cname, rtcp_send_buffer);
        if (n == 0) return;
        boost::system::error_code ec;
        rtcp_socket.send_to(asio::buffer(rtcp_send_buffer.data(), n), rtcp_dest, 0, ec);
        if (!ec) bump(rtcp_sent);
    }

    void receive_rtcp() {
        rtcp_socket.async_receive_from(
            asio::buffer(rtcp_receive_buffer), rtcp_receive_from,
            [weak = weak_self](const boost::system::error_code& ec, std::size_t n) {
                if (ec == asio::error::operation_aborted) return;
                if (auto self = weak.lock()) self->impl_->on_rtcp(ec, n);
            });
    }

    void on_rtcp(const boost::system::error_code& ec, std::size_t n) {
        if (closed) return;
        if (!ec && rtp::parse_compound(std::span(rtcp_receive_buffer.data(), n))) {
            bump(rtcp_received);
            if (!rtcp_latched || rtcp_receive_from != rtcp_dest) {
                rtcp_latched = true;
                rtcp_dest = rtcp_receive_from;
                have_rtcp_dest = true;
            }
        }
        receive_rtcp();
    }

    // --- inactivity: checked periodically against the time of the last valid packet ---

    Clock::duration inactivity_check_period() const {
        const Clock::duration quarter = config.inactivity_timeout / 4;
        return std::clamp<Clock::duration>(quarter, 10ms, 1s);
    }

    void arm_inactivity() {
        if (config.inactivity_timeout <= 0ms) return;  // disabled
        inactivity_timer.expires_after(inactivity_check_period());
        inactivity_timer.async_wait([weak = weak_self](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->impl_->on_inactivity_check();
        });
    }

    void on_inactivity_check() {
        if (closed || inactivity_fired) return;
        const auto now = Clock::now();
        if (!receiving()) {
            last_received = now;  // we asked the far end not to send (hold): silence is expected
        } else if (now - last_received >= config.inactivity_timeout) {
            inactivity_fired = true;
            if (!stopped.load() && callbacks.on_inactivity) callbacks.on_inactivity();
            return;
        }
        arm_inactivity();
    }

    // --- re-INVITE ---

    void do_update(const NegotiatedAudio& next) {
        if (closed) return;
        const bool address_changed =
            next.remote_address != audio.remote_address || next.remote_port != audio.remote_port;
        const bool was_sending = sending();
        if (next.telephone_event_pt != audio.telephone_event_pt) dtmf.reset();
        audio = next;
        if (address_changed) {
            rtp_latched = false;  // a new far end: latch again to whoever sends
            rtcp_latched = false;
        }
        if (!rtp_latched) set_destinations_from_sdp();  // else keep the latched addresses
        if (!was_sending && sending()) marker_pending = true;
        last_received = Clock::now();
    }
};

Result<std::shared_ptr<RtpSession>> RtpSession::create(boost::asio::io_context& io,
                                                       RtpSessionConfig config,
                                                       Callbacks callbacks) {
    auto impl = std::make_unique<Impl>(io, std::move(config), std::move(callbacks));
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(impl->config.bind_address, ec);
    if (ec) {
        return make_error(Errc::kInvalidRequest,
                          "invalid RTP bind address '" + impl->config.bind_address + "'");
    }
    const auto& ports = impl->config.ports;
    const int rtp_port = ports ? ports.rtp_port() : 0;
    const int rtcp_port = ports ? ports.rtcp_port() : 0;
    const auto bind = [&](Udp::socket& socket, int port) -> Status {
        boost::system::error_code bind_ec;
        const Udp::endpoint endpoint(address, static_cast<std::uint16_t>(port));
        socket.open(endpoint.protocol(), bind_ec);
        if (!bind_ec) socket.bind(endpoint, bind_ec);
        if (!bind_ec) socket.non_blocking(true, bind_ec);
        if (bind_ec) {
            return make_error(Errc::kUnavailable,
                              "cannot bind RTP/RTCP socket to " + impl->config.bind_address + ":" +
                                  std::to_string(port) + ": " + bind_ec.message());
        }
        if (address.is_v4()) {  // best effort: mark media as expedited forwarding
            boost::system::error_code ignored;
            socket.set_option(
                asio::detail::socket_option::integer<IPPROTO_IP, IP_TOS>(kDscpExpedited), ignored);
        }
        return {};
    };
    if (auto status = bind(impl->rtp_socket, rtp_port); !status) return status.error();
    if (auto status = bind(impl->rtcp_socket, rtcp_port); !status) return status.error();
    impl->local_rtp_port = impl->rtp_socket.local_endpoint(ec).port();

    // Random SSRC, sequence and timestamp (RFC 3550 §5.1, §8).
    std::random_device random;
    impl->ssrc = random();
    impl->sequence = static_cast<std::uint16_t>(random());
    impl->timestamp = random();
    impl->set_destinations_from_sdp();

    auto session = std::shared_ptr<RtpSession>(new RtpSession(std::move(impl)));
    session->impl_->weak_self = session;
    return session;
}

RtpSession::RtpSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// No handler holds a strong reference now (they capture weak_ptrs, posted work captures
// shared_ptrs), so nothing else touches the Impl: closing here, off the strand, is safe.
RtpSession::~RtpSession() {
    try {
        if (impl_) impl_->close();
    } catch (...) {  // timer cancel() may throw in theory; a destructor must not
    }
}

void RtpSession::start() {
    asio::post(impl_->strand, [self = shared_from_this()] { self->impl_->do_start(); });
}

void RtpSession::play(std::shared_ptr<const Pcm> audio) {
    if (!audio || impl_->stopped.load()) return;
    impl_->queued_buffers.fetch_add(1);
    asio::post(impl_->strand, [self = shared_from_this(), audio = std::move(audio)]() mutable {
        auto& impl = *self->impl_;
        if (impl.closed || impl.queue.size() >= kMaxQueuedBuffers) {
            impl.queued_buffers.fetch_sub(1);
            return;
        }
        impl.queue.push_back(std::move(audio));
        impl.playout_pending = true;
    });
}

void RtpSession::relay(std::span<const std::int16_t> frame) {
    if (impl_->stopped.load(std::memory_order_relaxed)) return;
    impl_->relayed.push(frame);
}

void RtpSession::send_dtmf(char digit, int duration_ms) {
    if (!telephone_event_code(digit) || impl_->stopped.load()) return;
    asio::post(impl_->strand, [self = shared_from_this(), digit, duration_ms] {
        auto& impl = *self->impl_;
        if (impl.closed) return;
        if (impl.audio.telephone_event_pt) {
            if (impl.dtmf_sender.queue(digit, duration_ms)) Impl::bump(impl.dtmf_sent);
            return;
        }
        // No telephone-event negotiated: the digit travels as the tone a phone would make,
        // then 100 ms of silence so that consecutive digits stay separate key presses.
        auto tone = dtmf_tone(digit, std::clamp(duration_ms, 40, 5000));
        if (tone.empty() || impl.queue.size() >= kMaxQueuedBuffers) return;
        tone.resize(tone.size() + kInbandGapSamples, 0);
        impl.queue.push_back(std::make_shared<const Pcm>(std::move(tone)));
        impl.queued_buffers.fetch_add(1);
        impl.playout_pending = true;
        Impl::bump(impl.dtmf_sent);
    });
}

void RtpSession::flush() {
    asio::post(impl_->strand, [self = shared_from_this()] {
        auto& impl = *self->impl_;
        impl.queued_buffers.fetch_sub(static_cast<int>(impl.queue.size()));
        impl.queue.clear();
        impl.queue_offset = 0;
        impl.playout_pending = false;  // the caller flushed: no playout-done for dropped audio
    });
}

void RtpSession::update(const NegotiatedAudio& audio) {
    asio::post(impl_->strand,
               [self = shared_from_this(), audio] { self->impl_->do_update(audio); });
}

void RtpSession::stop() {
    impl_->stopped.store(true);
    asio::post(impl_->strand, [self = shared_from_this()] { self->impl_->close(); });
}

int RtpSession::local_port() const { return impl_->local_rtp_port; }

RtpStats RtpSession::stats() const {
    const auto get = [](const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_relaxed);
    };
    RtpStats s;
    s.packets_sent = get(impl_->packets_sent);
    s.packets_received = get(impl_->packets_received);
    s.bytes_sent = get(impl_->bytes_sent);
    s.bytes_received = get(impl_->bytes_received);
    s.packets_dropped = get(impl_->packets_dropped);
    s.dtmf_events = get(impl_->dtmf_events);
    s.dtmf_sent = get(impl_->dtmf_sent);
    s.relay_dropped = impl_->relayed.dropped();
    s.latched = get(impl_->latched);
    s.rtcp_sent = get(impl_->rtcp_sent);
    s.rtcp_received = get(impl_->rtcp_received);
    return s;
}

bool RtpSession::playing() const { return impl_->queued_buffers.load() > 0; }

int RtpSession::queued() const { return impl_->queued_buffers.load(); }

}  // namespace tl::media
