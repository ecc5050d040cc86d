#include "edgemon/gateway/core/managed_targets.h"

#include <algorithm>

#include <nlohmann/json.hpp>

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
  constexpr std::string_view kPrefix = "ping/";
  constexpr std::string_view kSuffix = "/up";
  for (const Metric& m : node.metrics) {
    const std::string_view name = m.name;
    if (name.size() > kPrefix.size() + kSuffix.size() && name.substr(0, kPrefix.size()) == kPrefix &&
        name.substr(name.size() - kSuffix.size()) == kSuffix) {
      out.emplace_back(name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size()));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string managed_targets_json(const std::vector<std::string>& hosts) {
  return nlohmann::json{{"ping_hosts", hosts}}.dump();
}

std::optional<std::vector<std::string>> parse_managed_targets(std::string_view json) {
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ping_hosts") || !j["ping_hosts"].is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& h : j["ping_hosts"]) {
    if (!h.is_string() || !validate_target_host(h.get<std::string>())) return std::nullopt;
    out.push_back(h.get<std::string>());
  }
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

}  // namespace edgemon::gateway
