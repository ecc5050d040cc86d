// WebhookChannel: HTTP(S) POST of the notification as JSON (see to_json): Slack's incoming
// webhooks read `text`; other receivers (Mattermost, Teams workflows, Alertmanager-style bridges,
// your own service) get the structured fields. 2xx is success.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "edgemon/notify/channel.h"

namespace edgemon::notify {

struct WebhookConfig {
  std::string url;                   // http:// or https://
  std::vector<std::string> headers;  // "Name: value", e.g. "Authorization: Bearer ..."
  std::chrono::milliseconds timeout{5000};
  bool allow_link_local = false;     // permit 169.254.0.0/16, fe80::/10, fd00:ec2::254 (metadata)
  bool verify_tls = true;
  std::string ca_file;
};

class WebhookChannel final : public Channel {
 public:
  explicit WebhookChannel(WebhookConfig config);
  const std::string& name() const override { return name_; }
  // Errors: see Channel::send. HTTP 408, 429 and 5xx are kUnavailable; other non-2xx are
  // kInvalidArgument (the receiver will not change its mind).
  Status send(const Notification& n, std::stop_token cancel) override;

 private:
  WebhookConfig config_;
  std::string name_ = "webhook";
};

}  // namespace edgemon::notify
