// /api/v1/assistants: create, read, update (partial), delete (which unassigns its numbers).

#include "api/api_context.hpp"
#include "api/assistant_document.hpp"
#include "api/json_reader.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"

#include <boost/json.hpp>

namespace tl::api {
namespace {

namespace json = boost::json;

json::object parse_document(const std::string& text) {
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec || !value.is_object()) return {};
    return std::move(value.get_object());
}

json::object assistant_json(const store::Assistant& a) {
    auto doc = parse_document(a.config_json);
    doc["name"] = a.name;
    doc["is_active"] = a.is_active;
    json::object o;
    o["id"] = a.id;
    for (auto& [key, value] : assistant_view(doc)) o[key] = value;
    o["created_at"] = a.created_at;
    o["updated_at"] = a.updated_at;
    return o;
}

// Copies the queryable columns out of the document.
void apply_document(store::Assistant& a, json::object doc) {
    if (const auto* name = doc.if_contains("name"); name && name->is_string()) {
        a.name = std::string(name->get_string());
    }
    if (const auto* active = doc.if_contains("is_active"); active && active->is_bool()) {
        a.is_active = active->get_bool();
    }
    doc.erase("name");
    doc.erase("is_active");
    a.config_json = json::serialize(doc);
}

Response create_assistant(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    auto doc = merge_assistant_document(*body, {}, true, ctx.secrets);
    if (!doc) return Response::error(doc.error());
    store::Assistant a;
    a.id = new_uuid();
    a.org_id = req.org_id();
    a.created_at = a.updated_at = now_iso8601();
    apply_document(a, std::move(*doc));
    if (auto st = ctx.store.create_assistant(a); !st) return store_error(st.error());
    return Response::json(201, json::object{{"assistant", assistant_json(a)}});
}

Response update_assistant(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "assistant"); !st) return store_error(st.error());
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    auto a = ctx.store.get_assistant(req.org_id(), id);
    if (!a) return store_error(a.error());
    auto previous = parse_document(a->config_json);
    previous["name"] = a->name;
    previous["is_active"] = a->is_active;
    auto doc = merge_assistant_document(*body, previous, false, ctx.secrets);
    if (!doc) return Response::error(doc.error());
    apply_document(*a, std::move(*doc));
    a->updated_at = now_iso8601();
    if (auto st = ctx.store.update_assistant(*a); !st) return store_error(st.error());
    return Response::json(200, json::object{{"assistant", assistant_json(*a)}});
}

}  // namespace

void add_assistant_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/assistants", Auth::kApiKey, [&ctx](Request& req) {
        const auto& org = req.identity->organization;
        return ctx.list_cache.get(req, org.id + "/assistants", org.revision, [&] {
            auto assistants = ctx.store.list_assistants(req.org_id());
            if (!assistants) return store_error(assistants.error());
            json::array list;
            for (const auto& a : *assistants) list.push_back(assistant_json(a));
            return Response::json(200, json::object{{"assistants", std::move(list)}});
        });
    });
    router.add("POST", "/api/v1/assistants", Auth::kApiKey,
               [&ctx](Request& req) { return create_assistant(req, ctx); });
    router.add("GET", "/api/v1/assistants/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "assistant"); !st) return store_error(st.error());
        auto a = ctx.store.get_assistant(req.org_id(), id);
        if (!a) return store_error(a.error());
        return Response::json(200, json::object{{"assistant", assistant_json(*a)}});
    });
    router.add("PATCH", "/api/v1/assistants/{id}", Auth::kApiKey,
               [&ctx](Request& req) { return update_assistant(req, ctx); });
    router.add("DELETE", "/api/v1/assistants/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "assistant"); !st) return store_error(st.error());
        if (auto st = ctx.store.delete_assistant(req.org_id(), id); !st) {
            return store_error(st.error());
        }
        return Response::json(200, json::object{{"success", true}});
    });
}

}  // namespace tl::api
