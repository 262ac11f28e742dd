#include "api/api_context.hpp"

#include "common/ids.hpp"

namespace tl::api {

Response store_error(const Error& error) {
    return Response::error(error);
}

Status check_path_id(const std::string& id, std::string_view what) {
    if (is_uuid(id)) return {};
    return make_error(Errc::kNotFound, std::string(what) + " not found");
}

}  // namespace tl::api
