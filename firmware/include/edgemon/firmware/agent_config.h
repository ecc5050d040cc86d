// The agent's configuration: a TOML file (docs/config.md) overridden by command-line flags.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "edgemon/board/board_config.h"
#include "edgemon/common/config_reader.h"
#include "edgemon/common/log.h"
#include "edgemon/common/result.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/firmware/disk_ring.h"

namespace edgemon::firmware {

struct AgentConfig {
  std::string node_id;                 // default: this machine's host name, sanitised
  std::string group = "edgemon";
  std::string name;                    // display name (free text, published as agent/name); "" = none
  double interval_s = 5.0;             // sampling and ping period
  double ping_timeout_s = 0;            // 0: min(1 s, 0.8 x interval), see effective_ping_timeout()
  std::vector<std::string> ping_hosts = {"127.0.0.1"};
  int ping_count = 1;                  // echo requests per target per round
  int failure_threshold = 3;           // consecutive failed rounds -> DOWN
  int success_threshold = 2;           // consecutive good rounds to leave DOWN
  double degraded_loss_pct = 20;       // a round with more loss -> DEGRADED
  double degraded_rtt_ms = 0;          // a round with a higher average RTT -> DEGRADED (0: off)
  std::string board_root = "/";        // procfs/sysfs root; fixture trees in tests
  board::BoardConfig board;            // [sensors]: intervals, disabled sensors, 1-wire/I2C, sim
  std::string broker_host = "127.0.0.1";
  int broker_port = 1883;
  std::string username;
  std::string password;
  int keepalive_s = 10;
  std::string ca_file;                 // TLS when set
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;
  double reconnect_max_s = 30;         // cap of the jittered reconnect backoff
  log::Level log_level = log::Level::kInfo;

  std::string state_dir = "/var/lib/edgemon";  // the store-and-forward buffer lives here
  Encoding encoding = Encoding::kSparkplug;
  std::string primary_host = "edgemon-gateway";  // "" = do not wait for a primary host
  double keyframe_interval_s = 60;
  double default_deadband = 0.0;
  std::map<std::string, double> deadbands;       // metric-name prefix -> absolute deadband
  std::string buffer_path;                       // default <state_dir>/buffer.ring
  std::size_t buffer_capacity = 4 * 1024 * 1024;
  DiskRing::Fsync buffer_fsync = DiskRing::Fsync::kInterval;
  double buffer_fsync_interval_s = 5;
  // A record leaves the ring only when the primary host has stayed reachable this long after the
  // broker acknowledged it (the confirm window, docs/protocol.md "Completeness"); every new
  // session replays the unconfirmed records. Must exceed 1.5 x the host's MQTT keepalive plus its
  // history commit delay. 0: records leave on the broker's acknowledgement.
  double buffer_confirm_after_s = 60;
};

std::string buffer_path(const AgentConfig& config);
// The ring's sequence file (DiskRing::Options::sequence_path): in the state directory, apart from
// the ring, so sample numbers survive a damaged or deleted ring file.
std::string sequence_path(const AgentConfig& config);

// Reads every key of the config (see docs/config.md). Errors: kInvalidArgument listing each bad
// key with file:line.
Result<AgentConfig> read_agent_config(ConfigReader& reader);

double effective_ping_timeout(const AgentConfig& config);

// Remote configuration (NCMD "edgemon/config"): a TOML text with only these keys, applied over
// `base`: agent.interval, ping.hosts, ping.timeout, telemetry.deadband, [telemetry.deadbands],
// telemetry.keyframe_interval. Errors: kInvalidArgument naming the bad key (unknown keys
// included) — the caller keeps `base` running.
Result<AgentConfig> apply_remote_config(const AgentConfig& base, std::string_view toml, const std::string& source);

// Checks cross-field rules (e.g. timeout < interval). Errors: kInvalidArgument.
Status validate(const AgentConfig& config);

// This machine's host name reduced to a valid node id ([A-Za-z0-9_.-], at most 64 chars).
std::string default_node_id();

}  // namespace edgemon::firmware
