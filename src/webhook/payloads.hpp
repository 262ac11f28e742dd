#pragma once
// Webhook payloads (api-contract.md §5.3, §5.6, §5.7), built from store records. Pure functions:
// the caller passes everything in, including the event's timestamp, so the payload written to
// the outbox is exactly what will be sent (and signed) later, however late.
//
// Thread-safety: pure functions.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "store/records.hpp"

namespace tl::webhook {

inline constexpr std::string_view kAssistantRequest = "assistant-request";
inline constexpr std::string_view kToolCalls = "tool-calls";
inline constexpr std::string_view kStatusUpdate = "status-update";
inline constexpr std::string_view kEndOfCallReport = "end-of-call-report";

// What an event is about. `number` and `assistant` are optional (nullptr: absent).
struct EventSource {
    const store::Call& call;
    const store::PhoneNumber* number = nullptr;
    // The resolved assistant configuration (including `metadata`) as sent to the customer.
    const boost::json::object* assistant = nullptr;
    std::string timestamp;  // ISO-8601 UTC with milliseconds, the event's time
};

// "inbound_phone_call" | "outbound_phone_call" | "web_call" for a call's direction.
std::string_view call_type(const store::Call& call);

// The webhook's call.status for a call record: "in-progress", "ended", or "ended-with-error"
// (a failed call, or an ended one with an error); other states ("connecting", "ringing") as is.
std::string_view webhook_call_status(const store::Call& call);

// The common envelope's `message` object with `type` and call.status `status`.
boost::json::object message_object(std::string_view type,
                                   std::string_view status,
                                   const EventSource& source);

// {"message": {...envelope, "end_reason"?, "error"?}} with call.status from the call record.
std::string status_update_payload(const EventSource& source);

// {"message": {...envelope, duration_seconds, summary, end_reason, started_at, ended_at,
// messages, transfer, recording_url}}. Fields with no value are null; summary is "" until
// summaries exist; recording_url is null until recording exists.
std::string end_of_call_report_payload(const EventSource& source);

}  // namespace tl::webhook
