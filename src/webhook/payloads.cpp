#include "webhook/payloads.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tl::webhook {
namespace {

boost::json::value opt(const std::optional<std::string>& v) {
    if (!v) return nullptr;
    return boost::json::string(*v);
}

// A JSON column the store keeps as text; whatever does not parse as `kind` becomes `fallback`
// (the columns are written by Trunkline, so this is a defence, not an expected path).
boost::json::value parse_column(const std::optional<std::string>& text,
                                boost::json::kind kind,
                                boost::json::value fallback) {
    if (!text) return fallback;
    boost::system::error_code ec;
    auto parsed = boost::json::parse(*text, ec);
    if (ec || parsed.kind() != kind) return fallback;
    return parsed;
}

std::string wrap(boost::json::object message) {
    boost::json::object root;
    root["message"] = std::move(message);
    return boost::json::serialize(root);
}

}  // namespace

std::string_view call_type(const store::Call& call) {
    if (call.direction == "outbound") return "outbound_phone_call";
    if (call.direction == "web") return "web_call";
    return "inbound_phone_call";
}

std::string_view webhook_call_status(const store::Call& call) {
    if (call.status == "failed") return "ended-with-error";
    if (call.status == "ended") return call.error ? "ended-with-error" : "ended";
    return call.status;
}

boost::json::object message_object(std::string_view type,
                                   std::string_view status,
                                   const EventSource& source) {
    const store::Call& c = source.call;
    boost::json::object message;
    message["type"] = type;
    message["timestamp"] = source.timestamp;

    boost::json::object call;
    call["id"] = c.id;
    call["type"] = call_type(c);
    call["status"] = status;
    message["call"] = std::move(call);

    boost::json::object number;
    if (source.number != nullptr) {
        number["id"] = source.number->id;
        number["number"] = source.number->phone_number;
        number["name"] = opt(source.number->name);
    } else {
        number["id"] = nullptr;
        number["number"] = opt(c.assistant_phone);
        number["name"] = nullptr;
    }
    message["phone_number"] = std::move(number);

    boost::json::object customer;
    customer["number"] = opt(c.caller_phone);
    message["customer"] = std::move(customer);

    if (source.assistant != nullptr) message["assistant"] = *source.assistant;
    return message;
}

// Why the call or its transfer failed, as on the API's call object: the call's hint and
// sip_code (a failed outbound call), and the transfer with its reason, sip_code and hint.
static void add_failure_fields(boost::json::object& message, const store::Call& c) {
    message["hint"] = opt(c.hint);
    message["sip_code"] = c.sip_status ? boost::json::value(*c.sip_status) : nullptr;
    message["transfer"] = parse_column(c.transfer_json, boost::json::kind::object, nullptr);
}

std::string status_update_payload(const EventSource& source) {
    const store::Call& c = source.call;
    auto message = message_object(kStatusUpdate, webhook_call_status(c), source);
    if (c.end_reason) message["end_reason"] = *c.end_reason;
    if (c.error) message["error"] = *c.error;
    add_failure_fields(message, c);
    return wrap(std::move(message));
}

std::string end_of_call_report_payload(const EventSource& source) {
    const store::Call& c = source.call;
    auto message = message_object(kEndOfCallReport, webhook_call_status(c), source);
    message["duration_seconds"] = c.duration_seconds.value_or(0);
    message["summary"] = "";
    message["end_reason"] = opt(c.end_reason);
    message["started_at"] = opt(c.started_at);
    message["ended_at"] = opt(c.ended_at);
    message["messages"] =
        parse_column(c.messages_json, boost::json::kind::array, boost::json::array());
    message["recording_url"] = nullptr;
    if (c.error) message["error"] = *c.error;
    add_failure_fields(message, c);
    return wrap(std::move(message));
}

}  // namespace tl::webhook
