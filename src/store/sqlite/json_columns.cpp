#include "store/sqlite/json_columns.hpp"

#include <boost/json.hpp>

namespace tl::store::detail {
namespace {

Error corrupt(std::string_view column) {
    return make_error(Errc::kInternal,
                      "stored value of column " + std::string(column) + " is not valid JSON");
}

}  // namespace

std::string encode_strings(const std::vector<std::string>& values) {
    boost::json::array array;
    array.reserve(values.size());
    for (const auto& value : values) array.emplace_back(value);
    return boost::json::serialize(array);
}

Result<std::vector<std::string>> decode_strings(std::string_view json, std::string_view column) {
    std::vector<std::string> values;
    if (json.empty() || json == "[]") return values;  // the common case, without a parse
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(json, ec);
    if (ec || !parsed.is_array()) return corrupt(column);
    values.reserve(parsed.get_array().size());
    for (const auto& item : parsed.get_array()) {
        if (!item.is_string()) return corrupt(column);
        values.emplace_back(item.get_string());
    }
    return values;
}

std::string encode_headers(const std::vector<SipHeader>& headers) {
    boost::json::array array;
    array.reserve(headers.size());
    for (const auto& header : headers) {
        array.emplace_back(boost::json::object{{"name", header.name}, {"value", header.value}});
    }
    return boost::json::serialize(array);
}

Result<std::vector<SipHeader>> decode_headers(std::string_view json) {
    std::vector<SipHeader> headers;
    if (json.empty() || json == "[]") return headers;
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(json, ec);
    if (ec || !parsed.is_array()) return corrupt("sip_trunks.headers");
    for (const auto& item : parsed.get_array()) {
        const auto* object = item.if_object();
        const auto* name = object != nullptr ? object->if_contains("name") : nullptr;
        const auto* value = object != nullptr ? object->if_contains("value") : nullptr;
        if (name == nullptr || value == nullptr || !name->is_string() || !value->is_string()) {
            return corrupt("sip_trunks.headers");
        }
        headers.push_back(
            SipHeader{std::string(name->get_string()), std::string(value->get_string())});
    }
    return headers;
}

}  // namespace tl::store::detail
