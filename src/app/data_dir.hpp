#pragma once
// Opening what lives in the data directory: the database and the master key.

#include "common/error.hpp"
#include "store/secret_box.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace tl::app {

// Creates the directory (mode 0700) when missing and opens <dir>/trunkline.db, running
// migrations.
Result<std::unique_ptr<store::Store>> open_data_dir_store(const std::filesystem::path& dir);

// TRUNKLINE_MASTER_KEY when set, else <dir>/master.key (created on first use).
Result<store::SecretBox> open_secret_box(const std::filesystem::path& dir);

}  // namespace tl::app
