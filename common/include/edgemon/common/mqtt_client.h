// MqttClient: one MQTT session over Eclipse Paho C++ (async_client), with our own reconnect loop.
// Paho's automatic reconnect does not retry a failed *first* connect, so this class owns the whole
// policy: connect, and after any failure or loss retry with jittered exponential backoff
// (0.5 s doubling to 30 s, +-25 %). Subscriptions are renewed on every connect. The will is
// re-made before each attempt (Sparkplug's bdSeq changes per session).
//
// Threading: handlers run on Paho's or the reconnect thread; keep them short and hand work off.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edgemon/common/result.h"

namespace edgemon {

struct MqttWill {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = false;
};

struct MqttOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id;
  std::string username;
  std::string password;
  int keepalive_s = 10;
  // Paho's queue of publishes not yet handed to the socket. Too small and back-to-back QoS 1
  // publishes are refused ("no more messages can be buffered"); publish() itself still refuses
  // while disconnected, so this is not an offline buffer (the agent's ring is).
  int max_buffered = 256;
  // TLS: set ca_file to use TLS (ssl:// URI). cert_file/key_file: client certificate (optional).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;
  std::chrono::milliseconds max_backoff{30000};  // reconnect backoff cap
};

// The outcome of one tracked QoS >= 1 publish; completed by Paho's thread.
class Delivery {
 public:
  enum class State { kPending, kDelivered, kFailed };
  State state() const { return state_.load(); }
  void complete(bool ok) { state_.store(ok ? State::kDelivered : State::kFailed); }

 private:
  std::atomic<State> state_{State::kPending};
};

struct MqttIncoming {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
  bool duplicate = false;
};

class MqttClient {
 public:
  using MessageHandler = std::function<void(MqttIncoming&&)>;
  using EventHandler = std::function<void()>;
  using WillProvider = std::function<std::optional<MqttWill>()>;

  explicit MqttClient(MqttOptions options);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Set before start().
  void on_message(MessageHandler handler) { on_message_ = std::move(handler); }
  void on_connected(EventHandler handler) { on_connected_ = std::move(handler); }
  void on_disconnected(EventHandler handler) { on_disconnected_ = std::move(handler); }
  void will_provider(WillProvider provider) { will_provider_ = std::move(provider); }
  void subscribe(std::string topic_filter, int qos) { subscriptions_.push_back({std::move(topic_filter), qos}); }

  // Starts connecting in the background. Errors: kInvalidArgument (bad URI / client id).
  Status start();
  // Disconnects (a clean disconnect: the broker does not publish the will) and joins threads.
  void stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

  bool connected() const { return connected_.load(); }
  std::uint64_t connects() const { return connects_.load(); }

  // Errors: kUnavailable (not connected, or Paho refused), kInvalidArgument (bad topic).
  Status publish(const std::string& topic, const std::string& payload, int qos, bool retain);
  // Publishes and returns a Delivery that completes when the broker acknowledges (or the attempt
  // fails); `on_delivery` (set below) runs after each completion. Errors: kUnavailable.
  Result<std::shared_ptr<Delivery>> publish_tracked(const std::string& topic, const std::string& payload, int qos);
  void on_delivery(EventHandler handler) { on_delivery_ = std::move(handler); }
  // Publishes and waits for the broker's acknowledgement (QoS >= 1) or until timeout.
  Status publish_and_wait(const std::string& topic, const std::string& payload, int qos, bool retain,
                          std::chrono::milliseconds timeout);

  std::string server_uri() const;

 private:
  struct Impl;
  struct Subscription {
    std::string filter;
    int qos;
  };

  void reconnect_loop();
  void attempt_connect();
  void handle_connected();
  void handle_lost();
  void schedule_retry();

  MqttOptions options_;
  MessageHandler on_message_;
  EventHandler on_connected_;
  EventHandler on_disconnected_;
  EventHandler on_delivery_;
  WillProvider will_provider_;
  std::vector<Subscription> subscriptions_;

  std::unique_ptr<Impl> impl_;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connects_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool connecting_ = false;
  std::chrono::milliseconds backoff_{500};
  std::chrono::steady_clock::time_point next_attempt_{};
  std::thread thread_;
};

}  // namespace edgemon
