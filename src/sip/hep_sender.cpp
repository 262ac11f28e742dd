#include "sip/hep_sender.hpp"

#include "sip/capture/hep.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tl::sip {

Result<std::unique_ptr<HepSender>> HepSender::open(const std::string& endpoint,
                                                   std::uint32_t capture_id,
                                                   metrics::Registry& metrics) {
    const auto colon = endpoint.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size()) {
        return make_error(Errc::kInvalidRequest,
                          "--hep-endpoint must be HOST:PORT, e.g. homer.example.com:9060");
    }
    std::string host = endpoint.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port = endpoint.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("--hep-endpoint {}: {}", endpoint, ::gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
    const int fd = ::socket(found->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
        const int error = errno;
        if (fd >= 0) ::close(fd);
        return make_error(Errc::kUnavailable,
                          fmt::format("--hep-endpoint {}: {}", endpoint, std::strerror(error)));
    }
    return std::unique_ptr<HepSender>(new HepSender(fd, capture_id, metrics));
}

HepSender::HepSender(int fd, std::uint32_t capture_id, metrics::Registry& metrics)
    : fd_(fd),
      capture_id_(capture_id),
      sent_(metrics.counter("trunkline_hep_packets_sent_total",
                            "SIP messages exported to the Homer collector (HEP v3).")),
      dropped_(metrics.counter("trunkline_hep_packets_dropped_total",
                               "SIP messages not exported: the socket was full or the "
                               "collector unreachable.")) {}

HepSender::~HepSender() {
    if (fd_ >= 0) ::close(fd_);
}

void HepSender::send(const CapturedMessage& message, std::string_view sip_call_id) {
    const auto packet = encode_hep3(message, capture_id_, sip_call_id);
    // A connected UDP socket reports an earlier ICMP unreachable on the next send: counted as
    // a drop, never retried (the capture is best effort; the call is not).
    if (::send(fd_, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
        static_cast<ssize_t>(packet.size())) {
        sent_.inc();
    } else {
        dropped_.inc();
    }
}

}  // namespace tl::sip
