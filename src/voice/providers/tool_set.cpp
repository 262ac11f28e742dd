#include "voice/providers/tool_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>
#include <regex>

namespace tl::voice {
namespace {

namespace json = boost::json;

Error invalid(const std::string& path, const std::string& why) {
    return make_error(Errc::kInvalidRequest, path + " " + why, path);
}

std::string string_or(const json::object& o, std::string_view key, std::string fallback = {}) {
    const auto* v = o.if_contains(key);
    if (v && v->is_string() && !v->get_string().empty()) return std::string(v->get_string());
    return fallback;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

bool is_tool_name(std::string_view name) {
    static const std::regex kName("^[A-Za-z_][A-Za-z0-9_-]{0,63}$");
    return std::regex_match(name.begin(), name.end(), kName);
}

json::object empty_parameters() {
    return json::object{{"type", "object"}, {"properties", json::object{}}};
}

Result<ConfiguredTool> transfer_tool(const json::object& tool, const std::string& path) {
    ConfiguredTool out;
    out.kind = ToolKind::kTransferCall;
    out.definition.name = string_or(tool, "name", "transfer_call");
    const auto* dests = tool.if_contains("destinations");
    if (dests == nullptr || !dests->is_array() || dests->get_array().empty()) {
        return invalid(path + ".destinations", "must be a non-empty array");
    }
    json::array keys;
    std::string listing;
    for (std::size_t i = 0; i < dests->get_array().size(); ++i) {
        const auto& d = dests->get_array()[i];
        const auto dpath = fmt::format("{}.destinations[{}]", path, i);
        if (!d.is_object()) return invalid(dpath, "must be an object");
        const auto& o = d.get_object();
        std::string key = string_or(o, "number", string_or(o, "sip_uri"));
        if (key.empty()) return invalid(dpath, "has neither number nor sip_uri");
        for (const auto& earlier : out.destinations) {
            if (earlier.key == key) {
                key += fmt::format("#{}", i + 1);
                break;
            }
        }
        TransferDestination dest{key, string_or(o, "description"), i};
        listing += fmt::format("\n- {}: {}", dest.key,
                               dest.description.empty() ? "(no description)" : dest.description);
        keys.push_back(json::string(dest.key));
        out.destinations.push_back(std::move(dest));
    }
    out.definition.description =
        string_or(tool, "description",
                  "Transfer the caller to a human or another line. Call it only when the caller "
                  "asks for it or clearly needs one of these destinations; pick the destination "
                  "whose description fits.") +
        "\nDestinations:" + listing;
    out.definition.parameters = json::object{
        {"type", "object"},
        {"properties",
         json::object{{"destination",
                       json::object{{"type", "string"},
                                    {"enum", std::move(keys)},
                                    {"description", "The destination to transfer the call to."}}}}},
        {"required", json::array{"destination"}}};
    return out;
}

Result<ConfiguredTool> function_tool(const json::object& tool,
                                     bool nested,
                                     const std::string& path) {
    const json::object* fn = &tool;
    std::string fn_path = path;
    if (nested) {
        const auto* f = tool.if_contains("function");
        if (f == nullptr || !f->is_object())
            return invalid(path + ".function", "must be an object");
        fn = &f->get_object();
        fn_path += ".function";
    }
    ConfiguredTool out;
    out.kind = ToolKind::kFunction;
    out.definition.name = string_or(*fn, "name");
    if (!is_tool_name(out.definition.name)) {
        return invalid(fn_path + ".name",
                       "must start with a letter or _ and hold at most 64 letters, digits, _ or -");
    }
    out.definition.description = string_or(*fn, "description");
    if (const auto* p = fn->if_contains("parameters"); p && p->is_object()) {
        out.definition.parameters = p->get_object();
    } else {
        out.definition.parameters = empty_parameters();
    }
    return out;
}

}  // namespace

Result<ToolSet> ToolSet::from_config(const json::array& tools, const std::string& path) {
    ToolSet set;
    for (std::size_t i = 0; i < tools.size(); ++i) {
        const auto tool_path = fmt::format("{}[{}]", path, i);
        if (!tools[i].is_object()) return invalid(tool_path, "must be an object");
        const auto& tool = tools[i].get_object();
        const std::string type = string_or(tool, "type");
        Result<ConfiguredTool> configured = ConfiguredTool{};
        if (type == "transfer_call" || type == "transferCall") {
            configured = transfer_tool(tool, tool_path);
        } else if (type == "end_call" || type == "endCall") {
            ConfiguredTool end;
            end.kind = ToolKind::kEndCall;
            end.definition.name = string_or(tool, "name", "end_call");
            end.definition.description = string_or(
                tool, "description",
                "End the call. Call it when the caller says goodbye or the conversation is over.");
            end.definition.parameters = empty_parameters();
            configured = std::move(end);
        } else if (type == "function") {
            configured = function_tool(tool, true, tool_path);
        } else if (type.empty()) {
            configured = function_tool(tool, false, tool_path);
        } else {
            return invalid(tool_path + ".type",
                           "must be one of: transfer_call, end_call, function");
        }
        if (!configured) return configured.error();
        if (set.find(configured->definition.name) != nullptr) {
            return invalid(tool_path, "is offered to the model under the name '" +
                                          configured->definition.name +
                                          "', which another tool already uses");
        }
        configured->config_index = i;
        set.tools_.push_back(std::move(*configured));
    }
    return set;
}

std::vector<ToolDefinition> ToolSet::definitions() const {
    std::vector<ToolDefinition> out;
    out.reserve(tools_.size());
    for (const auto& t : tools_) out.push_back(t.definition);
    return out;
}

const ConfiguredTool* ToolSet::find(std::string_view name) const {
    for (const auto& t : tools_) {
        if (t.definition.name == name) return &t;
    }
    return nullptr;
}

Result<std::size_t> ToolSet::transfer_destination(const ConfiguredTool& tool,
                                                  const ToolCall& call) {
    const auto* d = call.arguments.if_contains("destination");
    if (d == nullptr || !d->is_string() || d->get_string().empty()) {
        return make_error(Errc::kInvalidRequest,
                          call.name + ": the argument 'destination' (a string) is required");
    }
    const std::string_view wanted = d->get_string();
    for (const auto& dest : tool.destinations) {
        if (dest.key == wanted) return dest.index;
    }
    for (const auto& dest : tool.destinations) {
        if (iequals(dest.key, wanted)) return dest.index;
    }
    for (const auto& dest : tool.destinations) {
        if (!dest.description.empty() && iequals(dest.description, wanted)) return dest.index;
    }
    std::string known;
    for (const auto& dest : tool.destinations) known += (known.empty() ? "" : ", ") + dest.key;
    return make_error(Errc::kInvalidRequest,
                      fmt::format("{}: unknown destination '{}'; use one of: {}", call.name,
                                  wanted.substr(0, 200), known));
}

}  // namespace tl::voice
