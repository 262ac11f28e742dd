// `trunkline call --answer`: the test phone as the callee. It registers nowhere: it listens on
// --listen for one INVITE (the demo assistant's transfer, docs/calls.md "The test phone"),
// answers it at once with the SDP answer, plays its line, records what it hears and prints what
// happened. A second INVITE while it is busy gets 486.

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <iostream>
#include <thread>

#include "app/listen_address.hpp"
#include "app/phone_command.hpp"
#include "app/phone_support.hpp"

namespace tl::app::phone {

namespace asio = boost::asio;

namespace {

// What the agent says when neither --say nor --play is given.
constexpr const char* kDefaultLine = "This is the demo agent, how can I help?";

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

}  // namespace

int run_answering_phone(const PhoneOptions& options) {
    auto listen = parse_listen_address(options.listen, "--listen");
    if (!listen) {
        std::cerr << "trunkline call: " << listen.error().message << "\n";
        return 2;
    }
    if (listen->port == 0) {
        std::cerr << "trunkline call: --listen needs a port (the transfer destination names it)\n";
        return 2;
    }
    const bool default_line = options.say.empty() && options.play.empty();
    auto audio_out = outgoing_audio(
        default_line ? std::vector<std::string>{kDefaultLine} : options.say, options.play);
    if (!audio_out) {
        std::cerr << "trunkline call: " << audio_out.error().message << "\n";
        return 2;
    }

    PhoneEvents events(Answering::kYes);
    sip::SipStackConfig stack_config;
    stack_config.listen_host = listen->host;
    stack_config.listen_port = listen->port;
    stack_config.user_agent = std::string("trunkline-phone/") + TL_VERSION;
    auto stack = sip::SipStack::start(stack_config, events);
    if (!stack) {
        std::cerr << "trunkline call: --listen " << options.listen << ": " << stack.error().message
                  << "\n";
        return 1;
    }
    events.attach(**stack);
    IoThread io_thread;
    auto finish = [&](int code) {
        (*stack)->stop();
        io_thread.stop();
        return code;
    };

    std::cout << "waiting for a call on sip:" << listen->to_string() << std::endl;
    const auto incoming = [&] { return events.incoming_.has_value(); };
    if (options.wait_seconds > 0) {
        const auto wait =
            std::chrono::milliseconds(static_cast<long long>(options.wait_seconds * 1000));
        if (!events.wait_for(incoming, wait)) {
            std::cerr << "trunkline call: no call within " << options.wait_seconds << " s\n";
            return finish(1);
        }
    } else {
        events.wait(incoming);
    }
    sip::InviteRequest invite;
    {
        std::lock_guard lock(events.mutex_);
        invite = *events.incoming_;
    }
    std::cout << "incoming call from " << invite.from_uri << " to " << invite.request_uri
              << std::endl;

    auto offer = media::parse_sdp(invite.body);
    auto audio =
        offer ? media::negotiate_answer(*offer) : Result<media::NegotiatedAudio>(offer.error());
    if (!audio) {
        std::cerr << "trunkline call: unusable SDP offer: " << audio.error().message << "\n";
        (*stack)->reply(invite.dialog, {488, {}, {}, {}});
        return finish(1);
    }
    const auto local_ip =
        is_wildcard(listen->host) ? route_to(invite.source_ip, invite.source_port) : listen->host;
    auto lease = rtp_ports(local_ip);
    if (!lease) {
        std::cerr << "trunkline call: no RTP port\n";
        (*stack)->reply(invite.dialog, {503, {}, {}, {}});
        return finish(1);
    }
    const media::LocalMedia local{local_ip, lease->rtp_port(), 1, 1};
    (*stack)->reply(invite.dialog, {180, {}, {}, {}});
    (*stack)->reply(invite.dialog, {200, {}, {}, media::render_answer(*offer, *audio, local)});
    std::cout << "  answered (" << (audio->codec == media::Codec::kPcma ? "PCMA" : "PCMU") << ")"
              << (default_line ? fmt::format(", saying \"{}\"", kDefaultLine) : std::string())
              << std::endl;

    MediaPlan plan{
        local_ip,
        std::move(*lease),
        *audio,
        std::move(*audio_out),
        std::chrono::milliseconds(static_cast<long long>(options.duration_seconds * 1000)),
        options.record};
    return finish(run_media(io_thread.io(), **stack, events, invite.dialog, std::move(plan)));
}

}  // namespace tl::app::phone
