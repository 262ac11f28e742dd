#pragma once
// The `serve` TOML config file. Precedence is flag > environment > file > default: CLI11 applies
// flags and TRUNKLINE_* variables, then every option still unset takes the file's value.

#include "common/error.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace tl::app {

// Applies `path` to the options of `command` that were given neither as a flag nor through the
// environment. Keys are the long flag names without dashes ("data-dir"); an unknown key, a
// value of the wrong type or a file that does not parse is an error naming the key or the line.
Status apply_config_file(CLI::App& command, const std::string& path);

}  // namespace tl::app
