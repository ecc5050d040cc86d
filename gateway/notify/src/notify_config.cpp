#include "edgemon/notify/notify_config.h"

#include <cmath>
#include <string_view>

namespace edgemon::notify {
namespace {

std::chrono::milliseconds seconds_to_ms(double s) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000.0)));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool has_control(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

NotifyConfig read_notify_config(ConfigReader& r) {
  NotifyConfig c;
  DispatcherOptions& d = c.dispatch;
  d.queue_capacity = static_cast<std::size_t>(
      r.get_int("notify.queue_capacity", static_cast<std::int64_t>(d.queue_capacity), 1, 100000));
  d.retry.max_attempts = static_cast<int>(r.get_int("notify.max_attempts", d.retry.max_attempts, 1, 20));
  d.retry.initial_backoff = seconds_to_ms(r.get_double("notify.initial_backoff", 1.0, 0.01, 3600));
  d.retry.max_backoff = seconds_to_ms(r.get_double("notify.max_backoff", 60.0, 0.01, 86400));
  if (d.retry.max_backoff < d.retry.initial_backoff) {
    r.add_error("notify.max_backoff", "must not be smaller than notify.initial_backoff");
  }

  if (r.has("notify.webhook")) {
    WebhookConfig w;
    w.url = r.get_string("notify.webhook.url", "");
    if (!starts_with(w.url, "http://") && !starts_with(w.url, "https://")) {
      r.add_error(r.has("notify.webhook.url") ? "notify.webhook.url" : "notify.webhook",
                  "webhook url must start with http:// or https://");
    }
    w.headers = r.get_string_array("notify.webhook.headers", {});
    for (const std::string& h : w.headers) {
      const std::size_t colon = h.find(':');
      if (colon == std::string::npos || colon == 0 || has_control(h)) {
        r.add_error("notify.webhook.headers", "each header must be one line 'Name: value', got '" + h + "'");
      }
    }
    w.timeout = seconds_to_ms(r.get_double("notify.webhook.timeout", 5.0, 0.1, 120));
    w.verify_tls = r.get_bool("notify.webhook.verify_tls", w.verify_tls);
    w.ca_file = r.get_string("notify.webhook.ca_file", "");
    w.allow_link_local = r.get_bool("notify.webhook.allow_link_local", false);
    c.webhook = std::move(w);
  }

  if (r.has("notify.email")) {
    EmailConfig e;
    e.url = r.get_string("notify.email.url", "");
    if (!starts_with(e.url, "smtp://") && !starts_with(e.url, "smtps://")) {
      r.add_error(r.has("notify.email.url") ? "notify.email.url" : "notify.email",
                  "email url must start with smtp:// or smtps://");
    }
    e.from = r.get_string("notify.email.from", "");
    if (!valid_mailbox(e.from)) {
      r.add_error(r.has("notify.email.from") ? "notify.email.from" : "notify.email",
                  "from must be a plain address like alerts@example.org");
    }
    e.to = r.get_string_array("notify.email.to", {});
    if (e.to.empty()) r.add_error(r.has("notify.email.to") ? "notify.email.to" : "notify.email", "to must list at least one address");
    for (const std::string& a : e.to) {
      if (!valid_mailbox(a)) r.add_error("notify.email.to", "not a plain address: '" + a + "'");
    }
    e.username = r.get_string("notify.email.username", "");
    e.password = r.get_string("notify.email.password", "");
    e.starttls = r.get_bool("notify.email.starttls", e.starttls);
    e.verify_tls = r.get_bool("notify.email.verify_tls", e.verify_tls);
    e.ca_file = r.get_string("notify.email.ca_file", "");
    e.timeout = seconds_to_ms(r.get_double("notify.email.timeout", 10.0, 0.1, 300));
    e.allow_link_local = r.get_bool("notify.email.allow_link_local", false);
    c.email = std::move(e);
  }

  if (r.has("notify.mqtt")) {
    MqttAlertConfig m;
    m.topic_prefix = r.get_string("notify.mqtt.topic_prefix", m.topic_prefix);
    if (m.topic_prefix.empty() || m.topic_prefix.find_first_of("+#") != std::string::npos ||
        has_control(m.topic_prefix)) {
      r.add_error("notify.mqtt.topic_prefix", "must be a non-empty topic without + or #");
    }
    m.qos = static_cast<int>(r.get_int("notify.mqtt.qos", m.qos, 0, 2));
    m.retain = r.get_bool("notify.mqtt.retain", m.retain);
    c.mqtt = std::move(m);
  }
  return c;
}

std::vector<std::unique_ptr<Channel>> make_channels(const NotifyConfig& config, PublishFn publish) {
  std::vector<std::unique_ptr<Channel>> out;
  if (config.webhook) out.push_back(std::make_unique<WebhookChannel>(*config.webhook));
  if (config.email) out.push_back(std::make_unique<EmailChannel>(*config.email));
  if (config.mqtt) out.push_back(std::make_unique<MqttAlertChannel>(*config.mqtt, std::move(publish)));
  return out;
}

}  // namespace edgemon::notify
