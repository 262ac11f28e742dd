#include "app/data_dir.hpp"

#include "store/sqlite/sqlite_store.hpp"

#include <sys/stat.h>

#include <cstdlib>

namespace tl::app {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> open_data_dir_store(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            return make_error(Errc::kInternal,
                              "cannot create data directory " + dir.string() + ": " + ec.message());
        }
        ::chmod(dir.c_str(), 0700);
    } else if (!fs::is_directory(dir, ec)) {
        return make_error(Errc::kInternal, "data directory " + dir.string() + " is not a directory");
    }
    return store::open_sqlite_store(dir / "trunkline.db");
}

Result<store::SecretBox> open_secret_box(const fs::path& dir) {
    std::optional<std::string> env_key;
    if (const char* value = std::getenv("TRUNKLINE_MASTER_KEY"); value && *value) {
        env_key = value;
    }
    return store::SecretBox::load(dir, env_key);
}

}  // namespace tl::app
