#include "edgemon/gateway/core/managed_targets.h"

#include <algorithm>

#include "edgemon/common/metric_key.h"
#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {

Status validate_target_host(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return make_error(ErrorCode::kInvalidArgument, "a target is 1-253 characters long");
  }
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == ':' || c == '-';
    if (!ok) {
      return make_error(ErrorCode::kInvalidArgument,
                        "a target is an IP address or a host name: only A-Z a-z 0-9 . : - are allowed");
    }
  }
  if (host.front() == '-' || host.front() == '.') {
    return make_error(ErrorCode::kInvalidArgument, "a target cannot start with '-' or '.'");
  }
  return Status::Ok();
}

std::vector<std::string> reported_targets(const NodeState& node) {
  std::vector<std::string> out;
  for (const MetricSlot& m : node.metrics) {
    if (m.key.family() == Family::kPing && m.key.leaf() == Leaf::kUp) out.emplace_back(m.key.target());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string targets_config_toml(const std::vector<std::string>& hosts) {
  std::string out = "[ping]\nhosts = [";
  for (std::size_t i = 0; i < hosts.size(); ++i) out += (i == 0 ? "\"" : ", \"") + hosts[i] + "\"";
  return out + "]\n";
}

TelemetryMessage config_command(const std::string& toml, const std::string& version, std::int64_t now_ms) {
  TelemetryMessage cmd;
  cmd.kind = MessageKind::kCommand;
  cmd.timestamp_ms = now_ms;
  Metric config = make_metric("edgemon/config", "", std::nullopt, now_ms, MetricType::kString);
  config.text = toml;
  cmd.metrics.push_back(std::move(config));
  Metric v = make_metric("edgemon/config_version", "", std::nullopt, now_ms, MetricType::kString);
  v.text = version;
  cmd.metrics.push_back(std::move(v));
  return cmd;
}

std::size_t ManagedTargets::restore(std::span<const NodeConfig> rows) {
  std::size_t unreadable = 0;
  for (const NodeConfig& c : rows) {
    bool ok = c.ping_hosts.has_value();
    if (ok) {
      for (const std::string& h : *c.ping_hosts) ok = ok && validate_target_host(h).ok();
    }
    if (!ok) {
      ++unreadable;
      continue;
    }
    entries_[c.node] = Entry{*c.ping_hosts, c.version, c.updated_ms};
  }
  return unreadable;
}

const ManagedTargets::Entry* ManagedTargets::find(std::string_view node_key) const {
  const auto it = entries_.find(node_key);
  return it == entries_.end() ? nullptr : &it->second;
}

bool ManagedTargets::managed(std::string_view node_key, std::string_view host) const {
  const Entry* e = find(node_key);
  return e != nullptr && std::find(e->hosts.begin(), e->hosts.end(), host) != e->hosts.end();
}

Result<ManagedTargets::Change> ManagedTargets::add(const NodeState& node, std::string_view host, std::int64_t now_ms) {
  return change(node, host, true, now_ms);
}

Result<ManagedTargets::Change> ManagedTargets::remove(const NodeState& node, std::string_view host,
                                                      std::int64_t now_ms) {
  return change(node, host, false, now_ms);
}

Result<ManagedTargets::Change> ManagedTargets::change(const NodeState& node, std::string_view host, bool add,
                                                      std::int64_t now_ms) {
  if (Status s = validate_target_host(host); !s) return s.error();
  const Entry* existing = find(node.key);
  std::vector<std::string> hosts = existing != nullptr ? existing->hosts : reported_targets(node);
  const auto pos = std::find(hosts.begin(), hosts.end(), host);
  if (add) {
    if (pos != hosts.end()) return Change{};  // already there: nothing to change
    if (hosts.size() >= kMaxTargets) {
      return make_error(ErrorCode::kInvalidArgument, "at most " + std::to_string(kMaxTargets) + " ping targets per node");
    }
    hosts.emplace_back(host);
  } else {
    if (pos == hosts.end()) return make_error(ErrorCode::kNotFound, "the node has no such target");
    hosts.erase(pos);
  }
  Entry& e = entries_[node.key];
  e.hosts = std::move(hosts);
  e.version = "api-" + std::to_string(now_ms);
  e.updated_ms = now_ms;
  Change c;
  c.changed = true;
  c.row = NodeConfig{node.key, e.hosts, e.version, now_ms};
  c.command = push_if_needed(node, now_ms);
  return c;
}

std::optional<NodeCommand> ManagedTargets::push_if_needed(const NodeState& node, std::int64_t now_ms) const {
  const Entry* e = find(node.key);
  if (e == nullptr || !node.online) return std::nullopt;
  if (node.text("agent/config/version") == e->version) return std::nullopt;
  return NodeCommand{node.group, node.id, config_command(targets_config_toml(e->hosts), e->version, now_ms)};
}

}  // namespace edgemon::gateway
