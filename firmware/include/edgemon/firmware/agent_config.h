// The agent's configuration: a TOML file (docs/config.md) overridden by command-line flags.
#pragma once

#include <string>
#include <vector>

#include "edgemon/common/config_reader.h"
#include "edgemon/common/log.h"
#include "edgemon/common/result.h"

namespace edgemon::firmware {

struct AgentConfig {
  std::string node_id;                 // default: this machine's host name, sanitised
  std::string group = "edgemon";
  double interval_s = 5.0;             // sampling and ping period
  double ping_timeout_s = 0;            // 0: min(1 s, 0.8 x interval), see effective_ping_timeout()
  std::vector<std::string> ping_hosts = {"127.0.0.1"};
  std::string board_root = "/";        // procfs/sysfs root; fixture trees in tests
  std::string broker_host = "127.0.0.1";
  int broker_port = 1883;
  std::string username;
  std::string password;
  int keepalive_s = 10;
  log::Level log_level = log::Level::kInfo;
};

// Reads every key of the config (see docs/config.md). Errors: kInvalidArgument listing each bad
// key with file:line.
Result<AgentConfig> read_agent_config(ConfigReader& reader);

double effective_ping_timeout(const AgentConfig& config);

// Checks cross-field rules (e.g. timeout < interval). Errors: kInvalidArgument.
Status validate(const AgentConfig& config);

// This machine's host name reduced to a valid node id ([A-Za-z0-9_.-], at most 64 chars).
std::string default_node_id();

}  // namespace edgemon::firmware
