#pragma once
// What the API may ask of live calls (POST /calls/{id}/control). Implemented by CallManager;
// the API holds only this interface. Thread-safety: implementations accept calls from any thread.

#include "common/error.hpp"
#include "sip/capture/call_capture.hpp"
#include "store/records.hpp"

#include <optional>
#include <string>

namespace tl::call {

// An outbound call the API has resolved (api-contract.md §4.3, issue 7): where it goes, through
// which trunk, presenting what, and the assistant that talks (reference, transient or hybrid,
// already merged and validated).
struct OutboundCallRequest {
    std::string org_id;
    std::string destination;                   // E.164
    store::SipTrunk trunk;                     // active, direction outbound or both
    std::optional<store::PhoneNumber> number;  // number_id: its number is the caller ID when the
                                               // trunk has no caller_id
    store::Assistant assistant;                // id empty for a transient assistant
    std::optional<std::string> first_message;  // the request's, over the assistant's
};

class CallControl {
public:
    // Places an outbound call; returns its id at once (status "dialing"). kRateLimited when the
    // trunk's max_concurrent_calls is reached or its max_calls_per_second pace would hold the call
    // longer than a few seconds; kUnavailable when the server cannot place calls now.
    virtual Result<std::string> dial(OutboundCallRequest request) = 0;

    virtual ~CallControl() = default;
    // kNotFound: no such live call of this organization (the API then checks the store to tell
    // "ended" from "unknown").
    // end-call: a non-empty `message` is spoken first, then BYE once it has been heard.
    virtual Status end_call(const std::string& org_id,
                            const std::string& call_id,
                            const std::string& message) = 0;
    // Bridge transfer (docs/calls.md): the message is spoken first; the outcome is recorded on
    // the call and, on failure, told to the caller.
    virtual Status transfer(const std::string& org_id,
                            const std::string& call_id,
                            const std::string& destination,
                            const std::string& message) = 0;
    // The assistant's transfer_call tool: destination `index` of the assistant's tool.
    virtual Status transfer_to_tool_destination(const std::string& org_id,
                                                const std::string& call_id,
                                                std::size_t index) = 0;
    // The assistant's end_call tool: end_call_message spoken, then BYE.
    virtual Status end_call_tool(const std::string& org_id, const std::string& call_id) = 0;
    // inject-context: a system message for the live conversation; `trigger_response`: the
    // assistant answers at once.
    virtual Status inject_context(const std::string& org_id,
                                  const std::string& call_id,
                                  const std::string& text,
                                  bool trigger_response) = 0;
    virtual Status say(const std::string& org_id,
                       const std::string& call_id,
                       const std::string& text,
                       bool end_after) = 0;
    // send-dtmf: plays `digits` (0-9 * # A-D, already validated) to the far end: the transfer
    // destination while bridged (an IVR, a PIN prompt), else the caller. Each digit lasts
    // 100 ms with 100 ms between digits; RFC 4733 events where negotiated, else in-band tones.
    virtual Status send_dtmf(const std::string& org_id,
                             const std::string& call_id,
                             const std::string& digits) = 0;
    // The SIP capture of a call live on this server (GET /calls/{id}/sip); none when it is not
    // live here (then the stored one is read).
    virtual std::optional<sip::CaptureSnapshot> live_sip_capture(const std::string& org_id,
                                                                 const std::string& call_id) {
        return std::nullopt;
    }
};

}  // namespace tl::call
