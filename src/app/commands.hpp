#pragma once
// The CLI: `serve`, `keys create|list|revoke`, `calls sip`, `trunk test`, `call`, `migrate`,
// `--version`, `--help` everywhere.
// Every serve flag is also an environment variable TRUNKLINE_<FLAG> and a key of the TOML config
// file given with --config.

namespace tl::app {

int run_cli(int argc, char** argv);

}  // namespace tl::app
