// MqttAlertChannel: the notification JSON on `<topic_prefix>/<node>` (default edgemon/alerts/...).
// It does not own an MQTT session: the gateway injects a publish function bound to its own
// MqttClient, so alerts share the connection, credentials and TLS the gateway already has.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "edgemon/notify/channel.h"

namespace edgemon::notify {

// Same contract as MqttClient::publish: kUnavailable when not connected.
using PublishFn = std::function<Status(const std::string& topic, const std::string& payload, int qos, bool retain)>;

struct MqttAlertConfig {
  std::string topic_prefix = "edgemon/alerts";
  int qos = 1;
  bool retain = false;  // alerts are events; a retained one would re-alert every new subscriber
};

// `<prefix>/<node>` with MQTT wildcards and separators in the node id replaced by '_' (node ids
// come from devices), and "_" for an empty id.
std::string alert_topic(std::string_view prefix, std::string_view node);

class MqttAlertChannel final : public Channel {
 public:
  MqttAlertChannel(MqttAlertConfig config, PublishFn publish);
  const std::string& name() const override { return name_; }
  // Errors: whatever the publish function returns (kUnavailable while disconnected: retried).
  Status send(const Notification& n, std::stop_token cancel) override;

 private:
  MqttAlertConfig config_;
  PublishFn publish_;
  std::string name_ = "mqtt";
};

}  // namespace edgemon::notify
