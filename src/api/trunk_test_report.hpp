#pragma once
// POST /sip-trunks/{id}/test and `trunkline trunk test`: the trunk doctor's outbound steps
// (sip/trunk_doctor.hpp) plus, for inbound use, what the carrier must be given and the trunk's
// last inbound attempts with their outcome, as one JSON document:
// {"result", "steps": [{"name", "status", "hint", "exchange", "rtt_ms"?}], "inbound": {...}}.
//
// Thread-safety: blocks the calling thread for the doctor's steps; never call on the SIP thread.

#include "sip/sip_capture_registry.hpp"
#include "sip/stack/sip_stack.hpp"
#include "store/records.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <string>

namespace tl::api {

struct TrunkTestTools {
    sip::SipStack& stack;
    sip::SipCaptureRegistry* capture = nullptr;
    std::string local_host;    // our SIP host (the probe's Call-ID)
    std::string sip_endpoint;  // "sip:203.0.113.5:5060": what inbound carriers send to
    std::chrono::milliseconds timeout{5000};
};

// How many of the trunk's latest inbound calls the report lists.
constexpr int kRecentInboundAttempts = 20;

Result<boost::json::object> trunk_test_report(store::Store& store,
                                              const store::SecretBox& secrets,
                                              const store::SipTrunk& trunk,
                                              const TrunkTestTools& tools);

}  // namespace tl::api
