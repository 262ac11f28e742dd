#pragma once
// Versioned schema migrations. Migration N (1-based) is the N-th entry of the list; an applied
// migration is never edited, a schema change is a new entry at the end.

#include <span>
#include <string_view>

#include "common/error.hpp"
#include "store/sqlite/connection_pool.hpp"

namespace tl::store::detail {

std::span<const std::string_view> sqlite_migrations();

// Applies the migrations `conn`'s database lacks, each in its own write transaction, and returns
// the resulting schema version. Safe against another process migrating the same file at once.
Result<int> run_migrations(Connection& conn);

}  // namespace tl::store::detail
