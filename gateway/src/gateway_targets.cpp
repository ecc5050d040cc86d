// Gateway: ping targets managed through the API (managed_targets.h has the protocol side).
#include <algorithm>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/gateway/gateway.h"
#include "edgemon/gateway/core/managed_targets.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "gateway";

std::string text_metric(const NodeState& node, const std::string& name) {
  const auto it = node.index.find(name);
  return it == node.index.end() ? std::string() : node.metrics[it->second].text;
}

}  // namespace

void Gateway::push_targets_if_needed(const NodeState& node) {
  const auto it = managed_.find(node.key);
  if (it == managed_.end() || !node.online || !mqtt_) return;
  if (text_metric(node, "agent/config/version") == it->second.version) return;
  const std::int64_t now_ms = to_unix_ms(clock_.wall());
  const TelemetryMessage cmd = config_command(targets_config_toml(it->second.hosts), it->second.version, now_ms);
  const std::string topic = format_topic(node.group, MessageKind::kCommand, node.id);
  if (Status s = mqtt_->publish(topic, encode(Encoding::kSparkplug, cmd), 1, false); !s) {
    log::warn(kLog, "cannot send targets to node; sent again at its next birth",
              {{"node", node.key}, {"error", s.error().message}});
    return;
  }
  log::info(kLog, "targets sent to node", {{"node", node.key}, {"version", it->second.version},
                                           {"targets", it->second.hosts.size()}});
}

ApiReply Gateway::targets_list() const {
  // Every probe metric "<family>/<target>/<field>" of every node, grouped by target.
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, node] : fleet_.nodes()) {
    std::map<std::pair<std::string, std::string>, nlohmann::json> targets;
    for (const Metric& m : node.metrics) {
      const std::string_view name = m.name;
      const auto first = name.find('/');
      const auto last = name.rfind('/');
      if (first == std::string_view::npos || last == first) continue;
      const std::string_view family = name.substr(0, first);
      if (family != "ping" && family != "tcp" && family != "http" && family != "grpc") continue;
      nlohmann::json& t = targets[{std::string(family), std::string(name.substr(first + 1, last - first - 1))}];
      if (t.is_null()) t = {{"values", nlohmann::json::object()}, {"ts", m.ts_ms}};
      t["values"][std::string(name.substr(last + 1))] = m.value ? nlohmann::json(*m.value) : nlohmann::json(nullptr);
      t["ts"] = std::max(t["ts"].get<std::int64_t>(), m.ts_ms);
    }
    const auto managed = managed_.find(key);
    for (auto& [id, t] : targets) {
      const bool is_managed = managed != managed_.end() && id.first == "ping" &&
                              std::find(managed->second.hosts.begin(), managed->second.hosts.end(), id.second) !=
                                  managed->second.hosts.end();
      out.push_back({{"node", key}, {"online", node.online}, {"family", id.first}, {"target", id.second},
                     {"managed", is_managed}, {"values", std::move(t["values"])}, {"ts", t["ts"]}});
    }
  }
  return json_reply(200, out);
}

ApiReply Gateway::targets_api(const std::string& method, std::string_view path, const std::string& body) {
  // /api/nodes/<group>/<node>/targets[/<host>]
  constexpr std::string_view kPrefix = "/api/nodes/";
  std::vector<std::string> parts;
  std::string_view rest = path.substr(kPrefix.size());
  while (!rest.empty() && parts.size() < 5) {
    const auto slash = rest.find('/');
    parts.push_back(decode_path_segment(rest.substr(0, slash)));  // device names may need escapes
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  const bool node_only = parts.size() == 2;
  if (!rest.empty() || parts.size() < 2 || parts.size() > 4 || (!node_only && parts[2] != "targets")) {
    return error_reply(404, "no such endpoint");
  }
  const NodeState* node = fleet_.find(parts[0], parts[1]);
  if (node == nullptr) return error_reply(404, "no such node");
  if (node_only) {  // /api/nodes/<group>/<node>: the node with its current values
    if (method != "GET" && method != "HEAD") {
      ApiReply r = error_reply(405, "method not allowed");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    return json_reply(200, node_view(*node));
  }
  const std::string& key = node->key;
  const auto describe = [&](unsigned status) {
    nlohmann::json out = {{"node", key},
                          {"targets", reported_targets(*node)},
                          {"config_version", text_metric(*node, "agent/config/version")},
                          {"config_status", text_metric(*node, "agent/config/status")},
                          {"managed", nullptr},
                          {"pending", false}};
    if (const auto it = managed_.find(key); it != managed_.end()) {
      out["managed"] = {{"targets", it->second.hosts}, {"version", it->second.version}, {"updated", it->second.updated_ms}};
      out["pending"] = it->second.version != out["config_version"].get<std::string>();
    }
    return json_reply(status, out);
  };

  const bool one = parts.size() == 4;
  if ((method == "GET" || method == "HEAD") && !one) return describe(200);
  std::string host;
  if (method == "POST" && !one) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("host") || !j["host"].is_string()) {
      return error_reply(400, "needs {\"host\": \"<IP address or host name>\"}");
    }
    host = j["host"].get<std::string>();
  } else if (method == "DELETE" && one) {
    host = parts[3];
  } else {
    ApiReply r = error_reply(405, "method not allowed");
    r.headers.emplace_back("Allow", one ? "DELETE" : "GET, HEAD, POST");
    return r;
  }
  if (Status s = validate_target_host(host); !s) return error_reply(400, s.error().message);

  // Start from what the API set before, else from what the node reports.
  const auto existing = managed_.find(key);
  std::vector<std::string> hosts = existing != managed_.end() ? existing->second.hosts : reported_targets(*node);
  const auto pos = std::find(hosts.begin(), hosts.end(), host);
  if (method == "POST") {
    if (pos != hosts.end()) return describe(200);  // already there: nothing to change
    if (hosts.size() >= 256) return error_reply(400, "at most 256 ping targets per node");
    hosts.push_back(host);
  } else {
    if (pos == hosts.end()) return error_reply(404, "the node has no such target");
    hosts.erase(pos);
  }
  const std::int64_t now_ms = to_unix_ms(clock_.wall());
  ManagedTargets& managed = managed_[key];
  managed.hosts = std::move(hosts);
  managed.version = "api-" + std::to_string(now_ms);
  managed.updated_ms = now_ms;
  WriteBatch batch;
  batch.node_configs.push_back(NodeConfig{key, managed_targets_json(managed.hosts), managed.version, now_ms});
  writer_->submit(std::move(batch));
  log::info(kLog, method == "POST" ? "target added" : "target removed", {{"node", key}, {"target", host}});
  push_targets_if_needed(*node);
  return describe(202);
}

}  // namespace edgemon::gateway
