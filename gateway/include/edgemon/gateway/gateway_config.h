// The gateway's configuration: a TOML file (docs/config.md) overridden by command-line flags.
#pragma once

#include <string>

#include "edgemon/auth/auth_config.h"
#include "edgemon/common/config_reader.h"
#include "edgemon/common/log.h"
#include "edgemon/common/result.h"
#include "edgemon/gateway/core/ingest.h"
#include "edgemon/gateway/live/mqtt_republish.h"
#include "edgemon/gateway/store/store.h"
#include "edgemon/notify/notify_config.h"
#include "edgemon/rules/rule.h"

namespace edgemon::gateway {

struct GatewayConfig {
  std::string host_id = "edgemon-gateway";  // Sparkplug primary host id
  // [gateway] io_nice: the niceness the io thread (ingest, live frames, HTTP) asks for, so it runs
  // ahead of background work (history queries run at 10) when the CPU is contended. Raising it
  // needs root or CAP_SYS_NICE; the packaged unit sets Nice=-5 for the process instead.
  int io_nice = -5;
  std::string state_dir = "/var/lib/edgemon";
  std::string database;                     // default: <state_dir>/edgemon.db
  SqliteOptions storage;                    // [storage] retention (days)
  // [storage] commit_interval_ms: history is committed at most this often (one transaction per
  // interval). Longer: fewer writes (flash wear, CPU: ADR 0007); shorter: notifications, which wait
  // for the commit of the alert state, leave sooner, and less is held in memory.
  std::chrono::milliseconds commit_interval{1000};
  double sla_pct = 99.9;                    // [reports] sla: the availability target of daily reports
  std::string broker_host = "127.0.0.1";
  int broker_port = 1883;
  std::string username;
  std::string password;
  double reconnect_max_s = 30;
  std::string http_bind = "127.0.0.1";
  int http_port = 8080;                     // 0: any free port (printed at start)
  std::string web_root = "/usr/share/edgemon/web";
  std::string tls_cert_file;                // [http] tls_cert_file + tls_key_file: HTTPS/WSS only
  std::string tls_key_file;
  log::Level log_level = log::Level::kInfo;
  rules::RuleSet rules;                     // [alerting], [[rules]], [[silences]], [[maintenance]]
  notify::NotifyConfig notify;              // [notify.webhook], [notify.email], [notify.mqtt]
  RepublishConfig republish;                // [republish]: readable JSON and Home Assistant discovery
  auth::AuthConfig auth;                    // [auth]: first admin, sessions, origins (docs/auth.md)
  IngestLimits limits;                      // [limits]: caps per account, group, node and fleet
  std::size_t ingress_queue_messages = 20'000;        // [limits] ingress_queue_messages
  std::size_t ingress_queue_bytes = 64 * 1024 * 1024;  // [limits] ingress_queue_bytes
};

// Errors: kInvalidArgument listing each bad key with file:line.
Result<GatewayConfig> read_gateway_config(ConfigReader& reader);
std::string database_path(const GatewayConfig& config);

}  // namespace edgemon::gateway
