#pragma once
// One logging facade over spdlog. `text` for people, `json` (one object per line) for production
// log pipelines. Callers prefix context themselves ("[req=..]", later "[call=..][leg=..]").
// Never pass a secret to a log call.

#include <spdlog/spdlog.h>

#include <string_view>

namespace tl::log {

enum class Format { kText, kJson };

// Configures the process-wide logger (stderr). Returns false on an unknown level name.
bool init(Format format, std::string_view level);

}  // namespace tl::log
