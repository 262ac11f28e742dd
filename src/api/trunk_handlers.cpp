// /api/v1/sip-trunks: the HMS trunk fields (seed pages 000/001) plus the OpenCX inbound/outbound
// extensions of api-contract.md Part 1.

#include "api/api_context.hpp"
#include "api/json_reader.hpp"
#include "api/trunk_test_report.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/validation.hpp"
#include "sip/sip_resolver.hpp"
#include "sip/trunk_metrics.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace tl::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxListItems = 100;

bool one_of(const std::string& value, std::initializer_list<std::string_view> allowed) {
    for (const auto a : allowed) {
        if (value == a) return true;
    }
    return false;
}

Status read_enum(const ObjectReader& r,
                 std::string_view key,
                 std::initializer_list<std::string_view> allowed,
                 std::string& out) {
    auto f = r.string(key, {.min = 1, .max = 32, .nullable = false});
    if (!f) return f.error();
    if (!f->present) return {};
    if (!one_of(f->value, allowed)) {
        std::string list;
        for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        const auto name = r.path(key);
        return make_error(Errc::kInvalidRequest, fmt::format("{} must be one of: {}", name, list),
                          name);
    }
    out = f->value;
    return {};
}

json::value opt(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

// The user part of a SIP URI (RFC 3261 §25.1): unreserved, user-unreserved or %HH escaped
// characters, so that it can be put in the From header as it is.
bool is_sip_user(std::string_view text) {
    if (text.empty()) return false;
    constexpr std::string_view kMarks = "-_.!~*'()&=+$,;?/";
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || kMarks.find(c) != std::string_view::npos) continue;
        if (c == '%' && i + 2 < text.size() &&
            std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

// The outbound-call fields of issue 7: From user part, digest username, P-Asserted-Identity and
// pacing. Absent fields keep their value; null restores the default.
Status apply_outbound_fields(const ObjectReader& r, store::SipTrunk& trunk) {
    auto from_user = r.string("from_user", {.min = 1, .max = 64});
    if (!from_user) return from_user.error();
    if (from_user->present) {
        if (from_user->has_value() && !is_sip_user(from_user->value)) {
            return make_error(Errc::kInvalidRequest,
                              "from_user must be the user part of a SIP URI: letters, digits, "
                              "-_.!~*'()&=+$,;?/ or %HH escapes",
                              "from_user");
        }
        trunk.from_user = from_user->null ? std::nullopt : std::optional(from_user->value);
    }
    auto auth_username = r.string("auth_username", {.min = 1, .max = 255});
    if (!auth_username) return auth_username.error();
    if (auth_username->present) {
        if (auth_username->has_value() && has_control_chars(auth_username->value)) {
            return make_error(Errc::kInvalidRequest,
                              "auth_username must not contain control characters", "auth_username");
        }
        trunk.auth_username =
            auth_username->null ? std::nullopt : std::optional(auth_username->value);
    }
    auto send_pai = r.boolean("send_pai", false);
    if (!send_pai) return send_pai.error();
    if (send_pai->present) trunk.send_pai = send_pai->value;
    auto max_calls = r.integer("max_concurrent_calls", 1, 10000);
    if (!max_calls) return max_calls.error();
    if (max_calls->present) {
        trunk.max_concurrent_calls =
            max_calls->null ? std::nullopt : std::optional(static_cast<int>(max_calls->value));
    }
    auto cps = r.number("max_calls_per_second", 0.1, 1000);
    if (!cps) return cps.error();
    if (cps->present) {
        trunk.max_calls_per_second = cps->null ? std::nullopt : std::optional(cps->value);
    }
    auto ping = r.integer("options_ping_seconds", 5, 3600);
    if (!ping) return ping.error();
    if (ping->present) {
        trunk.options_ping_seconds =
            ping->null ? std::nullopt : std::optional(static_cast<int>(ping->value));
        if (!trunk.options_ping_seconds) {
            trunk.status = "unknown";  // no keep-alive: no verdict
            trunk.status_checked_at.reset();
        }
    }
    return {};
}

// Applies the body's fields onto `trunk` (create starts from defaults, PATCH from the stored row)
// and returns the new plaintext password when one was given.
Result<std::optional<std::string>> apply_trunk_fields(const json::object& body,
                                                      store::SipTrunk& trunk,
                                                      bool& password_cleared) {
    ObjectReader r(body, "");
    if (auto st = r.reject_read_only({"id", "created_at", "updated_at", "inbound_username",
                                      "inbound_password", "sip_endpoint", "has_password",
                                      "status", "status_checked_at", "warnings"});
        !st) {
        return st.error();
    }
    if (auto st = r.only({"name", "host", "port", "username", "password", "direction",
                          "transport", "auth_type", "caller_id", "allowed_addresses", "numbers",
                          "transfer_method", "headers", "is_active", "country_code", "from_user",
                          "auth_username", "send_pai", "max_concurrent_calls",
                          "max_calls_per_second", "refer_uri", "options_ping_seconds"});
        !st) {
        return st.error();
    }
    auto name = r.string("name", {.min = 1, .max = 255, .nullable = false});
    if (!name) return name.error();
    if (name->present) trunk.name = name->value;

    auto host = r.string("host", {.min = 1, .max = 253, .nullable = false});
    if (!host) return host.error();
    if (host->present) {
        if (!is_host(host->value)) {
            return make_error(Errc::kInvalidRequest,
                              "host must be a host name, an IPv4 address or an IPv6 address "
                              "(no scheme, no port)",
                              "host");
        }
        trunk.host = host->value;
    }
    auto port = r.integer("port", 1, 65535, false);
    if (!port) return port.error();
    if (port->present) trunk.port = static_cast<int>(port->value);

    auto username = r.string("username", {.min = 1, .max = 255});
    if (!username) return username.error();
    if (username->present) {
        if (username->has_value() && has_control_chars(username->value)) {
            return make_error(Errc::kInvalidRequest, "username must not contain control characters",
                              "username");
        }
        trunk.username = username->null ? std::nullopt : std::optional(username->value);
    }
    auto password = r.string("password", {.min = 1, .max = 255});
    if (!password) return password.error();
    std::optional<std::string> new_password;
    if (password->present) {
        if (password->null) {
            password_cleared = true;
            trunk.password_sealed.reset();
        } else {
            new_password = password->value;
        }
    }
    if (auto st = read_enum(r, "direction", {"outbound", "inbound", "both"}, trunk.direction); !st) {
        return st.error();
    }
    if (auto st = read_enum(r, "transport", {"udp", "tcp", "tls"}, trunk.transport); !st) {
        return st.error();
    }
    if (auto st = read_enum(r, "auth_type", {"digest", "ip"}, trunk.auth_type); !st) {
        return st.error();
    }
    if (auto st = read_enum(r, "transfer_method", {"bridge", "refer", "auto"},
                            trunk.transfer_method);
        !st) {
        return st.error();
    }
    if (auto st = read_enum(r, "refer_uri", {"sip", "tel"}, trunk.refer_uri); !st) {
        return st.error();
    }
    auto caller_id = r.string("caller_id", {.min = 1, .max = 16});
    if (!caller_id) {
        return make_error(Errc::kInvalidPhoneNumber,
                          "caller_id must be E.164, e.g. +31850835037", "caller_id");
    }
    if (caller_id->present) {
        if (caller_id->has_value() && !is_e164(caller_id->value)) {
            return make_error(Errc::kInvalidPhoneNumber,
                              "caller_id must be E.164, e.g. +31850835037", "caller_id");
        }
        trunk.caller_id = caller_id->null ? std::nullopt : std::optional(caller_id->value);
    }
    auto addresses = r.string_array("allowed_addresses", kMaxListItems, {.min = 1, .max = 64});
    if (!addresses) return addresses.error();
    if (addresses->present) {
        for (std::size_t i = 0; i < addresses->value.size(); ++i) {
            if (!is_cidr(addresses->value[i])) {
                const auto field = index_path("allowed_addresses", i);
                return make_error(Errc::kInvalidRequest,
                                  fmt::format("{} must be an IPv4/IPv6 address or CIDR such as "
                                              "203.0.113.0/24",
                                              field),
                                  field);
            }
        }
        trunk.allowed_addresses = addresses->value;
    }
    auto numbers = r.string_array("numbers", kMaxListItems * 10, {.min = 1, .max = 16});
    if (!numbers) return numbers.error();
    if (numbers->present) {
        for (std::size_t i = 0; i < numbers->value.size(); ++i) {
            if (!is_e164(numbers->value[i])) {
                const auto field = index_path("numbers", i);
                return make_error(Errc::kInvalidPhoneNumber,
                                  fmt::format("{} must be E.164, e.g. +31850835037", field), field);
            }
        }
        trunk.numbers = numbers->value;
    }
    auto headers = r.object("headers");
    if (!headers) return headers.error();
    if (headers->present) {
        trunk.headers.clear();
        if (headers->has_value()) {
            if (headers->value->size() > 20) {
                return make_error(Errc::kInvalidRequest, "headers may hold at most 20 headers",
                                  "headers");
            }
            for (const auto& [key, value] : *headers->value) {
                const auto field = join_path("headers", key);
                if (!is_sip_token(key)) {
                    return make_error(Errc::kInvalidRequest,
                                      fmt::format("{}: a SIP header name is a token (letters, "
                                                  "digits and -.!%*_+`'~)",
                                                  field),
                                      field);
                }
                if (!value.is_string() || value.get_string().size() > 1024 ||
                    has_control_chars(value.get_string())) {
                    return make_error(Errc::kInvalidRequest,
                                      fmt::format("{} must be a string of at most 1024 "
                                                  "characters without line breaks",
                                                  field),
                                      field);
                }
                trunk.headers.push_back({std::string(key), std::string(value.get_string())});
            }
        }
    }
    auto country = r.string("country_code", {.min = 1, .max = 3});
    if (!country) return country.error();
    if (country->present) {
        if (country->has_value()) {
            const auto& cc = country->value;
            const bool digits = std::all_of(cc.begin(), cc.end(), [](char c) {
                return c >= '0' && c <= '9';
            });
            if (!digits || cc.front() == '0') {
                return make_error(Errc::kInvalidRequest,
                                  "country_code must be a country calling code of 1 to 3 digits "
                                  "without '+', e.g. \"31\"",
                                  "country_code");
            }
        }
        trunk.country_code = country->null ? std::nullopt : std::optional(country->value);
    }
    if (auto st = apply_outbound_fields(r, trunk); !st) return st.error();
    auto active = r.boolean("is_active", false);
    if (!active) return active.error();
    if (active->present) trunk.is_active = active->value;
    return new_password;
}

// Rules across fields, checked on the result of create and of every PATCH.
Status check_trunk(const store::SipTrunk& trunk, bool has_password) {
    if (trunk.name.empty()) return make_error(Errc::kMissingField, "name is required", "name");
    const bool outbound = trunk.direction != "inbound";
    const bool inbound = trunk.direction != "outbound";
    if (outbound && trunk.host.empty()) {
        return make_error(Errc::kMissingField, "host is required for outbound trunks", "host");
    }
    if (outbound && trunk.auth_type == "digest") {
        if (!trunk.username) {
            return make_error(Errc::kMissingField,
                              "username is required with auth_type digest (use auth_type ip for "
                              "carriers that authenticate by source address)",
                              "username");
        }
        if (!has_password) {
            return make_error(Errc::kMissingField, "password is required with auth_type digest",
                              "password");
        }
    }
    if (inbound && trunk.auth_type == "ip" && trunk.allowed_addresses.empty()) {
        return make_error(Errc::kMissingField,
                          "allowed_addresses is required for an inbound trunk with auth_type ip",
                          "allowed_addresses");
    }
    return {};
}

json::object trunk_json(const store::SipTrunk& t,
                        const ApiContext& ctx,
                        json::storage_ptr sp = {}) {
    json::object o(sp);
    o["id"] = t.id;
    o["name"] = t.name;
    o["host"] = t.host.empty() ? json::value(nullptr) : json::value(t.host);
    o["port"] = t.port;
    o["username"] = opt(t.username);
    o["direction"] = t.direction;
    o["transport"] = t.transport;
    o["auth_type"] = t.auth_type;
    o["caller_id"] = opt(t.caller_id);
    json::array addresses(t.allowed_addresses.begin(), t.allowed_addresses.end(), sp);
    o["allowed_addresses"] = std::move(addresses);
    json::array numbers(t.numbers.begin(), t.numbers.end(), sp);
    o["numbers"] = std::move(numbers);
    o["transfer_method"] = t.transfer_method;
    o["refer_uri"] = t.refer_uri;
    json::object headers(sp);
    for (const auto& h : t.headers) headers[h.name] = h.value;
    o["headers"] = std::move(headers);
    o["inbound_username"] = opt(t.inbound_username);
    o["sip_endpoint"] = t.direction == "outbound" ? json::value(nullptr) : json::value(ctx.sip_endpoint);
    o["has_password"] = t.password_sealed.has_value();
    o["country_code"] = opt(t.country_code);
    o["from_user"] = opt(t.from_user);
    o["auth_username"] = opt(t.auth_username);
    o["send_pai"] = t.send_pai;
    o["max_concurrent_calls"] =
        t.max_concurrent_calls ? json::value(*t.max_concurrent_calls) : json::value(nullptr);
    o["max_calls_per_second"] =
        t.max_calls_per_second ? json::value(*t.max_calls_per_second) : json::value(nullptr);
    o["options_ping_seconds"] =
        t.options_ping_seconds ? json::value(*t.options_ping_seconds) : json::value(nullptr);
    o["status"] = t.status;
    o["status_checked_at"] = opt(t.status_checked_at);
    o["is_active"] = t.is_active;
    o["created_at"] = t.created_at;
    o["updated_at"] = t.updated_at;
    return o;
}

// Both keys carry the same object: the seed guide shows "sip_trunk", the HMS SDK reads "trunk".
// Create and update also say what looks wrong now (`warnings`), instead of silently accepting.
Response wrapped(int status, json::object trunk, std::optional<json::array> warnings = {}) {
    json::object body;
    body["sip_trunk"] = trunk;
    body["trunk"] = std::move(trunk);
    if (warnings) body["warnings"] = std::move(*warnings);
    return Response::json(status, body);
}

// What will not work as configured, checked now: a host that does not resolve, a transport
// the SIP stack does not send yet, settings without effect.
json::array trunk_warnings(const store::SipTrunk& t) {
    json::array warnings;
    const bool outbound = t.direction != "inbound";
    if (outbound && !t.host.empty()) {
        sip::SipResolveQuery query;
        query.host = t.host;
        query.port = t.port;
        query.transport = t.transport;
        query.timeout = std::chrono::milliseconds(2000);
        if (auto resolved = sip::resolve_sip_server(query); !resolved) {
            warnings.push_back(json::string(fmt::format(
                "host: {}; calls through this trunk fail until it resolves",
                resolved.error().message)));
        }
    }
    if (t.transport == "tls") {
        warnings.push_back(json::string(
            "transport: this server does not send SIP over TLS yet; calls through this trunk go "
            "out over UDP"));
    }
    if (!outbound && t.options_ping_seconds) {
        warnings.push_back(json::string(
            "options_ping_seconds: keep-alive OPTIONS go only to trunks used outbound; this "
            "inbound trunk is not pinged"));
    }
    return warnings;
}

// Inbound digest trunks get generated credentials; the password is returned exactly once.
std::optional<std::string> ensure_inbound_credentials(store::SipTrunk& trunk,
                                                      const store::SecretBox& secrets) {
    const bool needs = trunk.direction != "outbound" && trunk.auth_type == "digest";
    if (!needs || trunk.inbound_username) return std::nullopt;
    trunk.inbound_username = "tl" + random_token(9);
    auto password = random_token(18);
    trunk.inbound_password_sealed = secrets.seal(password);
    return password;
}

Response create_trunk(Request& req, ApiContext& ctx) {
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    store::SipTrunk trunk;
    bool cleared = false;
    auto password = apply_trunk_fields(*body, trunk, cleared);
    if (!password) return Response::error(password.error());
    if (auto st = check_trunk(trunk, password->has_value()); !st) {
        return Response::error(st.error());
    }
    trunk.id = new_uuid();
    trunk.org_id = req.org_id();
    trunk.created_at = trunk.updated_at = now_iso8601();
    if (*password) trunk.password_sealed = ctx.secrets.seal(**password);
    const auto inbound_password = ensure_inbound_credentials(trunk, ctx.secrets);
    if (auto st = ctx.store.create_trunk(trunk); !st) return store_error(st.error());
    auto out = trunk_json(trunk, ctx);
    if (inbound_password) out["inbound_password"] = *inbound_password;
    return wrapped(201, std::move(out), trunk_warnings(trunk));
}

Response update_trunk(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "sip trunk"); !st) return store_error(st.error());
    auto body = parse_json_object(req.body);
    if (!body) return Response::error(body.error());
    auto trunk = ctx.store.get_trunk(req.org_id(), id);
    if (!trunk) return store_error(trunk.error());
    bool cleared = false;
    auto password = apply_trunk_fields(*body, *trunk, cleared);
    if (!password) return Response::error(password.error());
    const bool has_password = password->has_value() || trunk->password_sealed.has_value();
    if (auto st = check_trunk(*trunk, has_password); !st) return Response::error(st.error());
    if (*password) trunk->password_sealed = ctx.secrets.seal(**password);
    if (trunk->direction == "outbound" || trunk->auth_type != "digest") {
        trunk->inbound_username.reset();
        trunk->inbound_password_sealed.reset();
    }
    const auto inbound_password = ensure_inbound_credentials(*trunk, ctx.secrets);
    trunk->updated_at = now_iso8601();
    if (auto st = ctx.store.update_trunk(*trunk); !st) return store_error(st.error());
    auto out = trunk_json(*trunk, ctx);
    if (inbound_password) out["inbound_password"] = *inbound_password;
    return wrapped(200, std::move(out), trunk_warnings(*trunk));
}

// The trunk doctor, synchronously (a few seconds at most per step).
Response test_trunk(Request& req, ApiContext& ctx) {
    const auto& id = req.path_params.at(0);
    if (auto st = check_path_id(id, "sip trunk"); !st) return store_error(st.error());
    auto trunk = ctx.store.get_trunk(req.org_id(), id);
    if (!trunk) return store_error(trunk.error());
    if (ctx.sip_stack == nullptr) {
        return Response::error(make_error(Errc::kUnavailable, "SIP is not running on this server"));
    }
    TrunkTestTools tools{*ctx.sip_stack, ctx.sip_capture, ctx.sip_local_host, ctx.sip_endpoint};
    auto report = trunk_test_report(ctx.store, ctx.secrets, *trunk, tools);
    if (!report) return store_error(report.error());
    for (const auto& step : report->at("steps").as_array()) {
        if (const auto* rtt = step.as_object().if_contains("rtt_ms")) {
            sip::TrunkMetrics(ctx.metrics).options_round_trip(trunk->id,
                                                              rtt->to_number<double>() / 1000.0);
        }
    }
    return Response::json(200, *report);
}

}  // namespace

void add_trunk_routes(Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/sip-trunks", Auth::kApiKey, [&ctx](Request& req) {
        const auto& org = req.identity->organization;
        return ctx.list_cache.get(req, org.id + "/trunks", org.revision, [&] {
            auto trunks = ctx.store.list_trunks(req.org_id());
            if (!trunks) return store_error(trunks.error());
            json::monotonic_resource arena;
            json::array list(&arena);
            for (const auto& t : *trunks) list.push_back(trunk_json(t, ctx, &arena));
            return Response::json(200, json::object({{"trunks", std::move(list)}}, &arena));
        });
    });
    router.add("POST", "/api/v1/sip-trunks", Auth::kApiKey,
               [&ctx](Request& req) { return create_trunk(req, ctx); });
    router.add("GET", "/api/v1/sip-trunks/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "sip trunk"); !st) return store_error(st.error());
        auto trunk = ctx.store.get_trunk(req.org_id(), id);
        if (!trunk) return store_error(trunk.error());
        return wrapped(200, trunk_json(*trunk, ctx));
    });
    router.add("PATCH", "/api/v1/sip-trunks/{id}", Auth::kApiKey,
               [&ctx](Request& req) { return update_trunk(req, ctx); });
    router.add_blocking("POST", "/api/v1/sip-trunks/{id}/test", Auth::kApiKey,
                        [&ctx](Request& req) { return test_trunk(req, ctx); });
    router.add("DELETE", "/api/v1/sip-trunks/{id}", Auth::kApiKey, [&ctx](Request& req) {
        const auto& id = req.path_params.at(0);
        if (auto st = check_path_id(id, "sip trunk"); !st) return store_error(st.error());
        if (auto st = ctx.store.delete_trunk(req.org_id(), id); !st) return store_error(st.error());
        return Response::json(200, json::object{{"success", true}});
    });
}

}  // namespace tl::api
