#include "app/phone_command.hpp"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <iostream>
#include <thread>

#include "app/phone_support.hpp"
#include "app/sip_edge.hpp"
#include "common/validation.hpp"

namespace tl::app {

namespace asio = boost::asio;

int run_phone(const PhoneOptions& options) {
    if (options.answer) return phone::run_answering_phone(options);
    auto target = parse_sip_uri(options.target);
    if (!target) {
        std::cerr << "trunkline call: " << options.target << ": " << target.error().message << "\n";
        return 2;
    }
    const int target_port = target->port.value_or(target->scheme == "sips" ? 5061 : 5060);
    auto audio_out = phone::outgoing_audio(options.say, options.play);
    if (!audio_out) {
        std::cerr << "trunkline call: " << audio_out.error().message << "\n";
        return 2;
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
    const auto local_ip =
        options.local_ip.empty() ? phone::route_to(target->host, target_port) : options.local_ip;
    auto sip_port = pick_free_sip_port(local_ip);
    if (!sip_port) {
        std::cerr << "trunkline call: " << sip_port.error().message << "\n";
        return 1;
    }

    phone::PhoneEvents events(phone::Answering::kNo);
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

    phone::IoThread io_thread;
    auto finish = [&](int code) {
        (*stack)->stop();
        io_thread.stop();
        return code;
    };

    auto lease = phone::rtp_ports(local_ip);
    if (!lease) {
        std::cerr << "trunkline call: no RTP port\n";
        return finish(1);
    }
    media::LocalMedia local{local_ip, lease->rtp_port(), 1, 1};
    sip::OutboundInvite invite;
    invite.request_uri = options.target;
    invite.from_uri =
        fmt::format("sip:{}@{}", options.from_user,
                    local_ip.find(':') != std::string::npos ? "[" + local_ip + "]" : local_ip);
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
    auto audio =
        answer ? media::negotiate_answer(*answer) : Result<media::NegotiatedAudio>(answer.error());
    if (!audio) {
        std::cerr << "trunkline call: unusable SDP answer: " << audio.error().message << "\n";
        (*stack)->bye(dialog);
        return finish(1);
    }
    phone::MediaPlan plan{
        local_ip,
        std::move(*lease),
        *audio,
        std::move(*audio_out),
        std::chrono::milliseconds(static_cast<long long>(options.duration_seconds * 1000)),
        options.record};
    return finish(phone::run_media(io_thread.io(), **stack, events, dialog, std::move(plan)));
}

}  // namespace tl::app
