#pragma once
// What an assistant does when a provider fails mid-call (the assistant document's `fallback`,
// docs/conversation.md "When a provider fails"): transfer to a person, or say a message and end
// the call. Read by the API's validator (a fallback that cannot be carried out is refused) and by
// the call (which carries it out). Pure functions: thread-safe.

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace tl::voice {

inline constexpr std::string_view kDefaultFallbackMessage =
    "Sorry, I can't help right now. Goodbye.";

struct Fallback {
    enum class Action { kTransfer, kEndCall };
    Action action = Action::kEndCall;
    // kTransfer: a destination of a transfer_call tool (with its message and credentials), or
    // `direct` (an E.164 number or a sip:/sips: URI named by the fallback itself).
    std::optional<boost::json::object> destination;
    std::string direct;
    std::string message;  // kEndCall: said before the end
};

// The assistant's fallback: its `fallback` field, else the first transfer_call destination,
// else end_call with kDefaultFallbackMessage. An error (Errc::kInvalidRequest, field
// "fallback..." ) when the field has the wrong shape or names a destination that does not exist.
Result<Fallback> resolve_fallback(const boost::json::object& assistant);

}  // namespace tl::voice
