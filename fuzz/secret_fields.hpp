#pragma once
// Where secrets may sit in a request body or a stored document, shared by the API and assistant
// document fuzzers: a key named password, secret or webhook_secret holds a secret, except inside
// the free-form objects whose contents the API stores verbatim on purpose (metadata,
// analysis_plan, the open-ended stt_config, the LLM's delegation/turn_detection, a tool's
// JSON-schema parameters, a trunk's SIP headers).

#include <boost/json.hpp>

#include <array>
#include <functional>
#include <string>
#include <string_view>

namespace tl::fuzz {

inline bool is_secret_key(std::string_view key) {
    return key == "password" || key == "secret" || key == "webhook_secret";
}

inline bool is_free_form_key(std::string_view key) {
    static constexpr std::array<std::string_view, 7> kFreeForm = {
        "metadata", "analysis_plan", "stt_config", "delegation", "turn_detection", "parameters",
        "headers"};
    for (const auto k : kFreeForm) {
        if (key == k) return true;
    }
    return false;
}

// Calls `visit(path, key, value)` for every member of every object outside the free-form
// objects; `path` is a dotted path for messages.
inline void for_each_checked_member(
    const boost::json::value& value,
    const std::string& path,
    const std::function<void(const std::string&, std::string_view, const boost::json::value&)>&
        visit) {
    if (value.is_array()) {
        const auto& array = value.get_array();
        for (std::size_t i = 0; i < array.size(); ++i) {
            for_each_checked_member(array[i], path + "[" + std::to_string(i) + "]", visit);
        }
        return;
    }
    if (!value.is_object()) return;
    for (const auto& [key, child] : value.get_object()) {
        const auto child_path = path.empty() ? std::string(key) : path + "." + std::string(key);
        visit(child_path, key, child);
        if (!is_free_form_key(key)) for_each_checked_member(child, child_path, visit);
    }
}

}  // namespace tl::fuzz
