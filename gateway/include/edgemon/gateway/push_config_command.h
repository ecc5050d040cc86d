// `edgemon-gateway push-config`: sends a remote configuration to one node over Sparkplug NCMD
// (metrics "edgemon/config" = the TOML text, "edgemon/config_version"), for operators and scripts
// until the gateway's API does it. The node validates it, applies it without a restart, and
// reports agent/config/version and agent/config/status.
#pragma once

#include <CLI/CLI.hpp>

namespace edgemon::gateway {

// Adds the subcommand to `app`; returns it so main() can check whether it was chosen.
CLI::App* add_push_config_command(CLI::App& app);
// Runs it (after parsing). Returns the exit code.
int run_push_config_command();

}  // namespace edgemon::gateway
