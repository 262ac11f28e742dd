#include "media/rtp_session.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "media/dtmf.hpp"
#include "media/g711.hpp"
#include "media/rtp_packet.hpp"
#include "media/test_tone.hpp"

// Real UDP on loopback: the far end is a plain socket read synchronously by the test. Timing
// assertions are deliberately loose (the CI machine is a loaded 2-core box): they check order
// and rough pacing, never exact times.

namespace tl::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Datagram {
    std::vector<std::uint8_t> bytes;
    udp::endpoint from;
    Clock::time_point at;
};

// A plain UDP socket standing for the far end (a phone, a carrier).
class FarEnd {
public:
    FarEnd() : socket_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

    int port() const { return socket_.local_endpoint().port(); }

    std::optional<Datagram> receive(std::chrono::milliseconds timeout) {
        pollfd pfd{socket_.native_handle(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
        Datagram d;
        d.bytes.resize(2048);
        d.bytes.resize(socket_.receive_from(asio::buffer(d.bytes), d.from));
        d.at = Clock::now();
        return d;
    }

    // Receives RTP packets, skipping anything that does not parse.
    std::optional<Datagram> receive_rtp(std::chrono::milliseconds timeout = 2000ms) {
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            auto d = receive(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) +
                1ms);
            if (d && rtp::parse(d->bytes)) return d;
        }
        return std::nullopt;
    }

    void drain() {
        while (receive(0ms)) {
        }
    }

    void send_to(std::span<const std::uint8_t> bytes, int port) {
        socket_.send_to(
            asio::buffer(bytes.data(), bytes.size()),
            udp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port)));
    }

private:
    asio::io_context io_;
    udp::socket socket_;
};

std::vector<std::uint8_t> rtp_packet(std::uint8_t pt,
                                     std::uint16_t seq,
                                     std::uint32_t ts,
                                     std::span<const std::uint8_t> payload,
                                     bool marker = false) {
    std::vector<std::uint8_t> p(rtp::kHeaderSize);
    rtp::write_header({marker, pt, seq, ts, 0x5EED5EED}, p);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

rtp::RtpPacketView view(const Datagram& d) { return *rtp::parse(d.bytes); }

bool all_equal(std::span<const std::uint8_t> payload, std::uint8_t value) {
    return std::all_of(payload.begin(), payload.end(), [value](auto b) { return b == value; });
}

// Polls `done` for up to `timeout`.
template <class Fn>
bool eventually(Fn done, std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return done();
}

class RtpSessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override {
        for (auto& s : sessions_) s->stop();
        sessions_.clear();
        work_.reset();
        thread_.join();  // returns once every socket and timer of every session is closed
    }

    NegotiatedAudio audio_to(const FarEnd& rtp, const FarEnd& rtcp, Codec codec = Codec::kPcmu) {
        NegotiatedAudio a;
        a.codec = codec;
        a.payload_type = codec == Codec::kPcmu ? 0 : 8;
        a.telephone_event_pt = 101;
        a.remote_address = "127.0.0.1";
        a.remote_port = rtp.port();
        a.remote_rtcp_port = rtcp.port();
        return a;
    }

    std::shared_ptr<RtpSession> make(NegotiatedAudio audio,
                                     RtpSession::Callbacks callbacks = {},
                                     std::chrono::milliseconds inactivity = 60s,
                                     std::chrono::milliseconds rtcp_interval = 5s,
                                     PortLease lease = {}) {
        RtpSessionConfig config;
        config.bind_address = "127.0.0.1";
        config.ports = std::move(lease);
        config.audio = std::move(audio);
        config.inactivity_timeout = inactivity;
        config.rtcp_interval = rtcp_interval;
        config.cname = "test-cname";
        auto session = RtpSession::create(io_, std::move(config), std::move(callbacks));
        if (!session) {
            ADD_FAILURE() << session.error().message;
            return nullptr;
        }
        sessions_.push_back(*session);
        return *session;
    }

    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        io_.get_executor()};
    std::thread thread_;
    std::vector<std::shared_ptr<RtpSession>> sessions_;
};

TEST_F(RtpSessionTest, SendsPacedSilenceWithConsecutiveSequenceAndTimestamp) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp));
    ASSERT_TRUE(session);
    const auto started = Clock::now();
    session->start();

    std::vector<Datagram> packets;
    for (int i = 0; i < 25; ++i) {
        auto d = far.receive_rtp();
        ASSERT_TRUE(d) << "packet " << i << " never arrived";
        packets.push_back(std::move(*d));
    }
    const auto elapsed = packets.back().at - started;
    // The first packet goes out at once, the next on the shared 20 ms grid (up to 20 ms later),
    // then 23 intervals of 20 ms: a packet is never sent before its deadline.
    EXPECT_GE(elapsed, 450ms);
    EXPECT_LT(elapsed, 5s);

    const auto first = view(packets[0]);
    EXPECT_TRUE(first.header.marker);
    int exact_steps = 0;
    for (std::size_t i = 0; i < packets.size(); ++i) {
        const auto p = view(packets[i]);
        EXPECT_EQ(p.header.payload_type, 0);
        EXPECT_EQ(p.header.ssrc, first.header.ssrc);
        ASSERT_EQ(p.payload.size(), 160u);
        EXPECT_TRUE(all_equal(p.payload, 0xFF)) << "PCMU silence is 0xFF";
        if (i == 0) continue;
        EXPECT_FALSE(p.header.marker) << i;
        const auto prev = view(packets[i - 1]);
        EXPECT_EQ(static_cast<std::uint16_t>(prev.header.sequence + 1), p.header.sequence);
        const std::uint32_t step = p.header.timestamp - prev.header.timestamp;
        // 160 per packet; a multiple of it only if the sender skipped ahead after a >100 ms stall.
        EXPECT_EQ(step % 160, 0u);
        EXPECT_GE(step, 160u);
        exact_steps += step == 160;
    }
    EXPECT_GE(exact_steps, 20);
    // The counter moves just after the datagram left: poll rather than race it.
    EXPECT_TRUE(eventually([&] { return session->stats().packets_sent >= 25u; }));
    EXPECT_GT(session->local_port(), 0);
}

TEST_F(RtpSessionTest, PcmaSilenceIs0xD5) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp, Codec::kPcma));
    ASSERT_TRUE(session);
    session->start();
    for (int i = 0; i < 3; ++i) {
        auto d = far.receive_rtp();
        ASSERT_TRUE(d);
        const auto p = view(*d);
        EXPECT_EQ(p.header.payload_type, 8);
        EXPECT_TRUE(all_equal(p.payload, 0xD5));
    }
}

TEST_F(RtpSessionTest, PlayedToneArrivesAsOneKilohertzAndPlayoutDoneFiresOnce) {
    FarEnd far, far_rtcp;
    std::atomic<int> done{0};
    RtpSession::Callbacks callbacks;
    callbacks.on_playout_done = [&] { ++done; };
    auto session = make(audio_to(far, far_rtcp), std::move(callbacks));
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(far.receive_rtp());  // sending silence

    // 4100 samples: 25 full frames and one of 100 samples padded with silence.
    auto tone = std::make_shared<Pcm>(test::make_tone(1000.0, 8000, 4100));
    session->play(tone);
    EXPECT_TRUE(session->playing());

    std::vector<std::int16_t> heard;
    int speech_frames = 0;
    bool marker_on_first_speech = false;
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
        auto d = far.receive_rtp(500ms);
        if (!d) break;
        const auto p = view(*d);
        if (all_equal(p.payload, 0xFF)) {
            if (speech_frames > 0) break;  // back to silence: the tone is over
            continue;
        }
        if (speech_frames == 0) marker_on_first_speech = p.header.marker;
        EXPECT_TRUE(speech_frames == 0 || !p.header.marker);
        ++speech_frames;
        for (auto b : p.payload) heard.push_back(ulaw_to_linear(b));
    }
    EXPECT_EQ(speech_frames, 26);
    EXPECT_TRUE(marker_on_first_speech) << "talkspurt start carries the marker bit";
    ASSERT_GE(heard.size(), 4000u);
    const auto block = std::span<const std::int16_t>(heard).first(4000);
    const double p1k = test::goertzel_power(block, 1000.0, 8000);
    for (double other : {500.0, 1500.0, 2000.0, 3000.0}) {
        EXPECT_GT(test::to_db(p1k / test::goertzel_power(block, other, 8000)), 25.0) << other;
    }
    ASSERT_TRUE(eventually([&] { return done.load() == 1; }));
    EXPECT_FALSE(session->playing());
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(done.load(), 1);
}

TEST_F(RtpSessionTest, FlushDropsQueuedAudio) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp));
    ASSERT_TRUE(session);
    session->start();
    session->play(std::make_shared<Pcm>(test::make_tone(1000.0, 8000, 80000)));  // 10 s
    ASSERT_TRUE(session->playing());
    // Wait until the tone is on the wire, then barge in.
    bool speech = false;
    for (int i = 0; i < 50 && !speech; ++i) {
        auto d = far.receive_rtp();
        ASSERT_TRUE(d);
        speech = !all_equal(view(*d).payload, 0xFF);
    }
    ASSERT_TRUE(speech);
    session->flush();
    ASSERT_TRUE(eventually([&] { return !session->playing(); }));
    far.drain();
    auto d = far.receive_rtp();
    ASSERT_TRUE(d);
    EXPECT_TRUE(all_equal(view(*d).payload, 0xFF)) << "silence again after flush";
}

TEST_F(RtpSessionTest, LatchesToTheAddressThePeerSendsFrom) {
    FarEnd advertised, actual, far_rtcp;
    std::mutex mutex;
    std::vector<std::int16_t> received;
    RtpSession::Callbacks callbacks;
    callbacks.on_audio = [&](std::span<const std::int16_t> pcm) {
        std::lock_guard lock(mutex);
        if (received.empty()) received.assign(pcm.begin(), pcm.end());  // the packet, not silence
    };
    auto session = make(audio_to(advertised, far_rtcp), std::move(callbacks));
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(advertised.receive_rtp()) << "before latching we send to the SDP address";

    std::vector<std::uint8_t> payload(160);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
    actual.send_to(rtp_packet(0, 1, 1000, payload, true), session->local_port());

    auto d = actual.receive_rtp();
    ASSERT_TRUE(d) << "after the first valid packet we send to its source";
    EXPECT_EQ(view(*d).header.payload_type, 0);
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return received.size() == 160;
    }));
    {
        std::lock_guard lock(mutex);
        for (std::size_t i = 0; i < 160; ++i) {
            ASSERT_EQ(received[i], ulaw_to_linear(static_cast<std::uint8_t>(i)));
        }
    }
    advertised.drain();
    EXPECT_FALSE(advertised.receive_rtp(200ms)) << "nothing goes to the old address";

    // Now a packet from the old address is a stranger's: dropped.
    advertised.send_to(rtp_packet(0, 7, 7, payload), session->local_port());
    ASSERT_TRUE(eventually([&] { return session->stats().packets_dropped == 1; }));
    const auto stats = session->stats();
    EXPECT_EQ(stats.latched, 1u);
    EXPECT_EQ(stats.packets_received, 1u);
    EXPECT_EQ(stats.bytes_received, 172u);
}

TEST_F(RtpSessionTest, FarEndSilenceReachesOnAudioAsSilentFramesOnOurClock) {
    FarEnd far, far_rtcp;
    std::atomic<int> frames{0};
    std::atomic<int> silent{0};
    RtpSession::Callbacks callbacks;
    callbacks.on_audio = [&](std::span<const std::int16_t> pcm) {
        ++frames;
        if (std::all_of(pcm.begin(), pcm.end(), [](auto s) { return s == 0; })) ++silent;
    };
    auto session = make(audio_to(far, far_rtcp), std::move(callbacks));
    ASSERT_TRUE(session);
    session->start();
    EXPECT_FALSE(eventually([&] { return frames.load() > 0; }, 300ms))
        << "nothing heard yet: no frames invented";
    const std::vector<std::uint8_t> tone(160, 0x10);
    for (std::uint16_t i = 0; i < 3; ++i) {
        far.send_to(rtp_packet(0, i, i * 160u, tone), session->local_port());
        std::this_thread::sleep_for(20ms);
    }
    // The far end went quiet (silence suppression): about 50 silent frames a second follow.
    std::this_thread::sleep_for(1000ms);
    EXPECT_GE(silent.load(), 35);
    EXPECT_LE(silent.load(), 55);
    EXPECT_EQ(frames.load() - silent.load(), 3);
}

TEST_F(RtpSessionTest, InvalidPacketsAreDroppedAndCounted) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp));
    ASSERT_TRUE(session);
    session->start();
    const std::vector<std::uint8_t> payload(160, 0xFF);
    far.send_to(rtp_packet(18, 1, 1, payload), session->local_port());  // G.729: not negotiated
    auto bad_version = rtp_packet(0, 2, 2, payload);
    bad_version[0] = 0x40;
    far.send_to(bad_version, session->local_port());
    const std::vector<std::uint8_t> runt = {0x80, 0};
    far.send_to(runt, session->local_port());
    ASSERT_TRUE(eventually([&] { return session->stats().packets_dropped == 3; }));
    EXPECT_EQ(session->stats().packets_received, 0u);
    EXPECT_EQ(session->stats().latched, 0u);
}

TEST_F(RtpSessionTest, DtmfEventGivesExactlyOneDigit) {
    FarEnd far, far_rtcp;
    std::mutex mutex;
    std::vector<std::pair<char, int>> digits;
    RtpSession::Callbacks callbacks;
    callbacks.on_dtmf = [&](char digit, int ms) {
        std::lock_guard lock(mutex);
        digits.emplace_back(digit, ms);
    };
    auto session = make(audio_to(far, far_rtcp), std::move(callbacks));
    ASSERT_TRUE(session);
    session->start();

    // RFC 4733 §2.5: '5' (event 5), start timestamp fixed, duration growing by 160 every 20 ms,
    // then three identical end packets; sequence numbers keep increasing.
    const std::uint32_t ts = 48000;
    std::uint16_t seq = 100;
    for (int i = 1; i <= 5; ++i) {
        const std::uint16_t duration = static_cast<std::uint16_t>(160 * i);
        const std::uint8_t p[4] = {5, 10, static_cast<std::uint8_t>(duration >> 8),
                                   static_cast<std::uint8_t>(duration)};
        far.send_to(rtp_packet(101, seq++, ts, p, i == 1), session->local_port());
        std::this_thread::sleep_for(5ms);
    }
    for (int i = 0; i < 3; ++i) {
        const std::uint8_t p[4] = {5, 0x80 | 10, 0x03, 0x20};  // end, duration 800 = 100 ms
        far.send_to(rtp_packet(101, seq++, ts, p), session->local_port());
    }
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return !digits.empty();
    }));
    std::this_thread::sleep_for(300ms);
    std::lock_guard lock(mutex);
    ASSERT_EQ(digits.size(), 1u);
    EXPECT_EQ(digits[0].first, '5');
    EXPECT_EQ(digits[0].second, 100);
    EXPECT_EQ(session->stats().dtmf_events, 1u);
}

TEST_F(RtpSessionTest, SendDtmfGoesOutAsTelephoneEventsADecoderReadsOnce) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp));
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(far.receive_rtp());
    session->send_dtmf('9', 120);
    session->send_dtmf('x', 120);  // not a digit: ignored
    DtmfReceiver receiver;
    std::vector<DtmfDigit> digits;
    int events = 0;
    const auto deadline = Clock::now() + 2s;
    while (Clock::now() < deadline && digits.empty()) {
        auto d = far.receive_rtp(500ms);
        if (!d) break;
        const auto p = view(*d);
        if (p.header.payload_type != 101) continue;
        ++events;
        if (auto digit = receiver.on_packet(p.header.timestamp, p.payload)) digits.push_back(*digit);
    }
    ASSERT_EQ(digits.size(), 1u);
    EXPECT_EQ(digits[0].digit, '9');
    EXPECT_EQ(digits[0].duration_ms, 120);
    EXPECT_GE(events, 6);
    EXPECT_TRUE(eventually([&] { return session->stats().dtmf_sent == 1; }));
}

TEST_F(RtpSessionTest, WithoutTelephoneEventDtmfIsSentAsADualTone) {
    FarEnd far, far_rtcp;
    auto audio = audio_to(far, far_rtcp);
    audio.telephone_event_pt.reset();
    auto session = make(audio);
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(far.receive_rtp());
    session->send_dtmf('1', 200);  // 697 Hz + 1209 Hz
    std::vector<std::int16_t> heard;
    const auto deadline = Clock::now() + 3s;
    while (Clock::now() < deadline && heard.size() < 1600) {
        auto d = far.receive_rtp(500ms);
        if (!d) break;
        const auto p = view(*d);
        if (all_equal(p.payload, 0xFF)) continue;
        for (auto b : p.payload) heard.push_back(ulaw_to_linear(b));
    }
    ASSERT_GE(heard.size(), 1200u);
    const auto block = std::span<const std::int16_t>(heard).first(1200);
    const auto power = [&](double hz) { return test::goertzel_power(block, hz, 8000); };
    EXPECT_GT(power(697) / power(852), 50.0);
    EXPECT_GT(power(1209) / power(1477), 50.0);
}

TEST_F(RtpSessionTest, RelayedFramesAreSentWithoutBeingQueued) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp));
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(far.receive_rtp());
    far.drain();
    // Another leg relays a 1 kHz tone frame by frame at its own pace.
    const auto tone = test::make_tone(1000.0, 8000, 8000);
    std::atomic<bool> stop{false};
    std::thread producer([&] {
        for (std::size_t at = 0; at + 160 <= tone.size() && !stop; at += 160) {
            session->relay(std::span(tone).subspan(at, 160));
            std::this_thread::sleep_for(20ms);
        }
    });
    std::vector<std::int16_t> heard;
    const auto deadline = Clock::now() + 3s;
    while (Clock::now() < deadline && heard.size() < 4000) {
        auto d = far.receive_rtp(500ms);
        if (!d) break;
        const auto p = view(*d);
        if (all_equal(p.payload, 0xFF)) continue;
        for (auto b : p.payload) heard.push_back(ulaw_to_linear(b));
    }
    stop = true;
    producer.join();
    ASSERT_GE(heard.size(), 4000u);
    EXPECT_FALSE(session->playing()) << "relayed audio does not go through the play queue";
    const auto block = std::span<const std::int16_t>(heard).subspan(800, 2400);
    const double p1k = test::goertzel_power(block, 1000.0, 8000);
    EXPECT_GT(test::to_db(p1k / test::goertzel_power(block, 1500.0, 8000)), 20.0);
}

// A call's recording takes its right channel from here: every 20 ms tick hands over the frame
// sent, played audio and relayed audio mixed, and silence in between.
TEST_F(RtpSessionTest, OnSentAudioSeesEveryFrameSentWithPlayedAndRelayedAudio) {
    FarEnd far, far_rtcp;
    std::mutex mutex;
    std::vector<std::int16_t> sent;
    RtpSession::Callbacks callbacks;
    callbacks.on_sent_audio = [&](std::span<const std::int16_t> frame) {
        std::lock_guard lock(mutex);
        sent.insert(sent.end(), frame.begin(), frame.end());
    };
    auto session = make(audio_to(far, far_rtcp), std::move(callbacks));
    ASSERT_TRUE(session);
    session->start();
    session->play(std::make_shared<Pcm>(test::make_tone(1000.0, 8000, 4000)));
    const auto relayed = test::make_tone(1500.0, 8000, 160);
    ASSERT_TRUE(eventually([&] {
        session->relay(relayed);  // another leg, one frame per poll
        std::lock_guard lock(mutex);
        return sent.size() >= 8000;
    }));
    session->stop();
    std::lock_guard lock(mutex);
    EXPECT_EQ(sent.size() % 160, 0u) << "whole 20 ms frames";
    const auto block = std::span<const std::int16_t>(sent).subspan(800, 2400);
    const double p1k = test::goertzel_power(block, 1000.0, 8000);
    const double p1500 = test::goertzel_power(block, 1500.0, 8000);
    EXPECT_GT(test::to_db(p1k / test::goertzel_power(block, 700.0, 8000)), 20.0);
    EXPECT_GT(test::to_db(p1500 / test::goertzel_power(block, 700.0, 8000)), 10.0);
}

TEST_F(RtpSessionTest, InactivityFiresOnceAndMayStopTheSession) {
    FarEnd far, far_rtcp;
    std::atomic<int> fired{0};
    std::weak_ptr<RtpSession> weak;
    RtpSession::Callbacks callbacks;
    callbacks.on_inactivity = [&] {
        ++fired;
        if (auto s = weak.lock()) s->stop();  // a callback may stop its own session
    };
    const auto started = Clock::now();
    auto session = make(audio_to(far, far_rtcp), std::move(callbacks), 300ms);
    ASSERT_TRUE(session);
    weak = session;
    session->start();
    ASSERT_TRUE(eventually([&] { return fired.load() == 1; }));
    EXPECT_GE(Clock::now() - started, 300ms);
    std::this_thread::sleep_for(700ms);
    EXPECT_EQ(fired.load(), 1);
}

TEST_F(RtpSessionTest, ReceivedPacketsKeepTheInactivityTimerAway) {
    FarEnd far, far_rtcp;
    std::atomic<int> fired{0};
    RtpSession::Callbacks callbacks;
    callbacks.on_inactivity = [&] { ++fired; };
    auto session = make(audio_to(far, far_rtcp), std::move(callbacks), 600ms);
    ASSERT_TRUE(session);
    session->start();
    const std::vector<std::uint8_t> payload(160, 0xFF);
    for (int i = 0; i < 20; ++i) {  // ~1.2 s of packets, one every 60 ms
        far.send_to(rtp_packet(0, static_cast<std::uint16_t>(i), 160u * i, payload),
                    session->local_port());
        std::this_thread::sleep_for(60ms);
    }
    EXPECT_EQ(fired.load(), 0);
    ASSERT_TRUE(eventually([&] { return fired.load() == 1; }));
}

TEST_F(RtpSessionTest, SendsRtcpSenderReportsWithCname) {
    FarEnd far, far_rtcp;
    auto session = make(audio_to(far, far_rtcp), {}, 60s, 200ms);
    ASSERT_TRUE(session);
    session->start();
    auto rtp = far.receive_rtp();
    ASSERT_TRUE(rtp);
    const auto ssrc = view(*rtp).header.ssrc;

    auto d = far_rtcp.receive(3000ms);
    ASSERT_TRUE(d) << "no RTCP at the remote RTCP port";
    ASSERT_GE(d->bytes.size(), 28u);
    EXPECT_EQ(d->bytes[0] >> 6, 2);
    EXPECT_EQ(d->bytes[1], 200) << "sender report";
    auto first = rtp::parse_compound(d->bytes);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->ssrc, ssrc);
    const std::uint32_t packet_count =
        d->bytes[20] << 24 | d->bytes[21] << 16 | d->bytes[22] << 8 | d->bytes[23];
    const std::uint32_t octets =
        d->bytes[24] << 24 | d->bytes[25] << 16 | d->bytes[26] << 8 | d->bytes[27];
    EXPECT_GE(packet_count, 1u);
    EXPECT_EQ(octets, packet_count * 160);
    const std::uint32_t ntp_seconds =
        d->bytes[8] << 24 | d->bytes[9] << 16 | d->bytes[10] << 8 | d->bytes[11];
    EXPECT_GT(ntp_seconds, 3'900'000'000u);  // after 2023 in NTP era 0
    bool cname = false;
    rtp::for_each_rtcp(d->bytes, [&](const rtp::RtcpPacketView& v) {
        if (v.packet_type == rtp::kRtcpSdes && v.body.size() >= 16) {
            cname = std::string(v.body.begin() + 6, v.body.begin() + 16) == "test-cname";
        }
    });
    EXPECT_TRUE(cname);
    EXPECT_TRUE(eventually([&] { return session->stats().rtcp_sent >= 1u; }));

    // Received RTCP is only counted.
    std::array<std::uint8_t, 64> rr{};
    const auto n = rtp::write_report(rtp::SenderInfo{42}, rtp::Sender::kNo, "far", rr);
    // The session's RTCP port is not exposed with ephemeral ports: send to it via the source
    // address of its report.
    far_rtcp.send_to(std::span(rr.data(), n), d->from.port());
    ASSERT_TRUE(eventually([&] { return session->stats().rtcp_received == 1; }));
}

TEST_F(RtpSessionTest, HoldStopsSendingAndResumeRestartsWithMarker) {
    FarEnd far, far_rtcp;
    auto audio = audio_to(far, far_rtcp);
    auto session = make(audio);
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(far.receive_rtp());

    audio.local_direction = Direction::kRecvOnly;  // re-INVITE a=sendonly answered recvonly
    session->update(audio);
    std::this_thread::sleep_for(100ms);
    far.drain();
    EXPECT_FALSE(far.receive_rtp(400ms)) << "nothing is sent while on hold";

    audio.local_direction = Direction::kSendRecv;
    audio.codec = Codec::kPcma;
    audio.payload_type = 8;
    session->update(audio);
    auto d = far.receive_rtp();
    ASSERT_TRUE(d) << "sending resumes";
    const auto p = view(*d);
    EXPECT_TRUE(p.header.marker);
    EXPECT_EQ(p.header.payload_type, 8) << "the re-INVITE also switched the codec";
    EXPECT_TRUE(all_equal(p.payload, 0xD5));
}

TEST_F(RtpSessionTest, InactiveDirectionSendsNothingFromTheStart) {
    FarEnd far, far_rtcp;
    auto audio = audio_to(far, far_rtcp);
    audio.local_direction = Direction::kInactive;
    auto session = make(audio);
    ASSERT_TRUE(session);
    session->start();
    EXPECT_FALSE(far.receive_rtp(300ms));
}

TEST_F(RtpSessionTest, UpdateToANewAddressMovesTheStream) {
    FarEnd first, second, far_rtcp;
    auto audio = audio_to(first, far_rtcp);
    auto session = make(audio);
    ASSERT_TRUE(session);
    session->start();
    ASSERT_TRUE(first.receive_rtp());
    audio.remote_port = second.port();
    session->update(audio);
    ASSERT_TRUE(second.receive_rtp());
}

// Leases from a pool on a random range; a port someone else holds is skipped.
std::shared_ptr<PortPool> random_pool() {
    std::random_device rd;
    const int low = 20000 + static_cast<int>(rd() % 20000) * 2;
    return PortPool::create(low, low + 199);
}

TEST_F(RtpSessionTest, StopReleasesPortsAndSilencesCallbacks) {
    FarEnd far, far_rtcp;
    auto pool = random_pool();
    std::atomic<int> callbacks_run{0};
    std::shared_ptr<RtpSession> session;
    for (int attempt = 0; attempt < 20 && !session; ++attempt) {
        auto lease = pool->acquire();
        ASSERT_TRUE(lease);
        const int expected_port = lease->rtp_port();
        RtpSessionConfig config;
        config.bind_address = "127.0.0.1";
        config.ports = std::move(*lease);
        config.audio = audio_to(far, far_rtcp);
        config.inactivity_timeout = 50ms;
        RtpSession::Callbacks callbacks;
        callbacks.on_inactivity = [&] { ++callbacks_run; };
        callbacks.on_playout_done = [&] { ++callbacks_run; };
        auto created = RtpSession::create(io_, std::move(config), std::move(callbacks));
        if (!created) continue;  // port taken by another process: the lease went back
        session = *created;
        EXPECT_EQ(session->local_port(), expected_port);
    }
    ASSERT_TRUE(session);
    EXPECT_EQ(pool->in_use(), 1);
    session->start();
    session->play(std::make_shared<Pcm>(160, 0));
    session->stop();
    session->stop();  // idempotent
    ASSERT_TRUE(eventually([&] { return pool->in_use() == 0; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(callbacks_run.load(), 0) << "no callback after stop()";
    far.drain();
    EXPECT_FALSE(far.receive_rtp(200ms)) << "nothing sent after stop()";
    session.reset();  // the destructor's stop is a no-op now
}

TEST_F(RtpSessionTest, DroppingTheLastReferenceClosesTheSession) {
    FarEnd far, far_rtcp;
    auto pool = random_pool();
    std::weak_ptr<RtpSession> weak;
    for (int attempt = 0; attempt < 20 && weak.expired(); ++attempt) {
        auto lease = pool->acquire();
        ASSERT_TRUE(lease);
        RtpSessionConfig config;
        config.bind_address = "127.0.0.1";
        config.ports = std::move(*lease);
        config.audio = audio_to(far, far_rtcp);
        auto created = RtpSession::create(io_, std::move(config), {});
        if (!created) continue;
        (*created)->start();
        weak = *created;
        ASSERT_TRUE(far.receive_rtp());
    }  // the only strong reference goes out of scope here
    ASSERT_TRUE(eventually([&] { return weak.expired() && pool->in_use() == 0; }));
    far.drain();
    EXPECT_FALSE(far.receive_rtp(200ms));
}

TEST_F(RtpSessionTest, BindFailureIsAClearError) {
    FarEnd far, far_rtcp;
    RtpSessionConfig config;
    config.bind_address = "not-an-address";
    config.audio = audio_to(far, far_rtcp);
    auto created = RtpSession::create(io_, std::move(config), {});
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().code, Errc::kInvalidRequest);

    // A port already bound by someone else.
    auto pool = PortPool::create(far.port() % 2 ? far.port() - 1 : far.port(),
                                 (far.port() % 2 ? far.port() - 1 : far.port()) + 1);
    auto lease = pool->acquire();
    ASSERT_TRUE(lease);
    RtpSessionConfig taken;
    taken.bind_address = "127.0.0.1";
    taken.ports = std::move(*lease);
    taken.audio = audio_to(far, far_rtcp);
    auto failed = RtpSession::create(io_, std::move(taken), {});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Errc::kUnavailable);
    EXPECT_NE(failed.error().message.find("cannot bind"), std::string::npos);
    EXPECT_EQ(pool->in_use(), 0) << "the lease went back with the failed session";
}

}  // namespace
}  // namespace tl::media
