// POST /api/v1/calls/outbound (api-contract.md §4.3, issue 7): resolves who talks (a stored
// assistant, a transient one, or a stored one with an override), through which trunk and with
// which caller-ID number, then hands the call to the engine (CallControl::dial). The handler
// writes nothing: the engine creates the call record, so a refused or failed request leaves no
// trace and a client that retries on 429/5xx (the HMS SDK does) cannot place a call twice.

#include "api/api_context.hpp"
#include "api/assistant_document.hpp"
#include "api/json_reader.hpp"
#include "common/ids.hpp"
#include "common/validation.hpp"
#include "store/json_merge_patch.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tl::api {
namespace {

namespace json = boost::json;

// The engine answers kRateLimited when the trunk's pacing would hold the call more than a few
// seconds; a second later the picture has changed.
constexpr int kDialRetryAfterSeconds = 1;

struct OutboundBody {
    std::string destination;
    std::optional<std::string> assistant_id;           // assistant_id or its alias agent_id
    std::string assistant_field = "assistant_id";      // the name the client used, for errors
    const json::object* assistant = nullptr;           // transient mode
    const json::object* assistant_override = nullptr;  // hybrid mode
    std::optional<std::string> number_id;
    std::optional<std::string> trunk_id;
    std::optional<std::string> first_message;
    const json::object* recording = nullptr;  // over the assistant's `recording`
};

// An error found inside a nested document, re-rooted under `parent`: the assistant document's
// "llm_config.model must be ..." becomes "assistant.llm_config.model must be ...".
Error nested(Error error, std::string_view parent) {
    if (error.field.empty()) {
        error.message = fmt::format("{}: {}", parent, error.message);
        return error;
    }
    const auto full = join_path(parent, error.field);
    if (const auto at = error.message.find(error.field); at != std::string::npos) {
        error.message.replace(at, error.field.size(), full);
    } else {
        error.message = fmt::format("{}: {}", parent, error.message);
    }
    error.field = full;
    return error;
}

// An optional id field: absent or null = not given. Its shape is not checked here: an id that
// names nothing, malformed or not, is 404 like a path id.
Result<std::optional<std::string>> read_id(const ObjectReader& r, std::string_view key) {
    auto f = r.string(key, {.min = 1, .max = 64});
    if (!f) return f.error();
    if (!f->has_value()) return std::optional<std::string>{};
    return std::optional(f->value);
}

Result<OutboundBody> read_body(const json::object& body) {
    ObjectReader r(body, "");
    if (auto st = r.only({"destination", "assistant_id", "agent_id", "assistant",
                          "assistant_override", "number_id", "trunk_id", "first_message",
                          "recording"});
        !st) {
        return st.error();
    }
    OutboundBody out;
    if (auto st = r.require("destination"); !st) return st.error();
    auto destination = r.string("destination", {.min = 1, .max = 16, .nullable = false});
    if (!destination || !is_e164(destination->value)) {
        return make_error(Errc::kInvalidPhoneNumber, "destination must be E.164, e.g. +31612345678",
                          "destination");
    }
    out.destination = destination->value;

    auto assistant_id = read_id(r, "assistant_id");
    if (!assistant_id) return assistant_id.error();
    auto agent_id = read_id(r, "agent_id");
    if (!agent_id) return agent_id.error();
    if (*assistant_id && *agent_id && **assistant_id != **agent_id) {
        return make_error(Errc::kInvalidRequest,
                          "assistant_id and agent_id are aliases and must not differ", "agent_id");
    }
    out.assistant_id = *assistant_id ? *assistant_id : *agent_id;
    if (!*assistant_id && *agent_id) out.assistant_field = "agent_id";

    auto assistant = r.object("assistant");
    if (!assistant) return assistant.error();
    if (assistant->has_value()) out.assistant = assistant->value;
    auto override_doc = r.object("assistant_override");
    if (!override_doc) return override_doc.error();
    if (override_doc->has_value()) out.assistant_override = override_doc->value;

    if (out.assistant != nullptr && out.assistant_id) {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("send either {} (a stored assistant) or assistant (a "
                                      "transient one), not both",
                                      out.assistant_field),
                          "assistant");
    }
    if (out.assistant_override != nullptr && !out.assistant_id) {
        return make_error(Errc::kInvalidRequest,
                          "assistant_override changes a stored assistant for this call and needs "
                          "assistant_id; send a transient assistant whole in assistant",
                          "assistant_override");
    }
    if (out.assistant == nullptr && !out.assistant_id) {
        return make_error(Errc::kMissingField,
                          "assistant_id (a stored assistant) or assistant (a transient one) is "
                          "required",
                          "assistant_id");
    }
    for (const auto* doc : {out.assistant, out.assistant_override}) {
        if (doc != nullptr && doc->contains("is_active")) {
            const auto field =
                join_path(doc == out.assistant ? "assistant" : "assistant_override", "is_active");
            return make_error(Errc::kInvalidRequest,
                              fmt::format("{} cannot be set for one call (activate a stored "
                                          "assistant with PATCH /assistants/{{id}})",
                                          field),
                              field);
        }
    }

    auto number_id = read_id(r, "number_id");
    if (!number_id) return number_id.error();
    out.number_id = *number_id;
    auto trunk_id = read_id(r, "trunk_id");
    if (!trunk_id) return trunk_id.error();
    out.trunk_id = *trunk_id;
    auto first_message = r.string("first_message", {.min = 1, .max = 4096});
    if (!first_message) return first_message.error();
    if (first_message->has_value()) out.first_message = first_message->value;
    auto recording = r.object("recording");
    if (!recording) return recording.error();
    if (recording->has_value()) {
        if (auto st = validate_recording(*recording->value, "recording"); !st) return st.error();
        out.recording = recording->value;
    }
    return out;
}

// The document as stored assistants hold it (name and is_active live in columns).
store::Assistant assistant_from_document(json::object doc, store::Assistant base) {
    if (const auto* name = doc.if_contains("name"); name && name->is_string()) {
        base.name = std::string(name->get_string());
    }
    doc.erase("name");
    doc.erase("is_active");
    base.config_json = json::serialize(doc);
    return base;
}

// A transient assistant: validated like POST /assistants, except that name is optional and
// llm_config required. Secrets in it are sealed like a stored assistant's.
Result<store::Assistant> transient_assistant(const json::object& body,
                                             const std::string& org_id,
                                             const store::SecretBox& secrets) {
    auto doc = merge_assistant_document(body, {}, false, secrets);
    if (!doc) return nested(doc.error(), "assistant");
    const auto* llm = doc->if_contains("llm_config");
    if (llm == nullptr || llm->is_null()) {
        return make_error(Errc::kMissingField,
                          "assistant.llm_config is required for a transient assistant",
                          "assistant.llm_config");
    }
    store::Assistant base;
    base.org_id = org_id;  // id stays empty: no stored assistant
    return assistant_from_document(std::move(*doc), std::move(base));
}

// A stored assistant with an override for this call. Object-valued fields of the override are
// merged into the stored ones (RFC 7396: `{"llm_config": {"temperature": 0.2}}` changes only the
// temperature, null removes a member); other fields replace the stored value. The merge starts
// from the client view of the stored document (secrets as has_*), so the document validation
// carries the sealed secrets over exactly as for a GET -> edit -> PATCH round trip.
Result<store::Assistant> overridden_assistant(store::Assistant stored,
                                              const json::object& override_doc,
                                              const store::SecretBox& secrets) {
    boost::system::error_code ec;
    auto parsed = json::parse(stored.config_json, ec);
    json::object previous =
        !ec && parsed.is_object() ? std::move(parsed.get_object()) : json::object();
    previous["name"] = stored.name;
    previous["is_active"] = stored.is_active;
    const auto view = assistant_view(previous);
    json::object patch;
    for (const auto& [key, value] : override_doc) {
        const auto* current = view.if_contains(key);
        if (value.is_object() && current != nullptr && current->is_object()) {
            patch[key] = store::json_merge_patch(*current, value);
        } else {
            patch[key] = value;
        }
    }
    auto doc = merge_assistant_document(patch, previous, false, secrets);
    if (!doc) return nested(doc.error(), "assistant_override");
    return assistant_from_document(std::move(*doc), std::move(stored));
}

Error not_found(std::string what, std::string field) {
    return make_error(Errc::kNotFound, std::move(what) + " not found", std::move(field));
}

// A store lookup by an id from the body: unknown, foreign or malformed is 404 naming the field.
template <class T, class Get>
Result<T> lookup(const std::string& id, const char* what, const char* field, Get&& get) {
    if (!is_uuid(id)) return not_found(what, field);
    Result<T> found = get();
    if (!found && found.error().code == Errc::kNotFound) return not_found(what, field);
    return found;
}

struct DialRoute {
    store::SipTrunk trunk;
    std::string trunk_field;  // the body field that chose the trunk, for error messages
    std::optional<store::PhoneNumber> number;
};

// trunk_id names the trunk; else number_id's transfer_trunk_id; else the organization's only
// active outbound trunk.
Result<DialRoute> resolve_route(const OutboundBody& body,
                                const std::string& org_id,
                                store::Store& store) {
    DialRoute route;
    if (body.number_id) {
        auto number = lookup<store::PhoneNumber>(*body.number_id, "phone number", "number_id", [&] {
            return store.get_number(org_id, *body.number_id);
        });
        if (!number) return number.error();
        route.number = std::move(*number);
    }
    if (body.trunk_id) {
        auto trunk = lookup<store::SipTrunk>(*body.trunk_id, "sip trunk", "trunk_id", [&] {
            return store.get_trunk(org_id, *body.trunk_id);
        });
        if (!trunk) return trunk.error();
        route.trunk = std::move(*trunk);
        route.trunk_field = "trunk_id";
    }
    if (route.number && !route.number->is_active) {
        return make_error(
            Errc::kInvalidRequest,
            fmt::format("number {} is inactive (is_active: false)", route.number->phone_number),
            "number_id");
    }
    if (!body.trunk_id && route.number) {
        if (!route.number->transfer_trunk_id) {
            return make_error(Errc::kInvalidRequest,
                              fmt::format("number {} has no sip trunk (transfer_trunk_id is "
                                          "null): set one with PATCH /numbers/{}, or send "
                                          "trunk_id",
                                          route.number->phone_number, route.number->id),
                              "number_id");
        }
        auto trunk = store.get_trunk(org_id, *route.number->transfer_trunk_id);
        if (!trunk) return trunk.error();
        route.trunk = std::move(*trunk);
        route.trunk_field = "number_id";
    } else if (!body.trunk_id) {
        auto trunks = store.list_trunks(org_id);
        if (!trunks) return trunks.error();
        std::vector<store::SipTrunk> usable;
        for (auto& t : *trunks) {
            if (t.is_active && t.direction != "inbound") usable.push_back(std::move(t));
        }
        if (usable.empty()) {
            return make_error(Errc::kInvalidRequest,
                              "the organization has no active outbound sip trunk: create one "
                              "with direction outbound or both (POST /sip-trunks)",
                              "trunk_id");
        }
        if (usable.size() > 1) {
            return make_error(Errc::kMissingField,
                              fmt::format("trunk_id or number_id is required: the organization "
                                          "has {} active outbound sip trunks",
                                          usable.size()),
                              "trunk_id");
        }
        route.trunk = std::move(usable.front());
        route.trunk_field = "trunk_id";
    }
    if (!route.trunk.is_active) {
        return make_error(
            Errc::kInvalidRequest,
            fmt::format("sip trunk {} is inactive (is_active: false)", route.trunk.id),
            route.trunk_field);
    }
    if (route.trunk.direction == "inbound") {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("sip trunk {} is inbound-only: outbound calls need "
                                      "direction outbound or both",
                                      route.trunk.id),
                          route.trunk_field);
    }
    return route;
}

Response dial_response(Result<std::string> dialed) {
    if (dialed) {
        return Response::json(
            200, json::object{{"success", true}, {"call_id", *dialed}, {"status", "dialing"}});
    }
    auto response = Response::error(dialed.error());
    if (dialed.error().code == Errc::kRateLimited) {
        // Like the API's own 429: the SDK reads retry_after from the body as well as the header.
        response.body.insert(response.body.size() - 1,
                             fmt::format(",\"retry_after\":{}", kDialRetryAfterSeconds));
        response.headers.emplace_back("Retry-After", std::to_string(kDialRetryAfterSeconds));
    }
    return response;
}

Response create_outbound_call(Request& req, ApiContext& ctx) {
    auto json_body = parse_json_object(req.body);
    if (!json_body) return Response::error(json_body.error());
    auto body = read_body(*json_body);
    if (!body) return Response::error(body.error());
    const auto& org_id = req.org_id();

    // The body alone: a transient assistant is checked before anything is looked up.
    std::optional<store::Assistant> assistant;
    if (body->assistant != nullptr) {
        auto transient = transient_assistant(*body->assistant, org_id, ctx.secrets);
        if (!transient) return Response::error(transient.error());
        assistant = std::move(*transient);
    }
    // References (404), then their state (400), then the override merged with its assistant.
    std::optional<store::Assistant> stored;
    if (body->assistant_id) {
        auto found = lookup<store::Assistant>(
            *body->assistant_id, "assistant", body->assistant_field.c_str(),
            [&] { return ctx.store.get_assistant(org_id, *body->assistant_id); });
        if (!found) return Response::error(found.error());
        stored = std::move(*found);
    }
    auto route = resolve_route(*body, org_id, ctx.store);
    if (!route) return Response::error(route.error());
    if (stored) {
        if (!stored->is_active) {
            return Response::error(make_error(
                Errc::kInvalidRequest,
                fmt::format("assistant {} is inactive (is_active: false): activate it with "
                            "PATCH /assistants/{}",
                            stored->id, stored->id),
                body->assistant_field));
        }
        if (body->assistant_override != nullptr) {
            auto merged =
                overridden_assistant(std::move(*stored), *body->assistant_override, ctx.secrets);
            if (!merged) return Response::error(merged.error());
            assistant = std::move(*merged);
        } else {
            assistant = std::move(*stored);
        }
    }

    if (body->recording != nullptr) {
        // This call's recording settings, member by member over the assistant's.
        boost::system::error_code ec;
        auto config = json::parse(assistant->config_json, ec);
        if (!ec && config.is_object()) {
            json::object merged;
            if (const auto* r = config.get_object().if_contains("recording"); r && r->is_object()) {
                merged = r->get_object();
            }
            for (const auto& [key, value] : *body->recording) merged[key] = value;
            config.get_object()["recording"] = std::move(merged);
            assistant->config_json = json::serialize(config);
        }
    }
    if (ctx.live_calls == nullptr) {
        return Response::error(make_error(
            Errc::kUnavailable, "outbound calls need the SIP edge, which is not running"));
    }
    call::OutboundCallRequest request{org_id,
                                      std::move(body->destination),
                                      std::move(route->trunk),
                                      std::move(route->number),
                                      std::move(*assistant),
                                      std::move(body->first_message)};
    return dial_response(ctx.live_calls->dial(std::move(request)));
}

}  // namespace

void add_outbound_call_routes(Router& router, ApiContext& ctx) {
    router.add("POST", "/api/v1/calls/outbound", Auth::kApiKey,
               [&ctx](Request& req) { return create_outbound_call(req, ctx); });
}

}  // namespace tl::api
