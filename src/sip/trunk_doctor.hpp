#pragma once
// The trunk doctor: tests a SIP trunk for outbound use before the first call, step by step, the
// way a call will use it: DNS (RFC 3263), the connection (TCP, TLS with its certificate),
// an OPTIONS round trip through our own SIP stack, and the credentials (answering the OPTIONS
// challenge, so nothing is dialled). Each step says pass, warn or fail, what went over the wire,
// and a hint in plain words.
//
// Thread-safety: examine_trunk() blocks the calling thread (never the SIP thread) for at most
// a few timeouts; calls on different threads are independent.

#include "sip/sip_capture_registry.hpp"
#include "sip/sip_resolver.hpp"
#include "sip/stack/sip_stack.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tl::sip {

struct TrunkUnderTest {
    std::string host;
    int port = 5060;
    std::string transport = "udp";  // udp | tcp | tls
    std::string username;           // digest credentials; empty: none configured
    std::string password;
};

struct DoctorTools {
    SipStack& stack;
    SipCaptureRegistry* capture = nullptr;  // shows the OPTIONS exchange; none: not shown
    std::string local_host;                 // our host, for the probe's Call-ID
    std::chrono::milliseconds timeout{5000};  // per step
    std::optional<Nameserver> nameserver{};   // tests
    std::string tls_ca_file{};                // besides the system store
};

struct DoctorStep {
    std::string name;    // dns | connect | tls | options | credentials
    std::string status;  // pass | warn | fail
    std::string hint;
    std::string exchange;           // what was looked up, sent and received (text)
    std::optional<double> rtt_ms;   // options
};

struct DoctorReport {
    std::string result;  // the worst step: fail > warn > pass
    std::vector<DoctorStep> steps;
};

DoctorReport examine_trunk(const TrunkUnderTest& trunk, const DoctorTools& tools);

}  // namespace tl::sip
