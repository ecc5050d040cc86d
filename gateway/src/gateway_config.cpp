#include "edgemon/gateway/gateway_config.h"

#include "edgemon/common/telemetry.h"
#include "edgemon/rules/rules_config.h"

namespace edgemon::gateway {

Result<GatewayConfig> read_gateway_config(ConfigReader& r) {
  GatewayConfig c;
  c.host_id = r.get_string("gateway.host_id", c.host_id);
  if (!valid_id(c.host_id)) r.add_error("gateway.host_id", "must be 1-64 characters of A-Z a-z 0-9 _ . -");
  c.state_dir = r.get_string("gateway.state_dir", c.state_dir);
  c.io_nice = static_cast<int>(r.get_int("gateway.io_nice", c.io_nice, -20, 19));
  c.database = r.get_string("storage.sqlite_path", c.database);
  const auto days = [&r](std::string_view key, std::chrono::milliseconds def) {
    const auto d = std::chrono::duration_cast<std::chrono::days>(def).count();
    return std::chrono::milliseconds(std::chrono::days(r.get_int(key, d, 1, 36500)));
  };
  c.storage.raw_retention = days("storage.raw_retention_days", c.storage.raw_retention);
  c.storage.minute_retention = days("storage.minute_retention_days", c.storage.minute_retention);
  c.storage.hour_retention = days("storage.hour_retention_days", c.storage.hour_retention);
  c.storage.event_retention = days("storage.event_retention_days", c.storage.event_retention);
  c.commit_interval = std::chrono::milliseconds(r.get_int("storage.commit_interval_ms", c.commit_interval.count(), 10, 10'000));
  c.sla_pct = r.get_double("reports.sla", c.sla_pct, 0.001, 100);
  c.broker_host = r.get_string("mqtt.host", c.broker_host);
  c.broker_port = static_cast<int>(r.get_int("mqtt.port", c.broker_port, 1, 65535));
  c.username = r.get_string("mqtt.username", c.username);
  c.password = r.get_string("mqtt.password", c.password);
  c.reconnect_max_s = r.get_double("mqtt.reconnect_max", c.reconnect_max_s, 0.5, 3600);
  c.http_bind = r.get_string("http.bind", c.http_bind);
  c.http_port = static_cast<int>(r.get_int("http.port", c.http_port, 0, 65535));
  c.web_root = r.get_string("http.web_root", c.web_root);
  c.tls_cert_file = r.get_string("http.tls_cert_file", c.tls_cert_file);
  c.tls_key_file = r.get_string("http.tls_key_file", c.tls_key_file);
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    r.add_error(c.tls_cert_file.empty() ? "http.tls_key_file" : "http.tls_cert_file",
                "set both http.tls_cert_file and http.tls_key_file, or neither");
  }
  const std::string level = r.get_string("log.level", "info");
  if (!log::parse_level(level, c.log_level)) r.add_error("log.level", "must be debug, info, warn or error");
  const auto size = [&r](std::string_view key, std::size_t def, std::int64_t min, std::int64_t max) {
    return static_cast<std::size_t>(r.get_int(key, static_cast<std::int64_t>(def), min, max));
  };
  IngestLimits& l = c.limits;
  l.max_nodes = size("limits.max_nodes", l.max_nodes, 1, 1'000'000);
  l.max_groups = size("limits.max_groups", l.max_groups, 1, 100'000);
  l.max_nodes_per_group = size("limits.max_nodes_per_group", l.max_nodes_per_group, 1, 1'000'000);
  l.max_groups_per_account = size("limits.max_groups_per_account", l.max_groups_per_account, 1, 10'000);
  l.max_metrics_per_node = size("limits.max_metrics_per_node", l.max_metrics_per_node, 1, 100'000);
  l.max_metrics_total = size("limits.max_metrics_total", l.max_metrics_total, 1, 100'000'000);
  l.max_targets_total = size("limits.max_targets_total", l.max_targets_total, 1, 10'000'000);
  l.max_message_bytes = size("limits.max_message_bytes", l.max_message_bytes, 64, static_cast<std::int64_t>(kMaxPayloadBytes));
  c.ingress_queue_messages = size("limits.ingress_queue_messages", c.ingress_queue_messages, 16, 10'000'000);
  c.ingress_queue_bytes = size("limits.ingress_queue_bytes", c.ingress_queue_bytes, 1 << 20, 2LL << 30);
  c.notify = notify::read_notify_config(r);
  c.republish = read_republish_config(r);
  c.auth = auth::read_auth_config(r);
  for (std::string_view key : rules::kRuleConfigKeys) r.claim(key);
  auto rule_set = rules::read_rules(r.root(), r.source_name());
  if (rule_set) {
    c.rules = std::move(*rule_set);
  } else {
    r.add_raw_error(rule_set.error().message);
  }
  if (Status s = r.finish(); !s) return s.error();
  return c;
}

std::string database_path(const GatewayConfig& c) {
  if (!c.database.empty()) return c.database;
  return c.state_dir + "/edgemon.db";
}

}  // namespace edgemon::gateway
