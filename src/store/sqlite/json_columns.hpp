#pragma once
// Vector-valued record fields kept as JSON text columns: SQLite has no array type and these are
// only ever read whole with their row.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "store/records.hpp"

namespace tl::store::detail {

std::string encode_strings(const std::vector<std::string>& values);
// `column` names the column in the error a corrupt value produces.
Result<std::vector<std::string>> decode_strings(std::string_view json, std::string_view column);

std::string encode_headers(const std::vector<SipHeader>& headers);
Result<std::vector<SipHeader>> decode_headers(std::string_view json);

}  // namespace tl::store::detail
