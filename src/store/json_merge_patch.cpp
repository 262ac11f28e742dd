#include "store/json_merge_patch.hpp"

#include <boost/json/object.hpp>

namespace tl::store {

namespace json = boost::json;

// RFC 7396 §2, MergePatch(Target, Patch), written out as the RFC's pseudocode.
json::value json_merge_patch(const json::value& target, const json::value& patch) {
    const auto* patch_object = patch.if_object();
    if (patch_object == nullptr) return patch;
    json::object result = target.is_object() ? target.get_object() : json::object();
    for (const auto& [name, value] : *patch_object) {
        if (value.is_null()) {
            result.erase(name);
            continue;
        }
        const auto* current = result.if_contains(name);
        result[name] =
            json_merge_patch(current != nullptr ? *current : json::value(nullptr), value);
    }
    return result;
}

}  // namespace tl::store
