#include "api/api_context.hpp"

#include "common/ids.hpp"

#include <fmt/format.h>

#include <charconv>

namespace tl::api {

Result<int> query_int(const Request& req, const std::string& name, int fallback, int min, int max) {
    const auto it = req.query.find(name);
    if (it == req.query.end()) return fallback;
    int value = 0;
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return make_error(Errc::kInvalidRequest,
                          fmt::format("{} must be an integer from {} to {}", name, min, max), name);
    }
    return value;
}

Response store_error(const Error& error) {
    return Response::error(error);
}

Status check_path_id(const std::string& id, std::string_view what) {
    if (is_uuid(id)) return {};
    return make_error(Errc::kNotFound, std::string(what) + " not found");
}

}  // namespace tl::api
