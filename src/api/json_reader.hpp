#pragma once
// Reading and validating untrusted JSON request bodies. Every failure is an Error naming the
// offending field by its dotted path ("llm_config.tools[0].destinations[1].number"), and nothing
// here throws.

#include "common/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl::api {

// A body must be one JSON object (empty body counts as malformed).
Result<boost::json::object> parse_json_object(std::string_view body);

// A field as a PATCH sees it: absent, explicitly null, or a value.
template <class T>
struct Field {
    bool present = false;
    bool null = false;
    T value{};

    bool has_value() const { return present && !null; }
};

struct StringRule {
    std::size_t min = 0;
    std::size_t max = 255;
    bool nullable = true;
};

class ObjectReader {
public:
    ObjectReader(const boost::json::object& object, std::string path)
        : object_(object), path_(std::move(path)) {}

    // kUnknownField naming the first key not in `allowed`.
    Status only(std::initializer_list<std::string_view> allowed) const;
    // kInvalidRequest when any of `read_only` is present ("id is read-only").
    Status reject_read_only(std::initializer_list<std::string_view> read_only) const;

    bool contains(std::string_view key) const { return object_.contains(key); }
    const boost::json::value* find(std::string_view key) const { return object_.if_contains(key); }
    std::string path(std::string_view key) const;

    Result<Field<std::string>> string(std::string_view key, StringRule rule = {}) const;
    Result<Field<long long>> integer(std::string_view key,
                                     long long min,
                                     long long max,
                                     bool nullable = true) const;
    Result<Field<double>> number(std::string_view key,
                                 double min,
                                 double max,
                                 bool nullable = true) const;
    Result<Field<bool>> boolean(std::string_view key, bool nullable = true) const;
    Result<Field<std::vector<std::string>>> string_array(std::string_view key,
                                                         std::size_t max_items,
                                                         StringRule item_rule = {}) const;
    // Requires an object (or null when nullable); returns a pointer into the body.
    Result<Field<const boost::json::object*>> object(std::string_view key,
                                                     bool nullable = true) const;
    Result<Field<const boost::json::array*>> array(std::string_view key,
                                                   std::size_t max_items,
                                                   bool nullable = true) const;

    // kMissingField unless `key` holds a non-null value.
    Status require(std::string_view key) const;

private:
    const boost::json::object& object_;
    std::string path_;
};

// "field" or "parent.field" / "parent[3]" helpers for nested readers.
std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

}  // namespace tl::api
