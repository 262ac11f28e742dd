#pragma once
// JSON Merge Patch (RFC 7396): how a BYOK provider's stored settings absorb POST /byok/config.
// Pure functions, thread-safe, never throw.

#include <boost/json/value.hpp>

namespace tl::store {

// `target` with `patch` applied per RFC 7396 §2: a non-object patch replaces the target; an
// object patch sets each of its members in the target (recursively for objects), and a member
// whose value is null removes that member.
boost::json::value json_merge_patch(const boost::json::value& target,
                                    const boost::json::value& patch);

}  // namespace tl::store
