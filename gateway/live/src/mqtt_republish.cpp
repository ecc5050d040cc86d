#include "edgemon/gateway/live/mqtt_republish.h"

namespace edgemon::gateway {
namespace {

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

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

std::string node_topic(const RepublishConfig& config, const nlohmann::json& node, const char* leaf) {
  return config.prefix + "/" + node.value("group", "") + "/" + node.value("id", "") + "/" + leaf;
}

MqttMessage state_message(const RepublishConfig& config, const nlohmann::json& node) {
  nlohmann::json doc = node;
  nlohmann::json values = nlohmann::json::object();
  if (node.contains("metrics") && node["metrics"].is_array()) {
    for (const auto& m : node["metrics"]) values[m.value("name", "")] = m.contains("value") ? m["value"] : nullptr;
  }
  doc["values"] = std::move(values);
  return {node_topic(config, node, "state"), dump(doc)};
}

MqttMessage availability_message(const RepublishConfig& config, const nlohmann::json& node) {
  return {node_topic(config, node, "availability"), node.value("online", false) ? "online" : "offline"};
}

std::optional<MqttMessage> discovery_message(const RepublishConfig& config, const nlohmann::json& node,
                                             const std::string& gateway_version) {
  const std::string group = node.value("group", "");
  const std::string id = node.value("id", "");
  const std::string device_id = "edgemon_" + id_part(group) + "_" + id_part(id);
  nlohmann::json components = nlohmann::json::object();
  if (node.contains("metrics") && node["metrics"].is_array()) {
    for (const auto& m : node["metrics"]) {
      const std::string name = m.value("name", "");
      // Numeric metrics (a value not yet measured is null; text metrics carry strings): the set
      // stays the same as values come and go, so the discovery is not sent again for that.
      if (!plain_metric_name(name) || !m.contains("value") || m["value"].is_string()) continue;
      if (components.size() >= 200) break;
      const std::string unit = m.value("unit", "");
      const std::string key = id_part(name);
      nlohmann::json c = {{"p", "sensor"},
                          {"name", name},
                          {"uniq_id", device_id + "_" + key},
                          {"val_tpl", "{{ value_json['values']['" + name + "'] }}"},
                          {"stat_cla", "measurement"}};
      if (!unit.empty()) c["unit_of_meas"] = unit;
      if (const char* cls = device_class(unit, name)) c["dev_cla"] = cls;
      components[key] = std::move(c);
    }
  }
  // The device is named by the agent's display name (agent/name) when it has one.
  std::string display = id;
  if (node.contains("metrics") && node["metrics"].is_array()) {
    for (const auto& m : node["metrics"]) {
      if (m.value("name", "") == "agent/name" && m.contains("value") && m["value"].is_string() &&
          !m["value"].get<std::string>().empty()) {
        display = m["value"].get<std::string>();
      }
    }
  }
  // Always a status sensor: HEALTHY / DEGRADED / DOWN.
  components["status"] = {{"p", "sensor"}, {"name", "status"}, {"uniq_id", device_id + "_status"},
                          {"val_tpl", "{{ value_json.status }}"}};
  const nlohmann::json payload = {
      {"dev", {{"ids", {device_id}}, {"name", display}, {"mf", "edgemon"}, {"mdl", "edgemon-agent"}, {"sa", group}}},
      {"o", {{"name", "edgemon-gateway"}, {"sw", gateway_version}}},
      {"stat_t", node_topic(config, node, "state")},
      {"avty_t", node_topic(config, node, "availability")},
      {"cmps", std::move(components)}};
  return MqttMessage{config.discovery_prefix + "/device/" + id_part(group) + "_" + id_part(id) + "/config", dump(payload)};
}

}  // namespace edgemon::gateway
