#include "api/http_types.hpp"

#include "common/validation.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tl::api {

std::optional<std::string> Request::header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lowercase_name) return value;
    }
    return std::nullopt;
}

Response Response::json(int status, const boost::json::value& value) {
    Response r;
    r.status = status;
    r.body = boost::json::serialize(value);
    return r;
}

Response Response::error(const Error& error) {
    const auto& info = error_info(error.code);
    boost::json::object body;
    body["error"] = info.title;
    // Messages may echo untrusted bytes (a path, a query key); JSON must stay valid UTF-8.
    body["message"] = error.message.empty() ? std::string(info.title) : to_valid_utf8(error.message);
    body["code"] = info.code;
    if (!error.field.empty()) body["field"] = to_valid_utf8(error.field);
    return json(info.http_status, body);
}

Response Response::text(int status, std::string content_type, std::string body) {
    Response r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
}

}  // namespace tl::api
