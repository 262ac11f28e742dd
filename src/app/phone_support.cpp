#include "app/phone_support.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <boost/asio/ip/udp.hpp>
#include <cmath>
#include <iostream>

#include "media/resampler.hpp"
#include "media/wav.hpp"
#include "voice/text_to_speech.hpp"

namespace tl::app::phone {

namespace asio = boost::asio;

void PhoneEvents::on_invite(const sip::InviteRequest& invite) {
    bool take = false;
    if (answering_ == Answering::kYes) {
        std::lock_guard lock(mutex_);
        take = !incoming_.has_value();
        if (take) incoming_ = invite;
    }
    if (take) {
        cv_.notify_all();
        return;
    }
    stack_->reply(invite.dialog, {486,
                                  answering_ == Answering::kYes ? "Test phone is busy"
                                                                : "Test phone does not take calls",
                                  {},
                                  {}});
}

void PhoneEvents::on_reinvite(sip::DialogId dialog, const sip::InviteRequest&) {
    stack_->reply(dialog, {488, {}, {}, {}});
}

void PhoneEvents::on_cancel(sip::DialogId) {
    set([&] { cancelled_ = true; });
}

void PhoneEvents::on_bye(sip::DialogId) {
    set([&] { remote_hangup_ = true; });
}

void PhoneEvents::on_response(sip::DialogId,
                              int status,
                              const std::string& phrase,
                              const std::string& sdp,
                              sip::ResponseOrigin) {
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

void PhoneEvents::on_terminated(sip::DialogId, int, const std::string&) {
    set([&] { terminated_ = true; });
}

namespace {

double rms(const std::vector<std::int16_t>& pcm) {
    if (pcm.empty()) return 0;
    double sum = 0;
    for (const auto s : pcm) sum += static_cast<double>(s) * s;
    return std::sqrt(sum / static_cast<double>(pcm.size()));
}

}  // namespace

Result<std::shared_ptr<const media::Pcm>> outgoing_audio(const std::vector<std::string>& say,
                                                         const std::string& play) {
    constexpr std::size_t kPauseSamples = 3 * 8000;
    auto out = std::make_shared<media::Pcm>();
    for (std::size_t i = 0; i < say.size(); ++i) {
        if (i > 0) out->insert(out->end(), kPauseSamples, 0);
        // The embedded voice (en-us, klatt4): the one the server's recogniser was measured with.
        auto spoken = voice::make_espeak_tts()->synthesize(say[i], "en");
        if (!spoken) return make_error(Errc::kInvalidRequest, "--say: " + spoken.error().message);
        out->insert(out->end(), (*spoken)->begin(), (*spoken)->end());
    }
    if (!play.empty()) {
        auto wav = media::read_wav(play);
        if (!wav) return make_error(Errc::kInvalidRequest, "--play: " + wav.error().message);
        const auto pcm = media::resample(wav->samples, wav->sample_rate, 8000);
        out->insert(out->end(), pcm.begin(), pcm.end());
    }
    if (out->empty()) return std::shared_ptr<const media::Pcm>();
    return std::shared_ptr<const media::Pcm>(std::move(out));
}

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

Result<media::PortLease> rtp_ports(const std::string& ip) {
    const int base = 40000 + 2 * static_cast<int>(randombytes_uniform(4000));
    auto pool = media::PortPool::create(base, base + 1999);
    return media::acquire_bindable(*pool, ip, 20);
}

int run_media(asio::io_context& io,
              sip::SipStack& stack,
              PhoneEvents& events,
              sip::DialogId dialog,
              MediaPlan plan) {
    std::mutex heard_mutex;
    std::vector<std::int16_t> heard;
    media::RtpSessionConfig rtp_config;
    rtp_config.bind_address = plan.local_ip;
    rtp_config.ports = std::move(plan.ports);
    rtp_config.audio = plan.audio;
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
        stack.bye(dialog);
        return 1;
    }
    (*rtp)->start();
    if (plan.send) (*rtp)->play(plan.send);

    const bool hung_up_by_far_end =
        events.wait_for([&] { return events.remote_hangup_ || events.terminated_; }, plan.duration);
    if (!hung_up_by_far_end) {
        stack.bye(dialog);
        events.wait_for([&] { return events.terminated_; }, std::chrono::seconds(5));
    }
    (*rtp)->stop();
    const auto stats = (*rtp)->stats();
    std::vector<std::int16_t> recording;
    {
        std::lock_guard lock(heard_mutex);
        recording = heard;
    }
    std::cout << fmt::format(
                     "  {} by {}; sent {} RTP packets, received {} ({:.2f} s of audio, "
                     "RMS {:.0f})",
                     "hung up", hung_up_by_far_end ? "the far end" : "us", stats.packets_sent,
                     stats.packets_received, static_cast<double>(recording.size()) / 8000.0,
                     rms(recording))
              << std::endl;
    if (!plan.record.empty()) {
        if (auto st = media::write_wav(plan.record, 8000, recording); !st) {
            std::cerr << "trunkline call: --record: " << st.error().message << "\n";
            return 1;
        }
        std::cout << "  recorded to " << plan.record << std::endl;
    }
    return 0;
}

}  // namespace tl::app::phone
