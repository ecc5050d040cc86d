// The [notify] sections of gateway.toml (reference: docs/notifications.md) and the factory that
// turns them into channels. A channel is enabled by the presence of its section.
//
//   [notify]          queue_capacity, max_attempts, initial_backoff, max_backoff (seconds)
//   [notify.webhook]  url, headers, timeout, verify_tls, ca_file, allow_link_local
//   [notify.email]    url, from, to, username, password, starttls, timeout, verify_tls, ca_file,
//                     allow_link_local
//   [notify.mqtt]     topic_prefix, qos, retain
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "edgemon/common/config_reader.h"
#include "edgemon/notify/channel.h"
#include "edgemon/notify/dispatcher.h"
#include "edgemon/notify/email_channel.h"
#include "edgemon/notify/mqtt_alert_channel.h"
#include "edgemon/notify/webhook_channel.h"

namespace edgemon::notify {

struct NotifyConfig {
  std::optional<WebhookConfig> webhook;
  std::optional<EmailConfig> email;
  std::optional<MqttAlertConfig> mqtt;
  DispatcherOptions dispatch;

  bool any() const { return webhook || email || mqtt; }
};

// Reads the sections above. Problems (bad types, ranges, URLs, addresses, header lines) are
// recorded in `r` with file:line:column; the caller calls r.finish() once after all its readers,
// which also reports unknown keys.
NotifyConfig read_notify_config(ConfigReader& r);

// One channel per configured section, in the order webhook, email, mqtt. `publish` is used only
// by the MQTT channel (bind it to the gateway's MqttClient::publish).
std::vector<std::unique_ptr<Channel>> make_channels(const NotifyConfig& config, PublishFn publish);

}  // namespace edgemon::notify
