#pragma once
// Live export of every SIP message to a Homer collector: one HEP v3 packet per message over UDP
// (the collector's usual transport), correlated by SIP Call-ID. Sending never blocks the SIP
// thread: a full socket buffer drops the packet and counts it.
//
// Thread-safety: send() may be called from any thread (one non-blocking datagram per call).

#include "common/error.hpp"
#include "common/metrics.hpp"
#include "sip/capture/captured_message.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tl::sip {

class HepSender {
public:
    // `endpoint`: "HOST:PORT" ("[v6]:PORT"); the host is resolved once, here.
    static Result<std::unique_ptr<HepSender>> open(const std::string& endpoint,
                                                   std::uint32_t capture_id,
                                                   metrics::Registry& metrics);
    ~HepSender();
    HepSender(const HepSender&) = delete;
    HepSender& operator=(const HepSender&) = delete;

    void send(const CapturedMessage& message, std::string_view sip_call_id);

private:
    HepSender(int fd, std::uint32_t capture_id, metrics::Registry& metrics);
    int fd_ = -1;
    std::uint32_t capture_id_;
    metrics::Counter& sent_;
    metrics::Counter& dropped_;
};

}  // namespace tl::sip
