// SparkplugHost: a test's own Sparkplug primary host — a real Paho client that subscribes to a
// group's node messages, decodes them, and publishes the retained STATE that lets agents send.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgemon/common/mqtt_client.h"
#include "edgemon/common/telemetry.h"

namespace edgemon::test {

struct ReceivedMessage {
  Topic topic;
  TelemetryMessage message;   // decoded; alias-only metrics keep empty names
  std::string raw;            // the payload bytes as received
};

class SparkplugHost {
 public:
  SparkplugHost(std::uint16_t broker_port, std::string host_id, std::string group = "edgemon");
  ~SparkplugHost();

  void set_online(bool online);       // publishes retained STATE
  bool connected() const { return client_->connected(); }
  std::vector<ReceivedMessage> messages();
  std::size_t undecodable();
  // Waits until pred(messages) is true or the timeout passes.
  bool wait_for(const std::function<bool(const std::vector<ReceivedMessage>&)>& pred, std::chrono::milliseconds timeout);
  // Publishes a command to a node (e.g. a rebirth request).
  Status send_command(const std::string& node, const TelemetryMessage& cmd);
  MqttClient& client() { return *client_; }

 private:
  std::string host_id_;
  std::string group_;
  bool online_ = false;
  std::unique_ptr<MqttClient> client_;
  std::mutex mutex_;
  std::vector<ReceivedMessage> messages_;
  std::size_t undecodable_ = 0;
};

// The value of metric `name` in `m`, by name or via the birth alias table `aliases`.
std::optional<double> value_of(const TelemetryMessage& m, const std::string& name);

// Resolves alias-only metrics of every NDATA using the NBIRTH before it (per node).
std::vector<ReceivedMessage> resolve_aliases(std::vector<ReceivedMessage> messages);

}  // namespace edgemon::test
