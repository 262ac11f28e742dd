// /api/v1/byok: the organization's own provider keys (BYOK, api-contract.md §2 and §4.12) and
// their non-secret settings. A key goes in sealed and never comes out: responses name it only by
// its opaque `secret_id`, which changes whenever the key is replaced. Nothing here logs.
//
// Every handler reads what its response needs BEFORE it writes, so a failure after the write
// cannot turn a committed change into a 5xx that the HMS SDK would retry (api-contract.md §1).

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "api/api_context.hpp"
#include "api/json_reader.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/validation.hpp"
#include "store/byok_keys.hpp"

namespace tl::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxApiKeyChars = 4096;
constexpr std::size_t kMaxConfigPatchBytes = 16 * 1024;
constexpr std::size_t kMaxBaseUrlChars = 2048;

std::string provider_names() {
    std::string names;
    for (const auto& p : store::byok_providers()) {
        names += (names.empty() ? "" : ", ") + std::string(p.id);
    }
    return names;
}

// `provider`: required, one of the catalog. The value is never echoed (it might be a pasted key).
Result<const store::ByokProvider*> read_provider(const ObjectReader& r) {
    if (auto st = r.require("provider"); !st) return st.error();
    auto field = r.string("provider", {.min = 1, .max = 64, .nullable = false});
    if (!field) return field.error();
    const auto* provider = store::find_byok_provider(field->value);
    if (provider == nullptr) {
        return make_error(Errc::kInvalidRequest, "provider must be one of: " + provider_names(),
                          "provider");
    }
    return provider;
}

// `api_key`: required, 1-4096 characters, no control characters, no surrounding whitespace
// (a pasted key with a stray space or newline would only fail later, at the provider).
// Messages never contain the value.
Result<std::string> read_api_key(const ObjectReader& r) {
    if (auto st = r.require("api_key"); !st) return st.error();
    auto field = r.string("api_key", {.min = 1, .max = kMaxApiKeyChars, .nullable = false});
    if (!field) return field.error();
    const auto& key = field->value;
    if (has_control_chars(key)) {
        return make_error(Errc::kInvalidRequest,
                          "api_key must not contain control characters (line breaks, tabs, ...)",
                          "api_key");
    }
    if (std::isspace(static_cast<unsigned char>(key.front())) != 0 ||
        std::isspace(static_cast<unsigned char>(key.back())) != 0) {
        return make_error(Errc::kInvalidRequest, "api_key must not start or end with a space",
                          "api_key");
    }
    return key;
}

// `config`: a JSON object of non-secret settings, merged into the stored ones (RFC 7396).
Result<const json::object*> read_config(const ObjectReader& r) {
    if (auto st = r.require("config"); !st) return st.error();
    auto field = r.object("config", false);
    if (!field) return field.error();
    const json::object& config = *field->value;
    if (json::serialize(config).size() > kMaxConfigPatchBytes) {
        return make_error(
            Errc::kInvalidRequest,
            "config must be at most " + std::to_string(kMaxConfigPatchBytes) + " bytes of JSON",
            "config");
    }
    // Settings are stored in clear and shown back; a key placed here would be neither sealed
    // nor hidden.
    if (config.contains("api_key")) {
        return make_error(Errc::kInvalidRequest,
                          "config.api_key is not accepted: config is stored in clear and returned; "
                          "send the key with POST /api/v1/byok, which seals it",
                          "config.api_key");
    }
    if (const auto* url = config.if_contains("base_url"); url != nullptr && !url->is_null()) {
        const auto* text = url->if_string();
        const std::string_view s = text != nullptr ? std::string_view(*text) : std::string_view();
        const bool ok = text != nullptr && s.size() <= kMaxBaseUrlChars && s.size() > 8 &&
                        (s.starts_with("http://") || s.starts_with("https://")) &&
                        !has_control_chars(s) && s.find(' ') == std::string_view::npos;
        if (!ok) {
            return make_error(Errc::kInvalidRequest,
                              "config.base_url must be an http:// or https:// URL of at most 2048 "
                              "characters, or null",
                              "config.base_url");
        }
    }
    return &config;
}

// `<provider>_secret_id` for every provider, null when it has no key.
json::object byok_keys_json(const std::vector<store::ByokKey>& keys) {
    json::object out;
    for (const auto& p : store::byok_providers()) {
        json::value id = nullptr;
        for (const auto& k : keys) {
            if (k.provider == p.id) id = json::value(k.secret_id);
        }
        out[std::string(p.id) + "_secret_id"] = std::move(id);
    }
    return out;
}

// `{<provider>: {settings}}` for every provider with a key.
json::object byok_config_json(const std::vector<store::ByokKey>& keys) {
    json::object out;
    for (const auto& k : keys) {
        if (store::find_byok_provider(k.provider) == nullptr) continue;
        boost::system::error_code ec;
        auto config = json::parse(k.config_json, ec);
        out[k.provider] =
            ec || !config.is_object() ? json::value(json::object()) : std::move(config);
    }
    return out;
}

std::vector<store::ByokKey>::iterator find_key(std::vector<store::ByokKey>& keys,
                                               std::string_view provider) {
    return std::find_if(keys.begin(), keys.end(),
                        [&](const store::ByokKey& k) { return k.provider == provider; });
}

Response keys_response(const std::vector<store::ByokKey>& keys, bool with_success) {
    json::object body;
    if (with_success) body["success"] = true;
    body["byok_keys"] = byok_keys_json(keys);
    return Response::json(200, body);
}

Response set_key(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    ObjectReader r(*body, "");
    if (auto st = r.only({"provider", "api_key"}); !st) return Response::error(st.error());
    auto provider = read_provider(r);
    if (!provider) return Response::error(provider.error());
    auto api_key = read_api_key(r);
    if (!api_key) return Response::error(api_key.error());

    auto keys = ctx.store.list_byok_keys(req.org_id());
    if (!keys) return store_error(keys.error());
    store::ByokKey key;
    key.org_id = req.org_id();
    key.provider = std::string((*provider)->id);
    key.secret_id = new_uuid();
    key.key_sealed = ctx.secrets.seal(*api_key);
    key.created_at = key.updated_at = now_iso8601();
    if (auto st = ctx.store.upsert_byok_key(key); !st) return store_error(st.error());

    key.key_sealed.clear();
    if (auto it = find_key(*keys, key.provider); it != keys->end()) {
        it->secret_id = key.secret_id;
    } else {
        keys->push_back(std::move(key));
    }
    return keys_response(*keys, true);
}

Response delete_key(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    ObjectReader r(*body, "");
    if (auto st = r.only({"provider"}); !st) return Response::error(st.error());
    auto provider = read_provider(r);
    if (!provider) return Response::error(provider.error());

    auto keys = ctx.store.list_byok_keys(req.org_id());
    if (!keys) return store_error(keys.error());
    const std::string id((*provider)->id);
    if (auto st = ctx.store.delete_byok_key(req.org_id(), id); !st) {
        return store_error(st.error());
    }
    if (auto it = find_key(*keys, id); it != keys->end()) keys->erase(it);
    return keys_response(*keys, true);
}

Response set_config(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    ObjectReader r(*body, "");
    if (auto st = r.only({"provider", "config"}); !st) return Response::error(st.error());
    auto provider = read_provider(r);
    if (!provider) return Response::error(provider.error());
    auto config = read_config(r);
    if (!config) return Response::error(config.error());

    auto keys = ctx.store.list_byok_keys(req.org_id());
    if (!keys) return store_error(keys.error());
    const std::string id((*provider)->id);
    // The settings belong to a stored key (api-contract.md §2: "key must already exist").
    auto it = find_key(*keys, id);
    if (it == keys->end()) {
        return Response::error(make_error(
            Errc::kNotFound,
            "no BYOK key is stored for provider " + id + "; store one with POST /api/v1/byok first",
            "provider"));
    }
    auto updated =
        ctx.store.update_byok_config(req.org_id(), id, json::serialize(**config), now_iso8601());
    if (!updated) return store_error(updated.error());
    it->config_json = updated->config_json;
    return Response::json(200, json::object{{"byok_config", byok_config_json(*keys)}});
}

// The provider catalog of the older HMS docs (`providers`), plus whether each is configured and
// the organization's stored settings (`byok_config`), so they can be read back.
Response get_config(Request& req, ApiContext& ctx) {
    auto keys = ctx.store.list_byok_keys(req.org_id());
    if (!keys) return store_error(keys.error());
    json::array providers;
    for (const auto& p : store::byok_providers()) {
        json::array models;
        for (const auto& m : p.models) {
            models.push_back(
                json::object{{"id", m.id}, {"name", m.name}, {"default", m.is_default}});
        }
        providers.push_back(json::object{
            {"id", p.id},
            {"name", p.name},
            {"category", p.category},
            {"docsUrl", p.docs_url.empty() ? json::value(nullptr) : json::value(p.docs_url)},
            {"models", std::move(models)},
            {"configured", find_key(*keys, p.id) != keys->end()},
        });
    }
    return Response::json(200, json::object{{"providers", std::move(providers)},
                                            {"byok_config", byok_config_json(*keys)}});
}

}  // namespace

void add_byok_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/byok", Auth::kApiKey, [&ctx](Request& req) {
        auto keys = ctx.store.list_byok_keys(req.org_id());
        if (!keys) return store_error(keys.error());
        return keys_response(*keys, false);
    });
    router.add("POST", "/api/v1/byok", Auth::kApiKey,
               [&ctx](Request& req) { return set_key(req, ctx); });
    router.add("DELETE", "/api/v1/byok", Auth::kApiKey,
               [&ctx](Request& req) { return delete_key(req, ctx); });
    router.add("GET", "/api/v1/byok/config", Auth::kApiKey,
               [&ctx](Request& req) { return get_config(req, ctx); });
    router.add("POST", "/api/v1/byok/config", Auth::kApiKey,
               [&ctx](Request& req) { return set_config(req, ctx); });
}

}  // namespace tl::api
