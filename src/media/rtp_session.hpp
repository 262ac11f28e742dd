#pragma once
// One RTP/RTCP media stream (RFC 3550) of a call leg: a UDP socket pair from the port pool, a
// paced 20 ms sender that never goes quiet (silence frames when nothing is queued: carriers drop
// calls whose media stops), symmetric RTP (we send to where the far end's packets come from once
// they arrive, RFC 4961 behaviour for NAT), RTCP sender reports, RFC 4733 DTMF receive and an
// inactivity timeout.
//
// Thread-safety: every public method may be called from any thread (they post to the session's
// strand). Callbacks run on that strand and must not block; none runs after stop() returns (an
// atomic flag), while the sockets close and the ports return to the pool once the strand runs
// the posted close. Dropping the last reference also closes everything (pending handlers hold
// only weak references). The io_context must outlive the session.
// Hot path: no allocation, lock or log per packet.
//
// Behaviour worth knowing: when the far end stops sending while we are receiving (silence
// suppression, a recording that ended), on_audio gets a silent frame every 20 ms on our own clock
// from the third tick without a packet, so a listener that counts frames (turn-taking) still sees
// the caller's silence; jitter shorter than that inserts nothing. While the negotiated direction does not let us send (hold), the
// play queue is still consumed in real time and on_playout_done still fires; flush() does not
// fire on_playout_done. The first valid RTP packet (right PT) latches the destination; later
// packets from another address are dropped until update() brings a new remote address. An SSRC
// change from the latched address is accepted (PBXs switch sources without a re-INVITE).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "media/port_pool.hpp"
#include "media/sdp.hpp"

namespace tl::media {

using Pcm = std::vector<std::int16_t>;  // 8 kHz mono, signed 16-bit

struct RtpStats {
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t packets_dropped = 0;  // malformed, wrong PT, or from a stranger after latching
    std::uint64_t dtmf_events = 0;
    std::uint64_t dtmf_sent = 0;         // digits sent (as events or tones)
    std::uint64_t relay_dropped = 0;     // relayed frames dropped for backlog
    std::uint64_t latched = 0;  // times the send address moved to where packets came from
    std::uint64_t rtcp_sent = 0;
    std::uint64_t rtcp_received = 0;
};

struct RtpSessionConfig {
    std::string bind_address = "0.0.0.0";
    PortLease ports;  // an empty lease binds ephemeral ports (tests, the test phone)
    NegotiatedAudio audio;
    std::chrono::milliseconds inactivity_timeout{60'000};
    std::chrono::milliseconds rtcp_interval{5'000};  // RTCP report period (RFC 3550 §6.2)
    std::string cname = "trunkline";
};

class RtpSession : public std::enable_shared_from_this<RtpSession> {
public:
    struct Callbacks {
        std::function<void()> on_inactivity;                       // once, after inactivity_timeout
        std::function<void(char digit, int duration_ms)> on_dtmf;  // at the end of an event
        std::function<void(std::span<const std::int16_t>)> on_audio;  // decoded received frames
        std::function<void()> on_playout_done;                        // the play queue ran empty
        // Every 20 ms, the frame this session sends (what it plays mixed with relayed audio;
        // silence when there is none), also on hold: a call's recording (its right channel).
        std::function<void(std::span<const std::int16_t>)> on_sent_audio;
    };

    // Binds the RTP and RTCP sockets on the leased ports.
    static Result<std::shared_ptr<RtpSession>> create(boost::asio::io_context& io,
                                                      RtpSessionConfig config,
                                                      Callbacks callbacks);
    ~RtpSession();

    void start();                                 // starts sending (silence) and receiving
    void play(std::shared_ptr<const Pcm> audio);  // appends to the playout queue
    // Bridging: audio from another session, mixed into what this one sends. Lock- and
    // allocation-free and not posted: callable from one producer strand at a time (the other
    // leg's). Frames beyond 80 ms of backlog are dropped (SampleRelay).
    void relay(std::span<const std::int16_t> frame);
    // Sends a digit as RFC 4733 events when the far end accepts telephone-event, else as an
    // in-band dual tone (ITU-T Q.23) in the play queue. Not a DTMF digit: ignored.
    void send_dtmf(char digit, int duration_ms);
    void flush();                                 // drops queued audio (barge-in)
    void update(const NegotiatedAudio& audio);    // re-INVITE: remote address, direction, codec
    void stop();                                  // idempotent; releases the ports

    int local_port() const;
    RtpStats stats() const;  // a snapshot (atomics), any thread
    bool playing() const;    // audio (not silence) queued or being sent
    int queued() const;      // buffers waiting in the play queue (a bridge drops frames beyond a few)

private:
    struct Impl;
    explicit RtpSession(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tl::media
