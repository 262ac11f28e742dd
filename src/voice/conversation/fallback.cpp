#include "voice/conversation/fallback.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <vector>

#include "common/validation.hpp"

namespace tl::voice {

namespace json = boost::json;

namespace {

Error invalid(const std::string& field, const std::string& why) {
    return make_error(Errc::kInvalidRequest, field + " " + why, field);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::string text(const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The destinations of the assistant's transfer_call tools, in order.
std::vector<const json::object*> transfer_destinations(const json::object& assistant) {
    std::vector<const json::object*> out;
    const auto* llm = assistant.if_contains("llm_config");
    const auto* tools = llm && llm->is_object() ? llm->as_object().if_contains("tools") : nullptr;
    if (!tools || !tools->is_array()) return out;
    for (const auto& tool : tools->as_array()) {
        if (!tool.is_object() || text(tool.as_object(), "type") != "transfer_call") continue;
        const auto* dests = tool.as_object().if_contains("destinations");
        if (!dests || !dests->is_array()) continue;
        for (const auto& d : dests->as_array()) {
            if (d.is_object()) out.push_back(&d.as_object());
        }
    }
    return out;
}

bool direct_destination(std::string_view d) {
    return is_e164(d) || d.rfind("sip:", 0) == 0 || d.rfind("sips:", 0) == 0;
}

}  // namespace

Result<Fallback> resolve_fallback(const json::object& assistant) {
    const auto destinations = transfer_destinations(assistant);
    const auto* field = assistant.if_contains("fallback");
    Fallback out;
    if (field == nullptr || field->is_null()) {
        if (destinations.empty()) {
            out.message = std::string(kDefaultFallbackMessage);
        } else {
            out.action = Fallback::Action::kTransfer;
            out.destination = *destinations.front();
        }
        return out;
    }
    if (!field->is_object()) {
        return invalid("fallback",
                       "must be an object: {\"action\": \"transfer\", \"destination\": ...} or "
                       "{\"action\": \"end_call\", \"message\": ...}");
    }
    const auto& f = field->as_object();
    for (const auto& [key, value] : f) {
        if (key != "action" && key != "destination" && key != "message") {
            return invalid("fallback." + std::string(key), "is not a known field");
        }
    }
    const auto* action = f.if_contains("action");
    if (!action || !action->is_string() ||
        (action->as_string() != "transfer" && action->as_string() != "end_call")) {
        return invalid("fallback.action", "must be one of: transfer, end_call");
    }
    const auto* message = f.if_contains("message");
    if (message && !message->is_null() &&
        (!message->is_string() || message->as_string().size() > 4096)) {
        return invalid("fallback.message", "must be a string of at most 4096 characters");
    }
    const auto* destination = f.if_contains("destination");
    if (action->as_string() == "end_call") {
        if (destination && !destination->is_null()) {
            return invalid("fallback.destination", "is only for action transfer");
        }
        out.message = message && message->is_string() ? std::string(message->as_string())
                                                      : std::string(kDefaultFallbackMessage);
        return out;
    }
    if (message && !message->is_null()) {
        return invalid("fallback.message",
                       "is only for action end_call (a transfer destination has its own message)");
    }
    out.action = Fallback::Action::kTransfer;
    if (destination == nullptr || destination->is_null()) {
        if (destinations.empty()) {
            return invalid("fallback.destination",
                           "is required: the assistant has no transfer_call destination");
        }
        out.destination = *destinations.front();
        return out;
    }
    if (destination->is_int64() || destination->is_uint64()) {
        const auto index = destination->to_number<std::int64_t>();
        if (index < 0 || static_cast<std::size_t>(index) >= destinations.size()) {
            return invalid("fallback.destination",
                           "is not the index of a transfer_call destination (the assistant has " +
                               std::to_string(destinations.size()) + ")");
        }
        out.destination = *destinations[static_cast<std::size_t>(index)];
        return out;
    }
    if (!destination->is_string() || destination->as_string().empty()) {
        return invalid("fallback.destination",
                       "must be the index or description of a transfer_call destination, an "
                       "E.164 number or a sip: URI");
    }
    const std::string wanted(destination->as_string());
    // A configured destination first (its message and credentials come with it).
    for (const auto* d : destinations) {
        if (text(*d, "number") == wanted || text(*d, "sip_uri") == wanted) {
            out.destination = *d;
            return out;
        }
    }
    for (const auto* d : destinations) {
        if (const auto description = text(*d, "description");
            !description.empty() && iequals(description, wanted)) {
            out.destination = *d;
            return out;
        }
    }
    if (direct_destination(wanted)) {
        out.direct = wanted;
        return out;
    }
    return invalid("fallback.destination",
                   "'" + wanted.substr(0, 200) +
                       "' is no transfer_call destination of the assistant (give its index, its "
                       "description, an E.164 number or a sip: URI)");
}

}  // namespace tl::voice
