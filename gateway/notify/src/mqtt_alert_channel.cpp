#include "edgemon/notify/mqtt_alert_channel.h"

namespace edgemon::notify {

std::string alert_topic(std::string_view prefix, std::string_view node) {
  std::string topic(prefix);
  while (!topic.empty() && topic.back() == '/') topic.pop_back();
  topic += '/';
  if (node.empty()) return topic + "_";
  for (const char c : node) {
    const bool bad = c == '/' || c == '+' || c == '#' || c == '\0' || static_cast<unsigned char>(c) < 0x20;
    topic += bad ? '_' : c;
  }
  return topic;
}

MqttAlertChannel::MqttAlertChannel(MqttAlertConfig config, PublishFn publish)
    : config_(std::move(config)), publish_(std::move(publish)) {}

Status MqttAlertChannel::send(const Notification& n, std::stop_token) {
  if (!publish_) return make_error(ErrorCode::kInternal, "mqtt alert: no publish function");
  return publish_(alert_topic(config_.topic_prefix, n.node), to_json(n), config_.qos, config_.retain);
}

}  // namespace edgemon::notify
