#include "app/phone_command.hpp"

#include "app/sip_edge.hpp"
#include "common/validation.hpp"
#include "media/port_pool.hpp"
#include "media/resampler.hpp"
#include "media/rtp_session.hpp"
#include "media/sdp.hpp"
#include "media/wav.hpp"
#include "sip/stack/sip_stack.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include <cmath>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace tl::app {

namespace asio = boost::asio;

namespace {

// The phone's view of its one dialog, filled on the SIP thread, read by the command.
class PhoneEvents final : public sip::SipEvents {
public:
    void attach(sip::SipStack& stack) { stack_ = &stack; }

    void on_invite(const sip::InviteRequest& invite) override {
        stack_->reply(invite.dialog, {486, "Test phone does not take calls", {}, {}});
    }
    void on_reinvite(sip::DialogId dialog, const sip::InviteRequest&) override {
        stack_->reply(dialog, {488, {}, {}, {}});
    }
    void on_ack(sip::DialogId, const std::string&) override {}
    void on_cancel(sip::DialogId) override {}
    void on_bye(sip::DialogId) override { set([&] { remote_hangup_ = true; }); }
    void on_response(sip::DialogId,
                     int status,
                     const std::string& phrase,
                     const std::string& sdp,
                     sip::ResponseOrigin) override {
        if (status < 200) {
            std::cout << "  " << status << " " << phrase << std::endl;
            return;
        }
        set([&] {
            final_status_ = status;
            final_phrase_ = phrase;
            answer_sdp_ = sdp;
        });
    }
    void on_terminated(sip::DialogId, int, const std::string&) override {
        set([&] { terminated_ = true; });
    }

    template <class Pred>
    bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return pred(); });
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<int> final_status_;
    std::string final_phrase_;
    std::string answer_sdp_;
    bool remote_hangup_ = false;
    bool terminated_ = false;

private:
    template <class Fn>
    void set(Fn fn) {
        {
            std::lock_guard lock(mutex_);
            fn();
        }
        cv_.notify_all();
    }
    sip::SipStack* stack_ = nullptr;
};

// The local address the system would use to reach `host`.
std::string route_to(const std::string& host, int port) {
    try {
        asio::io_context io;
        asio::ip::udp::resolver resolver(io);
        auto results = resolver.resolve(asio::ip::udp::v4(), host, std::to_string(port));
        asio::ip::udp::socket socket(io);
        socket.connect(*results.begin());
        return socket.local_endpoint().address().to_string();
    } catch (const std::exception&) {
        return "127.0.0.1";
    }
}

// True when both ports of the pair can be bound now (another process may hold them).
bool rtp_pair_free(const std::string& ip, int rtp_port) {
    asio::io_context io;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(ip, ec);
    if (ec) return false;
    asio::ip::udp::socket rtp(io), rtcp(io);
    rtp.open(address.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
    if (!ec) rtp.bind({address, static_cast<unsigned short>(rtp_port)}, ec);
    if (!ec) rtcp.open(address.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
    if (!ec) rtcp.bind({address, static_cast<unsigned short>(rtp_port + 1)}, ec);
    return !ec;
}

double rms(const std::vector<std::int16_t>& pcm) {
    if (pcm.empty()) return 0;
    double sum = 0;
    for (const auto s : pcm) sum += static_cast<double>(s) * s;
    return std::sqrt(sum / static_cast<double>(pcm.size()));
}

}  // namespace

int run_phone(const PhoneOptions& options) {
    auto target = parse_sip_uri(options.target);
    if (!target) {
        std::cerr << "trunkline call: " << options.target << ": " << target.error().message << "\n";
        return 2;
    }
    const int target_port = target->port.value_or(target->scheme == "sips" ? 5061 : 5060);
    std::optional<media::WavAudio> play;
    if (!options.play.empty()) {
        auto wav = media::read_wav(options.play);
        if (!wav) {
            std::cerr << "trunkline call: --play: " << wav.error().message << "\n";
            return 2;
        }
        play = std::move(*wav);
    }
    std::vector<sip::HeaderField> headers;
    for (const auto& h : options.headers) {
        const auto colon = h.find(':');
        if (colon == std::string::npos || colon == 0 || !is_sip_token(h.substr(0, colon))) {
            std::cerr << "trunkline call: --header must be 'Name: value' (got '" << h << "')\n";
            return 2;
        }
        auto value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        headers.push_back({h.substr(0, colon), value});
    }
    const auto local_ip = options.local_ip.empty() ? route_to(target->host, target_port)
                                                   : options.local_ip;
    auto sip_port = pick_free_sip_port(local_ip);
    if (!sip_port) {
        std::cerr << "trunkline call: " << sip_port.error().message << "\n";
        return 1;
    }

    PhoneEvents events;
    sip::SipStackConfig stack_config;
    stack_config.listen_host = local_ip;
    stack_config.listen_port = *sip_port;
    stack_config.user_agent = std::string("trunkline-phone/") + TL_VERSION;
    auto stack = sip::SipStack::start(stack_config, events);
    if (!stack) {
        std::cerr << "trunkline call: " << stack.error().message << "\n";
        return 1;
    }
    events.attach(**stack);

    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::thread io_thread([&io] { io.run(); });
    auto finish = [&](int code) {
        (*stack)->stop();
        work.reset();
        io.stop();
        io_thread.join();
        return code;
    };

    // Several phones may run at once (tests): start at a random pair and skip pairs in use.
    const int base = 40000 + 2 * static_cast<int>(randombytes_uniform(4000));
    auto pool = media::PortPool::create(base, base + 1999);
    Result<media::PortLease> lease = make_error(Errc::kUnavailable, "no free RTP port pair");
    for (int attempt = 0; attempt < 20; ++attempt) {
        lease = pool->acquire();
        if (!lease) break;
        if (rtp_pair_free(local_ip, lease->rtp_port())) break;
    }
    if (!lease) {
        std::cerr << "trunkline call: no RTP port\n";
        return finish(1);
    }
    media::LocalMedia local{local_ip, lease->rtp_port(), 1, 1};
    sip::OutboundInvite invite;
    invite.request_uri = options.target;
    invite.from_uri = fmt::format("sip:{}@{}", options.from_user,
                                  local_ip.find(':') != std::string::npos ? "[" + local_ip + "]"
                                                                          : local_ip);
    invite.sdp = media::render_offer(local);
    invite.headers = headers;
    invite.auth_username = options.user;
    invite.auth_password = options.password;
    std::cout << "calling " << options.target << " from " << local_ip << ":" << *sip_port
              << std::endl;
    const auto dialog = (*stack)->invite(std::move(invite));

    if (!events.wait_for([&] { return events.final_status_.has_value() || events.terminated_; },
                         std::chrono::seconds(40))) {
        std::cerr << "trunkline call: no final response within 40 s\n";
        (*stack)->bye(dialog);
        return finish(1);
    }
    const int status = events.final_status_.value_or(500);
    std::cout << "  " << status << " " << events.final_phrase_ << std::endl;
    if (status < 200 || status >= 300) return finish(1);

    auto answer = media::parse_sdp(events.answer_sdp_);
    auto audio = answer ? media::negotiate_answer(*answer)
                        : Result<media::NegotiatedAudio>(answer.error());
    if (!audio) {
        std::cerr << "trunkline call: unusable SDP answer: " << audio.error().message << "\n";
        (*stack)->bye(dialog);
        return finish(1);
    }
    std::mutex heard_mutex;
    std::vector<std::int16_t> heard;
    media::RtpSessionConfig rtp_config;
    rtp_config.bind_address = local_ip;
    rtp_config.ports = std::move(*lease);
    rtp_config.audio = *audio;
    media::RtpSession::Callbacks callbacks;
    callbacks.on_audio = [&](std::span<const std::int16_t> frame) {
        std::lock_guard lock(heard_mutex);
        heard.insert(heard.end(), frame.begin(), frame.end());
    };
    callbacks.on_dtmf = [](char digit, int ms) {
        std::cout << "  DTMF " << digit << " (" << ms << " ms)" << std::endl;
    };
    auto rtp = media::RtpSession::create(io, std::move(rtp_config), std::move(callbacks));
    if (!rtp) {
        std::cerr << "trunkline call: " << rtp.error().message << "\n";
        (*stack)->bye(dialog);
        return finish(1);
    }
    (*rtp)->start();
    if (play) {
        auto pcm = std::make_shared<media::Pcm>(
            media::resample(play->samples, play->sample_rate, 8000));
        (*rtp)->play(pcm);
    }

    const auto duration = std::chrono::milliseconds(
        static_cast<long long>(options.duration_seconds * 1000));
    const bool hung_up_by_far_end =
        events.wait_for([&] { return events.remote_hangup_ || events.terminated_; }, duration);
    if (!hung_up_by_far_end) {
        (*stack)->bye(dialog);
        events.wait_for([&] { return events.terminated_; }, std::chrono::seconds(5));
    }
    (*rtp)->stop();
    const auto stats = (*rtp)->stats();
    std::vector<std::int16_t> recording;
    {
        std::lock_guard lock(heard_mutex);
        recording = heard;
    }
    std::cout << fmt::format("  {} by {}; sent {} RTP packets, received {} ({:.2f} s of audio, "
                             "RMS {:.0f})",
                             "hung up", hung_up_by_far_end ? "the far end" : "us",
                             stats.packets_sent, stats.packets_received,
                             static_cast<double>(recording.size()) / 8000.0, rms(recording))
              << std::endl;
    if (!options.record.empty()) {
        if (auto st = media::write_wav(options.record, 8000, recording); !st) {
            std::cerr << "trunkline call: --record: " << st.error().message << "\n";
            return finish(1);
        }
        std::cout << "  recorded to " << options.record << std::endl;
    }
    return finish(0);
}

}  // namespace tl::app
