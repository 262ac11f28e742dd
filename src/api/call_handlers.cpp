// /api/v1/calls: history with filters and pagination, one call, and call control
// (api-contract.md §4.2, §4.5). Live calls arrive with the SIP issue; until then every valid
// command on an existing call that is not in progress answers call_not_active.

#include "api/api_context.hpp"
#include "api/json_reader.hpp"
#include "common/clock.hpp"
#include "common/validation.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace tl::api {
namespace {

// send-dtmf: what one command may queue (the RFC 4733 sender holds 32 digits).
constexpr std::size_t kMaxDtmfDigits = 32;

namespace json = boost::json;

json::value opt(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

// `recordings` null: this server records nothing, so no call has a recording_url.
json::object call_json(const store::Call& c, const recording::RecordingFiles* recordings) {
    json::object o;
    o["id"] = c.id;
    o["direction"] = c.direction;
    o["status"] = c.status;
    o["caller_phone"] = opt(c.caller_phone);
    o["assistant_phone"] = opt(c.assistant_phone);
    o["assistant_id"] = opt(c.assistant_id);
    o["agent_id"] = opt(c.assistant_id);
    o["number_id"] = opt(c.number_id);
    o["trunk_id"] = opt(c.trunk_id);
    o["end_reason"] = opt(c.end_reason);
    o["error"] = opt(c.error);
    o["sip_status"] = c.sip_status ? json::value(*c.sip_status) : json::value(nullptr);
    // The same status under the name the transfer object uses; null when no SIP status came
    // from the network (or, for a refused inbound call, the status we answered with).
    o["sip_code"] = o["sip_status"];
    o["hint"] = opt(c.hint);
    o["started_at"] = opt(c.started_at);
    o["ended_at"] = opt(c.ended_at);
    o["duration_seconds"] =
        c.duration_seconds ? json::value(*c.duration_seconds) : json::value(nullptr);
    boost::system::error_code ec;
    auto messages = json::parse(c.messages_json, ec);
    o["messages"] = ec ? json::value(json::array()) : std::move(messages);
    o["sip_call_id"] = opt(c.sip_call_id);
    json::value transfer = nullptr;
    if (c.transfer_json) {
        boost::system::error_code tec;
        transfer = json::parse(*c.transfer_json, tec);
        if (tec) transfer = nullptr;
    }
    o["transfer"] = std::move(transfer);
    const bool recorded =
        recordings != nullptr && recordings->exists(c.org_id, c.id, recording::Format::kWav);
    o["recording_url"] = recorded ? json::value(fmt::format("/api/v1/calls/{}/recording", c.id))
                                  : json::value(nullptr);
    o["created_at"] = c.created_at;
    o["updated_at"] = c.updated_at;
    return o;
}

Result<std::optional<std::string>> date_param(const Request& req, const std::string& name) {
    const auto it = req.query.find(name);
    if (it == req.query.end()) return std::optional<std::string>{};
    const auto parsed = parse_iso8601(it->second);
    if (!parsed) {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("{} must be an ISO-8601 date or time, e.g. "
                                      "2025-12-13 or 2025-12-13T10:00:00Z",
                                      name),
                          name);
    }
    return std::optional(format_iso8601(*parsed));
}

Response list_calls(Request& req, ApiContext& ctx) {
    for (const auto& [key, value] : req.query) {
        if (key != "limit" && key != "offset" && key != "status" && key != "start_date" &&
            key != "end_date") {
            return Response::error(make_error(
                Errc::kUnknownField, fmt::format("unknown query parameter '{}'", key), key));
        }
    }
    store::CallFilter filter;
    auto limit = query_int(req, "limit", 100, 1, 1000);
    if (!limit) return Response::error(limit.error());
    auto offset = query_int(req, "offset", 0, 0, 1'000'000'000);
    if (!offset) return Response::error(offset.error());
    filter.limit = *limit;
    filter.offset = *offset;
    if (const auto it = req.query.find("status"); it != req.query.end()) {
        static constexpr std::string_view kStatuses[] = {"connecting", "ringing", "in-progress",
                                                         "ended", "failed"};
        if (std::find(std::begin(kStatuses), std::end(kStatuses), it->second) ==
            std::end(kStatuses)) {
            return Response::error(make_error(
                Errc::kInvalidRequest,
                "status must be one of: connecting, ringing, in-progress, ended, failed",
                "status"));
        }
        filter.status = it->second;
    }
    auto start = date_param(req, "start_date");
    if (!start) return Response::error(start.error());
    auto end = date_param(req, "end_date");
    if (!end) return Response::error(end.error());
    // A bare end date means "that whole day".
    if (*end && req.query.at("end_date").size() == 10) {
        *end = format_iso8601(*parse_iso8601(**end) + std::chrono::hours(24) -
                              std::chrono::milliseconds(1));
    }
    if (*start && *end && **start > **end) {
        return Response::error(make_error(Errc::kInvalidRequest,
                                          "start_date must not be after end_date", "start_date"));
    }
    filter.start_date = *start;
    filter.end_date = *end;
    auto page = ctx.store.list_calls(req.org_id(), filter);
    if (!page) return store_error(page.error());
    json::array calls;
    for (const auto& c : page->calls) calls.push_back(call_json(c, ctx.recordings));
    json::object pagination{{"total", page->total}, {"limit", filter.limit},
                            {"offset", filter.offset}};
    return Response::json(
        200, json::object{{"calls", std::move(calls)}, {"pagination", std::move(pagination)}});
}

// Validates a control command's body by type (api-contract.md §4.5).
Status check_command(const json::object& body) {
    ObjectReader r(body, "");
    auto type = r.string("type", {.min = 1, .max = 32, .nullable = false});
    if (!type) return type.error();
    if (!type->present) return make_error(Errc::kMissingField, "type is required", "type");
    const auto& t = type->value;
    if (t == "say") {
        if (auto st = r.only({"type", "content", "end_after"}); !st) return st;
        if (auto st = r.require("content"); !st) return st;
        auto content = r.string("content", {.min = 1, .max = 4096, .nullable = false});
        if (!content) return content.error();
        if (auto st = r.require("end_after"); !st) return st;
        if (auto end_after = r.boolean("end_after", false); !end_after) return end_after.error();
    } else if (t == "inject-context") {
        if (auto st = r.only({"type", "content", "trigger_response"}); !st) return st;
        if (auto st = r.require("content"); !st) return st;
        auto content = r.string("content", {.min = 1, .max = 16384, .nullable = false});
        if (!content) return content.error();
        if (auto st = r.require("trigger_response"); !st) return st;
        if (auto trigger = r.boolean("trigger_response", false); !trigger) return trigger.error();
    } else if (t == "end-call") {
        if (auto st = r.only({"type", "message"}); !st) return st;
        if (auto m = r.string("message", {.min = 0, .max = 4096}); !m) return m.error();
    } else if (t == "transfer") {
        if (auto st = r.only({"type", "destination", "message"}); !st) return st;
        if (auto st = r.require("destination"); !st) return st;
        auto destination = r.string("destination", {.min = 1, .max = 1024, .nullable = false});
        if (!destination || !is_transfer_destination(destination->value)) {
            return make_error(Errc::kInvalidRequest,
                              "destination must be an E.164 number (+31612345678), a sip:/sips: "
                              "URI or a tel: URI",
                              "destination");
        }
        if (auto m = r.string("message", {.min = 0, .max = 4096}); !m) return m.error();
    } else if (t == "send-dtmf") {
        if (auto st = r.only({"type", "digits"}); !st) return st;
        if (auto st = r.require("digits"); !st) return st;
        auto digits = r.string("digits", {.min = 1, .max = kMaxDtmfDigits, .nullable = false});
        if (!digits) return digits.error();
        if (digits->value.find_first_not_of("0123456789*#ABCDabcd") != std::string::npos) {
            return make_error(Errc::kInvalidRequest,
                              "digits may hold only 0-9, *, # and A-D", "digits");
        }
    } else {
        return make_error(Errc::kInvalidRequest,
                          "type must be one of: say, inject-context, end-call, transfer, "
                          "send-dtmf",
                          "type");
    }
    return {};
}

Response control_call(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "call"); !st) return store_error(st.error());
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    if (auto st = check_command(*body); !st) return Response::error(st.error());
    auto call = ctx.store.get_call(req.org_id(), id);
    if (!call) return store_error(call.error());
    const auto decision = ctx.control_limiter.check(id);
    if (!decision.allowed) {
        auto response = Response::error(make_error(
            Errc::kRateLimited, fmt::format("at most {} control commands per minute per call",
                                            decision.limit)));
        response.headers.emplace_back("Retry-After",
                                      std::to_string(decision.retry_after_seconds));
        return response;
    }
    // An outbound call still ringing may be cancelled (end-call); nothing else acts on it yet.
    const bool ringing_outbound = call->direction == "outbound" &&
                                  (call->status == "queued" || call->status == "dialing" ||
                                   call->status == "ringing");
    if (call->status != "in-progress" &&
        !(ringing_outbound && body->at("type").as_string() == "end-call")) {
        return Response::error(make_error(
            Errc::kCallNotActive,
            fmt::format("call {} is not in progress (status: {})", call->id, call->status)));
    }
    const auto& type = body->at("type").as_string();
    Status sent = make_error(Errc::kNotFound, "call is not live on this node");
    if (ctx.live_calls != nullptr) {
        if (type == "end-call") {
            const auto* message = body->if_contains("message");
            sent = ctx.live_calls->end_call(
                req.org_id(), id,
                message && message->is_string() ? std::string(message->as_string()) : "");
        } else if (type == "transfer") {
            const auto* message = body->if_contains("message");
            sent = ctx.live_calls->transfer(
                req.org_id(), id, std::string(body->at("destination").as_string()),
                message && message->is_string() ? std::string(message->as_string()) : "");
        } else if (type == "send-dtmf") {
            sent = ctx.live_calls->send_dtmf(req.org_id(), id,
                                             std::string(body->at("digits").as_string()));
        } else if (type == "say") {
            sent = ctx.live_calls->say(req.org_id(), id,
                                       std::string(body->at("content").as_string()),
                                       body->at("end_after").as_bool());
        } else {  // inject-context
            sent = ctx.live_calls->inject_context(req.org_id(), id,
                                                  std::string(body->at("content").as_string()),
                                                  body->at("trigger_response").as_bool());
        }
    }
    if (!sent) {
        // In progress in the store but not live here: the process that held it is gone.
        return Response::error(make_error(
            Errc::kCallNotActive, fmt::format("call {} is not active on this node", call->id)));
    }
    return Response::json(200, json::object{{"success", true},
                                            {"message", "Command sent successfully"}});
}

}  // namespace

void add_test_hook_routes(Router& router, ApiContext& ctx) {
    router.add("POST", "/api/v1/calls/{id}/test-hooks/end-call-tool", Auth::kApiKey,
               [&ctx](Request& req) {
                   if (ctx.live_calls == nullptr ||
                       !ctx.live_calls->end_call_tool(req.org_id(), req.path_params.at(0))) {
                       return Response::error(make_error(Errc::kCallNotActive,
                                                         "call is not active on this node"));
                   }
                   return Response::json(200, json::object{{"success", true}});
               });
    router.add("POST", "/api/v1/calls/{id}/test-hooks/transfer-call-tool", Auth::kApiKey,
               [&ctx](Request& req) {
                   const auto& id = req.path_params.at(0);
                   auto body = parse_json_object(req.body);
                   if (!body) return Response::error(body.error());
                   ObjectReader r(*body, "");
                   if (auto st = r.only({"index"}); !st) return Response::error(st.error());
                   auto index = r.integer("index", 0, 49, false);
                   if (!index) return Response::error(index.error());
                   if (ctx.live_calls == nullptr) {
                       return Response::error(make_error(Errc::kCallNotActive, "no live calls"));
                   }
                   if (auto st = ctx.live_calls->transfer_to_tool_destination(
                           req.org_id(), id, static_cast<std::size_t>(index->value));
                       !st) {
                       return Response::error(make_error(Errc::kCallNotActive,
                                                         "call is not active on this node"));
                   }
                   return Response::json(200, json::object{{"success", true}});
               });
}

void add_call_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/calls", Auth::kApiKey,
               [&ctx](Request& req) { return list_calls(req, ctx); });
    router.add("GET", "/api/v1/calls/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "call"); !st) return store_error(st.error());
        auto call = ctx.store.get_call(req.org_id(), id);
        if (!call) return store_error(call.error());
        auto out = call_json(*call, ctx.recordings);
        // The call's timeline (SIP requests and responses, DTMF, what the assistant said).
        auto events = ctx.store.list_call_events(id);
        if (!events) return store_error(events.error());
        json::array list;
        for (const auto& e : *events) {
            boost::system::error_code ec;
            auto data = json::parse(e.data_json, ec);
            list.push_back(json::object{{"type", e.type},
                                        {"data", ec ? json::value(json::object()) : std::move(data)},
                                        {"created_at", e.created_at}});
        }
        out["events"] = std::move(list);
        return Response::json(200, out);
    });
    router.add("POST", "/api/v1/calls/{id}/control", Auth::kApiKey,
               [&ctx](Request& req) { return control_call(req, ctx); });
}

}  // namespace tl::api
