#include "api/assistant_tools.hpp"

#include "api/json_reader.hpp"
#include "common/validation.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <regex>

namespace tl::api {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxTools = 64;
constexpr std::size_t kMaxDestinations = 50;

Error invalid(const std::string& field, const std::string& why) {
    return make_error(Errc::kInvalidRequest, fmt::format("{} {}", field, why), field);
}

// Where a destination sits in llm_config.tools, to find its stored counterpart.
struct DestinationSlot {
    std::size_t tool = 0;
    std::size_t destination = 0;
};

bool same_sip_target(const json::object& d, std::string_view uri, std::string_view username) {
    const auto* u = d.if_contains("sip_uri");
    const auto* n = d.if_contains("username");
    const std::string_view stored_user = n && n->is_string() ? std::string_view(n->get_string()) : "";
    return u && u->is_string() && u->get_string() == uri && stored_user == username;
}

// The sealed password of the stored destination this one continues: the one in the same place
// with the same URI and username, else the only stored one with that URI and username. Two
// stored destinations that match equally are ambiguous: nothing is carried over (the client
// must resend the password) rather than risk giving one destination another's password.
const json::value* previous_sealed(const json::array& previous_tools,
                                   DestinationSlot slot,
                                   std::string_view uri,
                                   std::string_view username) {
    auto destinations_of = [](const json::value& tool) -> const json::array* {
        if (!tool.is_object()) return nullptr;
        const auto* d = tool.get_object().if_contains("destinations");
        return d && d->is_array() ? &d->get_array() : nullptr;
    };
    if (slot.tool < previous_tools.size()) {
        if (const auto* dests = destinations_of(previous_tools[slot.tool]);
            dests && slot.destination < dests->size() && (*dests)[slot.destination].is_object()) {
            const auto& d = (*dests)[slot.destination].get_object();
            if (same_sip_target(d, uri, username)) return d.if_contains("password_sealed");
        }
    }
    const json::value* found = nullptr;
    int matches = 0;
    for (const auto& tool : previous_tools) {
        const auto* dests = destinations_of(tool);
        if (dests == nullptr) continue;
        for (const auto& d : *dests) {
            if (d.is_object() && same_sip_target(d.get_object(), uri, username)) {
                ++matches;
                found = d.get_object().if_contains("password_sealed");
            }
        }
    }
    return matches == 1 ? found : nullptr;
}

Result<json::object> validate_destination(const json::value& value,
                                          const std::string& path,
                                          DestinationSlot slot,
                                          const json::array& previous_tools,
                                          const store::SecretBox& secrets) {
    if (!value.is_object()) return invalid(path, "must be an object");
    ObjectReader r(value.get_object(), path);
    auto type = r.string("type", {.min = 1, .max = 16, .nullable = false});
    if (!type) return type.error();
    if (!type->present) return make_error(Errc::kMissingField, r.path("type") + " is required", r.path("type"));
    json::object out;
    if (type->value == "number") {
        if (auto st = r.only({"type", "number", "description", "message"}); !st) return st.error();
        if (auto st = r.require("number"); !st) return st.error();
        auto number = r.string("number", {.min = 1, .max = 16, .nullable = false});
        if (!number || !is_e164(number->value)) {
            return make_error(Errc::kInvalidPhoneNumber,
                              r.path("number") + " must be E.164, e.g. +31612345678",
                              r.path("number"));
        }
        out["type"] = "number";
        out["number"] = number->value;
    } else if (type->value == "sip") {
        if (auto st = r.only({"type", "sip_uri", "username", "password", "has_password",
                              "description", "message"});
            !st) {
            return st.error();
        }
        if (auto st = r.require("sip_uri"); !st) return st.error();
        auto uri = r.string("sip_uri", {.min = 1, .max = 1024, .nullable = false});
        if (!uri) return uri.error();
        if (auto parsed = parse_sip_uri(uri->value); !parsed) {
            return invalid(r.path("sip_uri"), "is not a valid SIP URI: " + parsed.error().message);
        }
        out["type"] = "sip";
        out["sip_uri"] = uri->value;
        auto username = r.string("username", {.min = 1, .max = 255});
        if (!username) return username.error();
        if (username->has_value()) out["username"] = username->value;
        auto password = r.string("password", {.min = 1, .max = 255});
        if (!password) return password.error();
        if (password->has_value()) {
            out["password_sealed"] = secrets.seal(password->value);
        } else if (!password->present) {
            const std::string user = username->has_value() ? username->value : "";
            if (const auto* kept = previous_sealed(previous_tools, slot, uri->value, user)) {
                out["password_sealed"] = *kept;
            }
        }
        if (auto has = r.boolean("has_password"); !has) return has.error();
    } else {
        return invalid(r.path("type"), "must be number or sip");
    }
    if (auto st = r.require("description"); !st) return st.error();
    auto description = r.string("description", {.min = 1, .max = 1000, .nullable = false});
    if (!description) return description.error();
    out["description"] = description->value;
    auto message = r.string("message", {.min = 0, .max = 4096});
    if (!message) return message.error();
    if (message->has_value()) out["message"] = message->value;
    return out;
}

Status check_optional_texts(const ObjectReader& r) {
    if (auto n = r.string("name", {.min = 1, .max = 64}); !n) return n.error();
    if (auto d = r.string("description", {.min = 0, .max = 1000}); !d) return d.error();
    if (auto m = r.string("message", {.min = 0, .max = 4096}); !m) return m.error();
    return {};
}

Result<json::object> validate_transfer_tool(const ObjectReader& r,
                                            const json::object& tool,
                                            std::size_t tool_index,
                                            const json::array& previous_tools,
                                            const store::SecretBox& secrets) {
    if (auto st = r.only({"type", "destinations", "name", "description", "message"}); !st) {
        return st.error();
    }
    if (auto st = check_optional_texts(r); !st) return st.error();
    if (auto st = r.require("destinations"); !st) return st.error();
    auto dests = r.array("destinations", kMaxDestinations, false);
    if (!dests) return dests.error();
    if (dests->value->empty()) return invalid(r.path("destinations"), "must not be empty");
    json::array out_dests;
    for (std::size_t i = 0; i < dests->value->size(); ++i) {
        auto d = validate_destination((*dests->value)[i], index_path(r.path("destinations"), i),
                                      {tool_index, i}, previous_tools, secrets);
        if (!d) return d.error();
        out_dests.push_back(std::move(*d));
    }
    json::object out = tool;
    out["type"] = "transfer_call";
    out["destinations"] = std::move(out_dests);
    return out;
}

bool is_tool_name(std::string_view name) {
    static const std::regex kName("^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
    return std::regex_match(name.begin(), name.end(), kName);
}

Status check_url(const ObjectReader& r, std::string_view key) {
    auto url = r.string(key, {.min = 1, .max = 2048});
    if (!url) return url.error();
    if (url->has_value() && url->value.rfind("http://", 0) != 0 &&
        url->value.rfind("https://", 0) != 0) {
        return invalid(r.path(key), "must be an http:// or https:// URL");
    }
    return {};
}

// A tool's `server: {url, secret?}`; the secret is sealed.
Result<json::object> validate_server(const ObjectReader& r,
                                     const std::string& tool_name,
                                     const json::array& previous_tools,
                                     const store::SecretBox& secrets) {
    auto server = r.object("server", false);
    if (!server) return server.error();
    ObjectReader s(*server->value, r.path("server"));
    if (auto st = s.only({"url", "secret", "has_secret"}); !st) return st.error();
    if (auto st = s.require("url"); !st) return st.error();
    if (auto st = check_url(s, "url"); !st) return st.error();
    json::object out;
    out["url"] = server->value->at("url");
    auto secret = s.string("secret", {.min = 1, .max = 256});
    if (!secret) return secret.error();
    if (secret->has_value()) {
        out["secret_sealed"] = secrets.seal(secret->value);
    } else if (!secret->present) {
        for (const auto& t : previous_tools) {
            if (!t.is_object()) continue;
            const auto& o = t.get_object();
            const auto* name = o.if_contains("name");
            const auto* fn = o.if_contains("function");
            if ((!name || !name->is_string()) && fn && fn->is_object()) name = fn->get_object().if_contains("name");
            const auto* prev = o.if_contains("server");
            if (name && name->is_string() && name->get_string() == tool_name && prev &&
                prev->is_object()) {
                if (const auto* sealed = prev->get_object().if_contains("secret_sealed")) {
                    out["secret_sealed"] = *sealed;
                }
            }
        }
    }
    if (auto has = s.boolean("has_secret"); !has) return has.error();
    return out;
}

Result<json::object> validate_function_tool(const ObjectReader& r,
                                            const json::object& tool,
                                            bool nested,
                                            const json::array& previous_tools,
                                            const store::SecretBox& secrets) {
    json::object out = tool;
    std::string name;
    if (nested) {
        if (auto st = r.only({"type", "function", "server", "url", "async", "message"}); !st) {
            return st.error();
        }
        if (auto st = r.require("function"); !st) return st.error();
        auto fn = r.object("function", false);
        if (!fn) return fn.error();
        ObjectReader f(*fn->value, r.path("function"));
        if (auto st = f.only({"name", "description", "parameters", "strict"}); !st) {
            return st.error();
        }
        if (auto st = f.require("name"); !st) return st.error();
        auto n = f.string("name", {.min = 1, .max = 64, .nullable = false});
        if (!n) return n.error();
        name = n->value;
        if (auto p = f.object("parameters"); !p) return p.error();
        if (auto d = f.string("description", {.min = 0, .max = 4096}); !d) return d.error();
        if (!is_tool_name(name)) {
            return invalid(f.path("name"),
                           "must start with a letter or _ and hold at most 64 letters, digits, _ "
                           "or -");
        }
    } else {
        if (auto st = r.only({"type", "name", "description", "parameters", "url", "server",
                              "async", "message", "async_response"});
            !st) {
            return st.error();
        }
        if (auto st = r.require("name"); !st) return st.error();
        auto n = r.string("name", {.min = 1, .max = 64, .nullable = false});
        if (!n) return n.error();
        name = n->value;
        if (!is_tool_name(name)) {
            return invalid(r.path("name"),
                           "must start with a letter or _ and hold at most 64 letters, digits, _ "
                           "or -");
        }
        if (auto st = r.require("description"); !st) return st.error();
        if (auto d = r.string("description", {.min = 1, .max = 4096, .nullable = false}); !d) {
            return d.error();
        }
        if (auto p = r.object("parameters"); !p) return p.error();
        if (auto m = r.string("async_response", {.min = 0, .max = 4096}); !m) return m.error();
    }
    if (auto st = check_url(r, "url"); !st) return st.error();
    if (auto a = r.boolean("async"); !a) return a.error();
    if (auto m = r.string("message", {.min = 0, .max = 4096}); !m) return m.error();
    if (r.contains("server") && !r.find("server")->is_null()) {
        auto server = validate_server(r, name, previous_tools, secrets);
        if (!server) return server.error();
        out["server"] = std::move(*server);
    }
    return out;
}

std::string function_tool_name(const json::object& tool) {
    const auto* name = tool.if_contains("name");
    if (name && name->is_string()) return std::string(name->get_string());
    const auto* fn = tool.if_contains("function");
    if (fn && fn->is_object()) {
        const auto* n = fn->get_object().if_contains("name");
        if (n && n->is_string()) return std::string(n->get_string());
    }
    return {};
}

}  // namespace

Result<json::array> validate_tools(const json::array& tools,
                                   const std::string& path,
                                   const json::array& previous_tools,
                                   const store::SecretBox& secrets) {
    if (tools.size() > kMaxTools) {
        return invalid(path, fmt::format("may hold at most {} tools", kMaxTools));
    }
    json::array out;
    for (std::size_t i = 0; i < tools.size(); ++i) {
        const auto tool_path = index_path(path, i);
        if (!tools[i].is_object()) return invalid(tool_path, "must be an object");
        const auto& tool = tools[i].get_object();
        ObjectReader r(tool, tool_path);
        auto type = r.string("type", {.min = 1, .max = 32, .nullable = false});
        if (!type) return type.error();
        const std::string t = type->present ? type->value : "";
        Result<json::object> validated = json::object{};
        if (t == "transfer_call" || t == "transferCall") {
            validated = validate_transfer_tool(r, tool, i, previous_tools, secrets);
        } else if (t == "end_call" || t == "endCall") {
            if (auto st = r.only({"type", "name", "description", "message"}); !st) {
                return st.error();
            }
            if (auto st = check_optional_texts(r); !st) return st.error();
            json::object o = tool;
            o["type"] = "end_call";
            validated = std::move(o);
        } else if (t == "function") {
            validated = validate_function_tool(r, tool, true, previous_tools, secrets);
        } else if (t.empty()) {
            validated = validate_function_tool(r, tool, false, previous_tools, secrets);
        } else {
            return invalid(r.path("type"), "must be one of: transfer_call, end_call, function");
        }
        if (!validated) return validated.error();
        // Function tools are called by name (and their stored secrets found by it): unique.
        if (t == "function" || t.empty()) {
            const auto name = function_tool_name(*validated);
            for (std::size_t j = 0; j < out.size(); ++j) {
                if (out[j].is_object() && function_tool_name(out[j].get_object()) == name) {
                    return invalid(tool_path, "has the same name as " + index_path(path, j) +
                                                  "; tool names must be unique");
                }
            }
        }
        out.push_back(std::move(*validated));
    }
    return out;
}

}  // namespace tl::api
