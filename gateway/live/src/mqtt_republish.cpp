#include "edgemon/gateway/live/mqtt_republish.h"

#include <set>

#include "edgemon/gateway/api/json_writer.h"
#include "edgemon/gateway/api/node_json.h"

namespace edgemon::gateway {
namespace {

bool valid_prefix(const std::string& p) {
  return !p.empty() && p.size() <= 128 && p.find_first_of("+#") == std::string::npos && p.front() != '/' &&
         p.back() != '/';
}

// A unique-id fragment: plain characters only, the rest as '_'.
std::string id_part(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

// Home Assistant device classes for the units the agent uses.
const char* device_class(const std::string& unit, const std::string& name) {
  if (unit == "°C") return "temperature";
  if (unit == "hPa") return "atmospheric_pressure";
  if (unit == "B") return "data_size";
  if (unit == "B/s") return "data_rate";
  if (unit == "ms" || unit == "s") return "duration";
  if (unit == "%" && name.find("humidity") != std::string::npos) return "humidity";
  return nullptr;
}

}  // namespace

RepublishConfig read_republish_config(ConfigReader& r) {
  RepublishConfig c;
  c.enabled = r.get_bool("republish.enabled", c.enabled);
  c.prefix = r.get_string("republish.prefix", c.prefix);
  if (!valid_prefix(c.prefix)) r.add_error("republish.prefix", "must be 1-128 characters without + # or a leading/trailing /");
  c.homeassistant = r.get_bool("republish.homeassistant", c.homeassistant);
  c.discovery_prefix = r.get_string("republish.discovery_prefix", c.discovery_prefix);
  if (!valid_prefix(c.discovery_prefix)) {
    r.add_error("republish.discovery_prefix", "must be 1-128 characters without + # or a leading/trailing /");
  }
  return c;
}

bool plain_metric_name(const std::string& name) {
  if (name.empty() || name.size() > 100) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string node_topic(const RepublishConfig& config, const NodeState& node, const char* leaf) {
  return config.prefix + "/" + node.group + "/" + node.id + "/" + leaf;
}

MqttMessage state_message(const RepublishConfig& config, const NodeState& node, const NodeSummary* summary) {
  JsonWriter w;
  write_node(w, node, summary, /*values=*/true);
  return {node_topic(config, node, "state"), w.take()};
}

MqttMessage availability_message(const RepublishConfig& config, const NodeState& node) {
  return {node_topic(config, node, "availability"), node.online ? "online" : "offline"};
}

std::optional<MqttMessage> discovery_message(const RepublishConfig& config, const NodeState& node,
                                             const std::string& gateway_version) {
  const std::string device_id = "edgemon_" + id_part(node.group) + "_" + id_part(node.id);
  // The device is named by the agent's display name (agent/name) when it has one.
  std::string display = node.id;
  if (const std::string_view name = node.text("agent/name"); !name.empty()) display = std::string(name);

  JsonWriter w;
  w.begin_object()
      .key("dev")
      .begin_object()
      .key("ids")
      .begin_array()
      .value(device_id)
      .end_array()
      .member("name", display)
      .member("mf", "edgemon")
      .member("mdl", "edgemon-agent")
      .member("sa", node.group)
      .end_object()
      .key("o")
      .begin_object()
      .member("name", "edgemon-gateway")
      .member("sw", gateway_version)
      .end_object()
      .member("stat_t", node_topic(config, node, "state"))
      .member("avty_t", node_topic(config, node, "availability"))
      .key("cmps")
      .begin_object();
  std::set<std::string> keys{"status"};  // component ids are unique; "status" is ours
  for (const MetricSlot& m : node.metrics) {
    const std::string& name = m.key.name();
    // Numeric metrics (a value not yet measured is still one; text metrics are not): the set stays
    // the same as values come and go, so the discovery is not sent again for that.
    if (!plain_metric_name(name) || m.type == MetricType::kString) continue;
    if (keys.size() > 200) break;
    if (!keys.insert(id_part(name)).second) continue;
    w.key(id_part(name))
        .begin_object()
        .member("p", "sensor")
        .member("name", name)
        .member("uniq_id", device_id + "_" + id_part(name))
        .member("val_tpl", "{{ value_json['values']['" + name + "'] }}")
        .member("stat_cla", "measurement");
    if (!m.unit.empty()) w.member("unit_of_meas", m.unit);
    if (const char* cls = device_class(m.unit, name)) w.member("dev_cla", cls);
    w.end_object();
  }
  // Always a status sensor: HEALTHY / DEGRADED / DOWN.
  w.key("status")
      .begin_object()
      .member("p", "sensor")
      .member("name", "status")
      .member("uniq_id", device_id + "_status")
      .member("val_tpl", "{{ value_json.status }}")
      .end_object();
  w.end_object().end_object();
  return MqttMessage{config.discovery_prefix + "/device/" + id_part(node.group) + "_" + id_part(node.id) + "/config",
                     w.take()};
}

}  // namespace edgemon::gateway
