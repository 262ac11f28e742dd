// /api/v1/numbers (seed page 002): E.164 numbers, each with an optional assistant and transfer
// trunk. `agent_id` is accepted and returned as an alias of `assistant_id` (the HMS SDK uses it).

#include "api/api_context.hpp"
#include "api/json_reader.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/validation.hpp"

#include <boost/json.hpp>

namespace tl::api {
namespace {

namespace json = boost::json;

json::value opt(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object number_json(const store::PhoneNumber& n, json::storage_ptr sp = {}) {
    json::object o(std::move(sp));
    o["id"] = n.id;
    o["phone_number"] = n.phone_number;
    o["name"] = opt(n.name);
    o["assistant_id"] = opt(n.assistant_id);
    o["agent_id"] = opt(n.assistant_id);
    o["transfer_trunk_id"] = opt(n.transfer_trunk_id);
    o["is_active"] = n.is_active;
    o["created_at"] = n.created_at;
    o["updated_at"] = n.updated_at;
    return o;
}

// A nullable UUID reference; a malformed id is reported like an unknown one.
Status apply_reference(const ObjectReader& r,
                       std::string_view key,
                       std::optional<std::string>& target) {
    auto f = r.string(key, {.min = 1, .max = 64});
    if (!f) return f.error();
    if (!f->present) return {};
    if (f->null) {
        target.reset();
        return {};
    }
    if (!is_uuid(f->value)) {
        return make_error(Errc::kInvalidRequest,
                          std::string(key) + " does not name an existing object of your "
                                             "organization",
                          std::string(key));
    }
    target = f->value;
    return {};
}

Status apply_number_fields(const json::object& body, store::PhoneNumber& number) {
    ObjectReader r(body, "");
    if (auto st = r.reject_read_only({"id", "created_at", "updated_at"}); !st) return st;
    if (auto st = r.only({"phone_number", "name", "assistant_id", "agent_id", "transfer_trunk_id",
                          "is_active"});
        !st) {
        return st;
    }
    auto phone = r.string("phone_number", {.min = 0, .max = 64, .nullable = false});
    if (!phone || (phone->present && !is_e164(phone->value))) {
        return make_error(Errc::kInvalidPhoneNumber,
                          "phone_number must be E.164, e.g. +31850835037", "phone_number");
    }
    if (phone->present) number.phone_number = phone->value;
    auto name = r.string("name", {.min = 1, .max = 255});
    if (!name) return name.error();
    if (name->present) number.name = name->null ? std::nullopt : std::optional(name->value);
    if (r.contains("assistant_id") && r.contains("agent_id")) {
        const auto* a = r.find("assistant_id");
        const auto* b = r.find("agent_id");
        if (*a != *b) {
            return make_error(Errc::kInvalidRequest,
                              "assistant_id and agent_id are aliases and must not differ",
                              "agent_id");
        }
    }
    if (auto st = apply_reference(r, "assistant_id", number.assistant_id); !st) return st;
    if (auto st = apply_reference(r, "agent_id", number.assistant_id); !st) return st;
    if (auto st = apply_reference(r, "transfer_trunk_id", number.transfer_trunk_id); !st) {
        return st;
    }
    auto active = r.boolean("is_active", false);
    if (!active) return active.error();
    if (active->present) number.is_active = active->value;
    return {};
}

Response create_number(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    ObjectReader r(*body, "");
    store::PhoneNumber number;
    if (auto st = apply_number_fields(*body, number); !st) return Response::error(st.error());
    if (auto st = r.require("phone_number"); !st) return Response::error(st.error());
    number.id = new_uuid();
    number.org_id = req.org_id();
    number.created_at = number.updated_at = now_iso8601();
    if (auto st = ctx.store.create_number(number); !st) return store_error(st.error());
    return Response::json(201, json::object{{"number", number_json(number)}});
}

Response update_number(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "phone number"); !st) return store_error(st.error());
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    auto number = ctx.store.get_number(req.org_id(), id);
    if (!number) return store_error(number.error());
    if (auto st = apply_number_fields(*body, *number); !st) return Response::error(st.error());
    number->updated_at = now_iso8601();
    if (auto st = ctx.store.update_number(*number); !st) return store_error(st.error());
    return Response::json(200, json::object{{"number", number_json(*number)}});
}

}  // namespace

void add_number_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/numbers", Auth::kApiKey, [&ctx](Request& req) {
        const auto& org = req.identity->organization;
        return ctx.list_cache.get(req, org.id + "/numbers", org.revision, [&] {
            auto numbers = ctx.store.list_numbers(req.org_id());
            if (!numbers) return store_error(numbers.error());
            // One arena for the whole response: a list of objects is otherwise malloc-bound.
            json::monotonic_resource arena;
            json::array list(&arena);
            list.reserve(numbers->size());
            for (const auto& n : *numbers) list.push_back(number_json(n, &arena));
            return Response::json(200, json::object({{"numbers", std::move(list)}}, &arena));
        });
    });
    router.add("POST", "/api/v1/numbers", Auth::kApiKey,
               [&ctx](Request& req) { return create_number(req, ctx); });
    router.add("GET", "/api/v1/numbers/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "phone number"); !st) return store_error(st.error());
        auto number = ctx.store.get_number(req.org_id(), id);
        if (!number) return store_error(number.error());
        return Response::json(200, json::object{{"number", number_json(*number)}});
    });
    router.add("PATCH", "/api/v1/numbers/{id}", Auth::kApiKey,
               [&ctx](Request& req) { return update_number(req, ctx); });
    router.add("DELETE", "/api/v1/numbers/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "phone number"); !st) return store_error(st.error());
        if (auto st = ctx.store.delete_number(req.org_id(), id); !st) {
            return store_error(st.error());
        }
        return Response::json(200, json::object{{"success", true}});
    });
}

}  // namespace tl::api
