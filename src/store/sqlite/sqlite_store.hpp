#pragma once
// SQLite backend of tl::store::Store: WAL mode, foreign keys on, versioned migrations applied at
// open. A small pool of connections lets concurrent readers proceed; writes serialise in SQLite
// (busy_timeout), each store call being one transaction.

#include "common/error.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <memory>

namespace tl::store {

Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& db_file);

}  // namespace tl::store
