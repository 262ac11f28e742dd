#include "api/json_reader.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <cmath>

namespace tl::api {

namespace json = boost::json;

Result<json::object> parse_json_object(std::string_view body) {
    if (body.empty()) {
        return make_error(Errc::kInvalidJson, "request body must be a JSON object, got nothing");
    }
    boost::system::error_code ec;
    json::value value = json::parse(body, ec);
    if (ec) {
        return make_error(Errc::kInvalidJson,
                          fmt::format("request body is not valid JSON: {}", ec.message()));
    }
    if (!value.is_object()) {
        return make_error(Errc::kInvalidJson, "request body must be a JSON object");
    }
    return std::move(value.as_object());
}

std::string join_path(std::string_view parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    return fmt::format("{}.{}", parent, key);
}

std::string index_path(std::string_view parent, std::size_t index) {
    return fmt::format("{}[{}]", parent, index);
}

std::string ObjectReader::path(std::string_view key) const {
    return join_path(path_, key);
}

Status ObjectReader::only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object_) {
        bool known = false;
        for (const auto a : allowed) {
            if (key == a) {
                known = true;
                break;
            }
        }
        if (!known) {
            const auto name = path(key);
            return make_error(Errc::kUnknownField, fmt::format("unknown field '{}'", name), name);
        }
    }
    return {};
}

Status ObjectReader::reject_read_only(std::initializer_list<std::string_view> read_only) const {
    for (const auto key : read_only) {
        if (object_.contains(key)) {
            const auto name = path(key);
            return make_error(Errc::kInvalidRequest, fmt::format("{} is read-only", name), name);
        }
    }
    return {};
}

Status ObjectReader::require(std::string_view key) const {
    const auto* v = object_.if_contains(key);
    if (v == nullptr || v->is_null()) {
        const auto name = path(key);
        return make_error(Errc::kMissingField, fmt::format("{} is required", name), name);
    }
    return {};
}

namespace {

Error type_error(const std::string& name, std::string_view expected) {
    return make_error(Errc::kInvalidRequest, fmt::format("{} must be {}", name, expected), name);
}

}  // namespace

Result<Field<std::string>> ObjectReader::string(std::string_view key, StringRule rule) const {
    Field<std::string> f;
    const auto* v = object_.if_contains(key);
    if (v == nullptr) return f;
    f.present = true;
    const auto name = path(key);
    const auto expected =
        rule.min == rule.max ? fmt::format("a string of {} characters", rule.min)
                             : fmt::format("a string of {} to {} characters", rule.min, rule.max);
    if (v->is_null()) {
        if (!rule.nullable) return type_error(name, expected);
        f.null = true;
        return f;
    }
    if (!v->is_string()) return type_error(name, expected);
    const auto& s = v->get_string();
    if (s.size() < rule.min || s.size() > rule.max) return type_error(name, expected);
    f.value = std::string(s);
    return f;
}

Result<Field<long long>> ObjectReader::integer(std::string_view key,
                                               long long min,
                                               long long max,
                                               bool nullable) const {
    Field<long long> f;
    const auto* v = object_.if_contains(key);
    if (v == nullptr) return f;
    f.present = true;
    const auto name = path(key);
    const auto expected = fmt::format("an integer from {} to {}", min, max);
    if (v->is_null()) {
        if (!nullable) return type_error(name, expected);
        f.null = true;
        return f;
    }
    long long n = 0;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
        n = static_cast<long long>(v->get_uint64());
    } else {
        return type_error(name, expected);
    }
    if (n < min || n > max) return type_error(name, expected);
    f.value = n;
    return f;
}

Result<Field<double>> ObjectReader::number(std::string_view key,
                                           double min,
                                           double max,
                                           bool nullable) const {
    Field<double> f;
    const auto* v = object_.if_contains(key);
    if (v == nullptr) return f;
    f.present = true;
    const auto name = path(key);
    const auto expected = fmt::format("a number from {} to {}", min, max);
    if (v->is_null()) {
        if (!nullable) return type_error(name, expected);
        f.null = true;
        return f;
    }
    if (!v->is_number()) return type_error(name, expected);
    const double d = v->to_number<double>();
    if (!std::isfinite(d) || d < min || d > max) return type_error(name, expected);
    f.value = d;
    return f;
}

Result<Field<bool>> ObjectReader::boolean(std::string_view key, bool nullable) const {
    Field<bool> f;
    const auto* v = object_.if_contains(key);
    if (v == nullptr) return f;
    f.present = true;
    const auto name = path(key);
    if (v->is_null()) {
        if (!nullable) return type_error(name, "true or false");
        f.null = true;
        return f;
    }
    if (!v->is_bool()) return type_error(name, "true or false");
    f.value = v->get_bool();
    return f;
}

Result<Field<std::vector<std::string>>> ObjectReader::string_array(std::string_view key,
                                                                   std::size_t max_items,
                                                                   StringRule item_rule) const {
    Field<std::vector<std::string>> f;
    auto arr = array(key, max_items);
    if (!arr) return arr.error();
    f.present = arr->present;
    f.null = arr->null;
    if (!arr->has_value()) return f;
    const auto name = path(key);
    for (std::size_t i = 0; i < arr->value->size(); ++i) {
        const auto& item = (*arr->value)[i];
        const auto item_name = index_path(name, i);
        if (!item.is_string() || item.get_string().size() < item_rule.min ||
            item.get_string().size() > item_rule.max) {
            return type_error(item_name, fmt::format("a string of {} to {} characters",
                                                     item_rule.min, item_rule.max));
        }
        f.value.emplace_back(item.get_string());
    }
    return f;
}

Result<Field<const json::object*>> ObjectReader::object(std::string_view key, bool nullable) const {
    Field<const json::object*> f;
    const auto* v = object_.if_contains(key);
    if (v == nullptr) return f;
    f.present = true;
    const auto name = path(key);
    if (v->is_null()) {
        if (!nullable) return type_error(name, "an object");
        f.null = true;
        return f;
    }
    if (!v->is_object()) return type_error(name, "an object");
    f.value = &v->get_object();
    return f;
}

Result<Field<const json::array*>> ObjectReader::array(std::string_view key,
                                                      std::size_t max_items,
                                                      bool nullable) const {
    Field<const json::array*> f;
    const auto* v = object_.if_contains(key);
    if (v == nullptr) return f;
    f.present = true;
    const auto name = path(key);
    const auto expected = fmt::format("an array of at most {} items", max_items);
    if (v->is_null()) {
        if (!nullable) return type_error(name, expected);
        f.null = true;
        return f;
    }
    if (!v->is_array() || v->get_array().size() > max_items) return type_error(name, expected);
    f.value = &v->get_array();
    return f;
}

}  // namespace tl::api
