#include "edgemon/firmware/agent_config.h"

#include <unistd.h>

#include <algorithm>

#include "edgemon/common/telemetry.h"

namespace edgemon::firmware {

std::string default_node_id() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "node";
  std::string id;
  for (const char* p = name; *p != '\0' && id.size() < 64; ++p) {
    const char c = *p;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    id += ok ? c : '_';
  }
  return id;
}

Result<AgentConfig> read_agent_config(ConfigReader& r) {
  AgentConfig c;
  c.node_id = r.get_string("agent.node_id", default_node_id());
  if (!valid_id(c.node_id)) r.add_error("agent.node_id", "must be 1-64 characters of A-Z a-z 0-9 _ . -");
  c.group = r.get_string("agent.group", c.group);
  if (!valid_id(c.group)) r.add_error("agent.group", "must be 1-64 characters of A-Z a-z 0-9 _ . -");
  c.name = r.get_string("agent.name", c.name);
  if (c.name.size() > 128) r.add_error("agent.name", "must be at most 128 bytes");
  for (const char ch : c.name) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      r.add_error("agent.name", "must not contain control characters");
      break;
    }
  }
  c.interval_s = r.get_double("agent.interval", c.interval_s, 0.02, 3600);
  c.board_root = r.get_string("agent.board_root", c.board_root);
  const std::string level = r.get_string("log.level", "info");
  if (!log::parse_level(level, c.log_level)) r.add_error("log.level", "must be debug, info, warn or error");

  c.ping_hosts = r.get_string_array("ping.hosts", c.ping_hosts);
  c.ping_timeout_s = r.get_double("ping.timeout", c.ping_timeout_s, 0.01, 60);
  c.ping_count = static_cast<int>(r.get_int("ping.count", c.ping_count, 1, 100));
  c.failure_threshold = static_cast<int>(r.get_int("ping.failure_threshold", c.failure_threshold, 1, 1000));
  c.success_threshold = static_cast<int>(r.get_int("ping.success_threshold", c.success_threshold, 1, 1000));
  c.degraded_loss_pct = r.get_double("ping.degraded_loss", c.degraded_loss_pct, 0, 100);
  c.degraded_rtt_ms = r.get_double("ping.degraded_rtt", c.degraded_rtt_ms, 0, 60000);

  c.broker_host = r.get_string("mqtt.host", c.broker_host);
  c.broker_port = static_cast<int>(r.get_int("mqtt.port", c.broker_port, 1, 65535));
  c.username = r.get_string("mqtt.username", c.username);
  c.password = r.get_string("mqtt.password", c.password);
  c.keepalive_s = static_cast<int>(r.get_int("mqtt.keepalive", c.keepalive_s, 2, 3600));
  c.ca_file = r.get_string("mqtt.ca_file", c.ca_file);
  c.cert_file = r.get_string("mqtt.cert_file", c.cert_file);
  c.key_file = r.get_string("mqtt.key_file", c.key_file);
  c.tls_verify = r.get_bool("mqtt.tls_verify", c.tls_verify);
  c.reconnect_max_s = r.get_double("mqtt.reconnect_max", c.reconnect_max_s, 0.5, 3600);

  c.state_dir = r.get_string("agent.state_dir", c.state_dir);
  const std::string encoding = r.get_string("telemetry.encoding", "sparkplug");
  if (!parse_encoding(encoding, c.encoding)) r.add_error("telemetry.encoding", "must be \"sparkplug\" or \"json\"");
  c.primary_host = r.get_string("telemetry.primary_host", c.primary_host);
  if (!c.primary_host.empty() && !valid_id(c.primary_host)) {
    r.add_error("telemetry.primary_host", "must be empty or 1-64 characters of A-Z a-z 0-9 _ . -");
  }
  c.keyframe_interval_s = r.get_double("telemetry.keyframe_interval", c.keyframe_interval_s, 1, 86400);
  c.default_deadband = r.get_double("telemetry.deadband", c.default_deadband, 0, 1e12);
  c.deadbands = r.get_number_table("telemetry.deadbands", 0, 1e12);
  c.buffer_path = r.get_string("buffer.path", c.buffer_path);
  c.buffer_capacity = static_cast<std::size_t>(
      r.get_int("buffer.capacity", static_cast<std::int64_t>(c.buffer_capacity), 64 * 1024, std::int64_t{1} << 34));
  const std::string fsync = r.get_string("buffer.fsync", "interval");
  if (fsync == "always") {
    c.buffer_fsync = DiskRing::Fsync::kAlways;
  } else if (fsync == "interval") {
    c.buffer_fsync = DiskRing::Fsync::kInterval;
  } else if (fsync == "never") {
    c.buffer_fsync = DiskRing::Fsync::kNever;
  } else {
    r.add_error("buffer.fsync", "must be \"always\", \"interval\" or \"never\"");
  }
  c.buffer_fsync_interval_s = r.get_double("buffer.fsync_interval", c.buffer_fsync_interval_s, 0.1, 3600);
  c.buffer_confirm_after_s = r.get_double("buffer.confirm_after", c.buffer_confirm_after_s, 0, 3600);

  c.board = board::read_board_config(r);
  if (Status s = r.finish(); !s) return s.error();
  if (Status s = validate(c); !s) return s.error();
  return c;
}

Result<AgentConfig> apply_remote_config(const AgentConfig& base, std::string_view toml, const std::string& source) {
  auto reader = ConfigReader::parse(toml, source);
  if (!reader) return reader.error();
  ConfigReader& r = *reader;
  AgentConfig c = base;
  c.interval_s = r.get_double("agent.interval", c.interval_s, 0.02, 3600);
  c.ping_hosts = r.get_string_array("ping.hosts", c.ping_hosts);
  c.ping_timeout_s = r.get_double("ping.timeout", c.ping_timeout_s, 0.01, 60);
  c.ping_count = static_cast<int>(r.get_int("ping.count", c.ping_count, 1, 100));
  c.failure_threshold = static_cast<int>(r.get_int("ping.failure_threshold", c.failure_threshold, 1, 1000));
  c.success_threshold = static_cast<int>(r.get_int("ping.success_threshold", c.success_threshold, 1, 1000));
  c.degraded_loss_pct = r.get_double("ping.degraded_loss", c.degraded_loss_pct, 0, 100);
  c.degraded_rtt_ms = r.get_double("ping.degraded_rtt", c.degraded_rtt_ms, 0, 60000);
  c.default_deadband = r.get_double("telemetry.deadband", c.default_deadband, 0, 1e12);
  if (r.has("telemetry.deadbands")) c.deadbands = r.get_number_table("telemetry.deadbands", 0, 1e12);
  c.keyframe_interval_s = r.get_double("telemetry.keyframe_interval", c.keyframe_interval_s, 1, 86400);
  if (Status s = r.finish(); !s) return s.error();
  if (Status s = validate(c); !s) return s.error();
  return c;
}

std::string sequence_path(const AgentConfig& c) { return c.state_dir + "/sample-seq"; }

std::string buffer_path(const AgentConfig& c) {
  if (!c.buffer_path.empty()) return c.buffer_path;
  return c.state_dir + "/buffer.ring";
}

double effective_ping_timeout(const AgentConfig& c) {
  if (c.ping_timeout_s > 0) return c.ping_timeout_s;
  return std::min(1.0, 0.8 * c.interval_s);
}

Status validate(const AgentConfig& c) {
  if (!valid_id(c.node_id)) return make_error(ErrorCode::kInvalidArgument, "node id '" + c.node_id + "' is invalid");
  if (c.interval_s < 0.02 || c.interval_s > 3600) {
    return make_error(ErrorCode::kInvalidArgument, "interval must be between 0.02 and 3600 seconds");
  }
  if (effective_ping_timeout(c) >= c.interval_s) {
    return make_error(ErrorCode::kInvalidArgument, "ping.timeout must be shorter than agent.interval");
  }
  if (c.ping_hosts.size() > 256) {
    return make_error(ErrorCode::kInvalidArgument, "at most 256 ping hosts in this version");
  }
  for (const std::string& h : c.ping_hosts) {
    if (h.empty() || h.size() > 253) return make_error(ErrorCode::kInvalidArgument, "empty or overlong ping host");
  }
  return Status::Ok();
}

}  // namespace edgemon::firmware
