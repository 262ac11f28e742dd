#pragma once
// The request and response the router and handlers see: transport-neutral (no Beast types), so
// handlers are plain functions that are easy to test and to read.

#include "common/error.hpp"
#include "store/records.hpp"

#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tl::api {

struct Request {
    std::string method;  // "GET", "POST", ...
    std::string path;    // without the query string
    std::map<std::string, std::string> query;
    std::vector<std::pair<std::string, std::string>> headers;  // lowercase names
    std::string body;
    std::string request_id;

    // Filled by the router.
    std::vector<std::string> path_params;  // values of `{...}` segments, in order
    std::optional<store::ApiKeyIdentity> identity;

    const std::string& org_id() const { return identity->organization.id; }
    std::optional<std::string> header(std::string_view lowercase_name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    static Response json(int status, const boost::json::value& value);
    static Response error(const Error& error);
    static Response text(int status, std::string content_type, std::string body);
};

}  // namespace tl::api
