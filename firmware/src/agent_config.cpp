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
  c.interval_s = r.get_double("agent.interval", c.interval_s, 0.1, 3600);
  c.board_root = r.get_string("agent.board_root", c.board_root);
  const std::string level = r.get_string("log.level", "info");
  if (!log::parse_level(level, c.log_level)) r.add_error("log.level", "must be debug, info, warn or error");

  c.ping_hosts = r.get_string_array("ping.hosts", c.ping_hosts);
  c.ping_timeout_s = r.get_double("ping.timeout", c.ping_timeout_s, 0.01, 60);

  c.broker_host = r.get_string("mqtt.host", c.broker_host);
  c.broker_port = static_cast<int>(r.get_int("mqtt.port", c.broker_port, 1, 65535));
  c.username = r.get_string("mqtt.username", c.username);
  c.password = r.get_string("mqtt.password", c.password);
  c.keepalive_s = static_cast<int>(r.get_int("mqtt.keepalive", c.keepalive_s, 2, 3600));

  if (Status s = r.finish(); !s) return s.error();
  if (Status s = validate(c); !s) return s.error();
  return c;
}

double effective_ping_timeout(const AgentConfig& c) {
  if (c.ping_timeout_s > 0) return c.ping_timeout_s;
  return std::min(1.0, 0.8 * c.interval_s);
}

Status validate(const AgentConfig& c) {
  if (!valid_id(c.node_id)) return make_error(ErrorCode::kInvalidArgument, "node id '" + c.node_id + "' is invalid");
  if (c.interval_s < 0.1 || c.interval_s > 3600) {
    return make_error(ErrorCode::kInvalidArgument, "interval must be between 0.1 and 3600 seconds");
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
