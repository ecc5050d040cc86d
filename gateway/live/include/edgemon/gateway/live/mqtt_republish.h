// Readable MQTT for people and Home Assistant (docs/protocol.md, "Readable JSON on MQTT").
//
// Besides Sparkplug's binary payloads, the gateway republishes what it knows about each node as
// retained JSON, so `mosquitto_sub -t 'edgemon/nodes/#' -v` shows the fleet:
//   <prefix>/<group>/<node>/state         the node document (as /api/nodes) plus a flat "values"
//                                         map name -> value; at most once a second per node,
//                                         at once when its status changes (QoS 0, retained)
//   <prefix>/<group>/<node>/availability  "online" / "offline", following birth and death
//                                         (QoS 1, retained)
// and, if enabled, Home Assistant MQTT discovery, one device per node:
//   <discovery_prefix>/device/<group>_<node>/config   (QoS 1, retained)
// with a sensor per numeric metric whose name is plain (A-Z a-z 0-9 _ . / -: a device cannot
// smuggle template syntax into Home Assistant), availability tied to the topic above.
#pragma once

#include <optional>
#include <string>

#include "edgemon/common/config_reader.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/fleet_state.h"

namespace edgemon::gateway {

struct RepublishConfig {
  bool enabled = true;
  std::string prefix = "edgemon/nodes";
  bool homeassistant = false;
  std::string discovery_prefix = "homeassistant";
};

// [republish] enabled, prefix, homeassistant, discovery_prefix. Problems are recorded in `r`.
RepublishConfig read_republish_config(ConfigReader& r);

struct MqttMessage {
  std::string topic;
  std::string payload;
};

// From the typed node (and its summary, when the aggregator knows it); JSON from api/node_json.h.
std::string node_topic(const RepublishConfig& config, const NodeState& node, const char* leaf);
MqttMessage state_message(const RepublishConfig& config, const NodeState& node, const NodeSummary* summary);
MqttMessage availability_message(const RepublishConfig& config, const NodeState& node);
// Always a device with its status sensor, plus a sensor per plain numeric metric.
std::optional<MqttMessage> discovery_message(const RepublishConfig& config, const NodeState& node,
                                             const std::string& gateway_version);

// True for metric names that are safe inside a Home Assistant template and a unique id.
bool plain_metric_name(const std::string& name);

}  // namespace edgemon::gateway
