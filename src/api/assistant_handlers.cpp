// /api/v1/assistants: create, read, update (partial), delete (which unassigns its numbers).
// Create, update and read of one assistant answer `{"assistant": {...}, "warnings": [...]}`: what
// a call with it would lack (assistant_providers.hpp), computed from the keys held right now.

#include "api/api_context.hpp"
#include "api/assistant_document.hpp"
#include "api/assistant_providers.hpp"
#include "api/assistant_vocabulary.hpp"
#include "api/json_reader.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <set>

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

// The warnings of an assistant document of `org_id`. A key counts when the organization stored
// one (BYOK) or the server's environment has TRUNKLINE_<PROVIDER>_API_KEY, exactly where a call
// looks (call/voice_providers.cpp); the BYOK store is read only when a provider needs a key.
Result<json::array> warnings_of(const json::object& document,
                                const std::string& org_id,
                                ApiContext& ctx) {
    std::set<std::string, std::less<>> stored;
    if (!providers_needing_keys(document).empty()) {
        auto keys = ctx.store.list_byok_keys(org_id);
        if (!keys) return keys.error();
        for (auto& key : *keys) stored.insert(std::move(key.provider));
    }
    const auto has_key = [&stored](std::string_view provider) {
        if (stored.contains(provider)) return true;
        const char* env = std::getenv(provider_key_env_var(provider).c_str());
        return env != nullptr && *env != '\0';
    };
    json::array out;
    for (auto& warning : provider_warnings(document, has_key)) out.emplace_back(std::move(warning));
    for (auto& warning : vocabulary_warnings(document)) out.emplace_back(std::move(warning));
    return out;
}

// `{"assistant": {..., "warnings": [...]}, "warnings": [...]}`: the envelope of one assistant.
// The warnings are inside the assistant (where clients read its fields) and beside it (where
// earlier clients read them).
Response assistant_response(int status, const store::Assistant& a, json::array warnings) {
    json::object assistant = assistant_json(a);
    assistant["warnings"] = warnings;
    return Response::json(status, json::object{{"assistant", std::move(assistant)},
                                               {"warnings", std::move(warnings)}});
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
    // Before the write: a failure after it would be a 5xx that clients answer with a retry.
    auto warnings = warnings_of(*doc, req.org_id(), ctx);
    if (!warnings) return store_error(warnings.error());
    store::Assistant a;
    a.id = new_uuid();
    a.org_id = req.org_id();
    a.created_at = a.updated_at = now_iso8601();
    apply_document(a, std::move(*doc));
    if (auto st = ctx.store.create_assistant(a); !st) return store_error(st.error());
    return assistant_response(201, a, std::move(*warnings));
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
    auto warnings = warnings_of(*doc, req.org_id(), ctx);
    if (!warnings) return store_error(warnings.error());
    apply_document(*a, std::move(*doc));
    a->updated_at = now_iso8601();
    if (auto st = ctx.store.update_assistant(*a); !st) return store_error(st.error());
    return assistant_response(200, *a, std::move(*warnings));
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
        auto warnings = warnings_of(parse_document(a->config_json), req.org_id(), ctx);
        if (!warnings) return store_error(warnings.error());
        return assistant_response(200, *a, std::move(*warnings));
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
