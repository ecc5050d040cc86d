#include "support/sparkplug_host.h"

#include <map>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace edgemon::test {

SparkplugHost::SparkplugHost(std::uint16_t broker_port, std::string host_id, std::string group)
    : host_id_(std::move(host_id)), group_(std::move(group)) {
  MqttOptions o;
  o.host = "127.0.0.1";
  o.port = broker_port;
  o.client_id = "test-host-" + host_id_;
  o.max_backoff = std::chrono::milliseconds(300);
  client_ = std::make_unique<MqttClient>(o);
  for (const char* kind : {"NBIRTH", "NDATA", "NDEATH"}) {
    client_->subscribe(std::string(kTopicNamespace) + "/" + group_ + "/" + kind + "/+", 1);
  }
  client_->will_provider([this]() -> std::optional<MqttWill> {
    return MqttWill{std::string(kTopicNamespace) + "/STATE/" + host_id_, R"({"online":false,"timestamp":0})", 1, true};
  });
  client_->on_connected([this] {
    if (online_) set_online(true);
  });
  client_->on_message([this](MqttIncoming&& in) {
    auto topic = parse_topic(in.topic);
    std::lock_guard lock(mutex_);
    if (!topic) {
      ++undecodable_;
      return;
    }
    auto msg = decode(in.payload, topic->kind);
    if (!msg) {
      ++undecodable_;
      return;
    }
    messages_.push_back({*topic, std::move(*msg), std::move(in.payload)});
  });
  (void)client_->start();
}

SparkplugHost::~SparkplugHost() { client_->stop(); }

void SparkplugHost::set_online(bool online) {
  online_ = online;
  const nlohmann::json state = {{"online", online}, {"timestamp", 0}};
  (void)client_->publish(std::string(kTopicNamespace) + "/STATE/" + host_id_, state.dump(), 1, true);
}

std::vector<ReceivedMessage> SparkplugHost::messages() {
  std::lock_guard lock(mutex_);
  return messages_;
}

std::size_t SparkplugHost::undecodable() {
  std::lock_guard lock(mutex_);
  return undecodable_;
}

bool SparkplugHost::wait_for(const std::function<bool(const std::vector<ReceivedMessage>&)>& pred,
                             std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred(resolve_aliases(messages()))) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status SparkplugHost::send_command(const std::string& node, const TelemetryMessage& cmd) {
  return client_->publish(format_topic(group_, MessageKind::kCommand, node), encode(Encoding::kSparkplug, cmd), 1, false);
}

std::optional<double> value_of(const TelemetryMessage& m, const std::string& name) {
  for (const Metric& metric : m.metrics) {
    if (metric.name == name) return metric.value;
  }
  return std::nullopt;
}

std::vector<ReceivedMessage> resolve_aliases(std::vector<ReceivedMessage> messages) {
  std::map<std::string, std::unordered_map<std::uint64_t, std::string>> births;  // node -> alias -> name
  for (ReceivedMessage& r : messages) {
    auto& table = births[r.topic.node];
    if (r.topic.kind == MessageKind::kBirth) {
      table.clear();
      for (const Metric& m : r.message.metrics) {
        if (m.alias) table[*m.alias] = m.name;
      }
    }
    for (Metric& m : r.message.metrics) {
      if (m.name.empty() && m.alias) {
        const auto it = table.find(*m.alias);
        if (it != table.end()) m.name = it->second;
      }
    }
  }
  return messages;
}

}  // namespace edgemon::test
