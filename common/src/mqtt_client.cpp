#include "edgemon/common/mqtt_client.h"

#include <random>

#include <mqtt/async_client.h>

#include "edgemon/common/log.h"

namespace edgemon {
namespace {
constexpr std::chrono::milliseconds kMinBackoff{500};
constexpr const char* kLog = "mqtt";
}  // namespace

// Paho's callback and action-listener interfaces, forwarding to MqttClient.
struct MqttClient::Impl final : public virtual mqtt::callback, public virtual mqtt::iaction_listener {
  Impl(MqttClient& owner, const std::string& uri, const std::string& client_id, int max_buffered)
      : self(owner),
        client(uri, client_id, mqtt::create_options(MQTTVERSION_3_1_1, max_buffered > 0 ? max_buffered : 1),
               nullptr) {
    client.set_callback(*this);
  }

  void connected(const std::string& /*cause*/) override { self.handle_connected(); }
  void connection_lost(const std::string& cause) override {
    log::warn(kLog, "connection lost", {{"broker", self.server_uri()}, {"cause", cause}});
    self.handle_lost();
  }
  void message_arrived(mqtt::const_message_ptr msg) override {
    if (!self.on_message_) return;
    MqttIncoming in;
    in.topic = msg->get_topic();
    in.payload = msg->get_payload_str();
    in.qos = msg->get_qos();
    in.retained = msg->is_retained();
    in.duplicate = msg->is_duplicate();
    self.on_message_(std::move(in));
  }
  void delivery_complete(mqtt::delivery_token_ptr /*tok*/) override {}

  // Connect attempt listener.
  void on_failure(const mqtt::token& tok) override {
    log::warn(kLog, "connect failed", {{"broker", self.server_uri()}, {"rc", tok.get_return_code()}});
    {
      std::lock_guard lock(self.mutex_);
      self.connecting_ = false;
    }
    self.schedule_retry();
  }
  void on_success(const mqtt::token& /*tok*/) override {
    // connected() follows from the callback interface; nothing to do here.
  }

  MqttClient& self;
  mqtt::async_client client;
};

MqttClient::MqttClient(MqttOptions options) : options_(std::move(options)) {}

MqttClient::~MqttClient() { stop(); }

std::string MqttClient::server_uri() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return std::string(options_.ca_file.empty() ? "tcp://" : "ssl://") + (v6 ? "[" + options_.host + "]" : options_.host) +
         ":" + std::to_string(options_.port);
}

namespace {

// Completes a Delivery from Paho's callback thread.
class DeliveryListener final : public mqtt::iaction_listener {
 public:
  DeliveryListener(std::shared_ptr<Delivery> delivery, std::function<void()> done)
      : delivery_(std::move(delivery)), done_(std::move(done)) {}
  void on_failure(const mqtt::token& /*tok*/) override { finish(false); }
  void on_success(const mqtt::token& /*tok*/) override { finish(true); }

 private:
  void finish(bool ok) {
    delivery_->complete(ok);
    if (done_) done_();
    delete this;  // one listener per publish; Paho calls exactly one of the two
  }
  std::shared_ptr<Delivery> delivery_;
  std::function<void()> done_;
};

}  // namespace

Result<std::shared_ptr<Delivery>> MqttClient::publish_tracked(const std::string& topic, const std::string& payload,
                                                              int qos) {
  if (!impl_ || !connected_.load()) return make_error(ErrorCode::kUnavailable, "not connected");
  auto delivery = std::make_shared<Delivery>();
  auto* listener = new DeliveryListener(delivery, on_delivery_);
  try {
    auto msg = mqtt::make_message(topic, payload.data(), payload.size(), qos, false);
    impl_->client.publish(msg, nullptr, *listener);
  } catch (const mqtt::exception& e) {
    delete listener;
    return make_error(ErrorCode::kUnavailable, std::string("publish failed: ") + e.what());
  }
  return delivery;
}

Status MqttClient::start() {
  try {
    impl_ = std::make_unique<Impl>(*this, server_uri(), options_.client_id, options_.max_buffered);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("cannot create MQTT client: ") + e.what());
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    next_attempt_ = std::chrono::steady_clock::now();
  }
  thread_ = std::thread([this] { reconnect_loop(); });
  return Status::Ok();
}

void MqttClient::stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (impl_) {
    try {
      if (impl_->client.is_connected()) {
        impl_->client.disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
      }
    } catch (const std::exception& e) {
      log::warn(kLog, "disconnect failed", {{"error", e.what()}});
    }
    connected_.store(false);
    impl_.reset();
  }
}

void MqttClient::reconnect_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (!connected_.load() && !connecting_ && now >= next_attempt_) {
      connecting_ = true;
      lock.unlock();
      attempt_connect();
      lock.lock();
      continue;
    }
    if (!connected_.load() && !connecting_) {
      wake_.wait_until(lock, next_attempt_);
    } else {
      wake_.wait(lock);
    }
  }
}

void MqttClient::attempt_connect() {
  mqtt::connect_options opts;
  opts.set_keep_alive_interval(options_.keepalive_s);
  opts.set_clean_session(true);
  opts.set_automatic_reconnect(false);
  opts.set_connect_timeout(std::chrono::seconds(5));
  if (!options_.username.empty()) opts.set_user_name(options_.username);
  if (!options_.password.empty()) opts.set_password(options_.password);
  if (!options_.ca_file.empty()) {
    mqtt::ssl_options ssl;
    ssl.set_trust_store(options_.ca_file);
    if (!options_.cert_file.empty()) ssl.set_key_store(options_.cert_file);
    if (!options_.key_file.empty()) ssl.set_private_key(options_.key_file);
    ssl.set_enable_server_cert_auth(options_.tls_verify);
    ssl.set_verify(options_.tls_verify);
    opts.set_ssl(ssl);
  }
  if (will_provider_) {
    if (auto will = will_provider_()) {
      opts.set_will(mqtt::will_options(will->topic, will->payload.data(), will->payload.size(), will->qos,
                                       will->retain));
    }
  }
  log::debug(kLog, "connecting", {{"broker", server_uri()}, {"client_id", options_.client_id}});
  try {
    impl_->client.connect(opts, nullptr, *impl_);
  } catch (const std::exception& e) {
    log::warn(kLog, "connect failed", {{"broker", server_uri()}, {"error", e.what()}});
    {
      std::lock_guard lock(mutex_);
      connecting_ = false;
    }
    schedule_retry();
  }
}

void MqttClient::schedule_retry() {
  static thread_local std::minstd_rand rng{std::random_device{}()};
  std::lock_guard lock(mutex_);
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  const auto delay = std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(backoff_.count()) * jitter(rng)));
  next_attempt_ = std::chrono::steady_clock::now() + delay;
  backoff_ = std::min(backoff_ * 2, std::max(options_.max_backoff, kMinBackoff));
  wake_.notify_all();
}

void MqttClient::handle_connected() {
  {
    std::lock_guard lock(mutex_);
    connecting_ = false;
    backoff_ = kMinBackoff;
  }
  connected_.store(true);
  connects_.fetch_add(1);
  log::info(kLog, "connected", {{"broker", server_uri()}, {"client_id", options_.client_id}});
  for (const Subscription& s : subscriptions_) {
    try {
      impl_->client.subscribe(s.filter, s.qos);
    } catch (const std::exception& e) {
      log::error(kLog, "subscribe failed", {{"filter", s.filter}, {"error", e.what()}});
    }
  }
  if (on_connected_) on_connected_();
}

void MqttClient::handle_lost() {
  connected_.store(false);
  if (on_disconnected_) on_disconnected_();
  schedule_retry();
}

Status MqttClient::publish(const std::string& topic, const std::string& payload, int qos, bool retain) {
  if (!impl_ || !connected_.load()) return make_error(ErrorCode::kUnavailable, "not connected");
  try {
    impl_->client.publish(topic, payload.data(), payload.size(), qos, retain);
  } catch (const mqtt::exception& e) {
    return make_error(ErrorCode::kUnavailable, std::string("publish failed: ") + e.what());
  }
  return Status::Ok();
}

Status MqttClient::publish_and_wait(const std::string& topic, const std::string& payload, int qos,
                                    bool retain, std::chrono::milliseconds timeout) {
  if (!impl_ || !connected_.load()) return make_error(ErrorCode::kUnavailable, "not connected");
  try {
    auto tok = impl_->client.publish(topic, payload.data(), payload.size(), qos, retain);
    if (!tok->wait_for(timeout)) return make_error(ErrorCode::kUnavailable, "publish not acknowledged in time");
  } catch (const mqtt::exception& e) {
    return make_error(ErrorCode::kUnavailable, std::string("publish failed: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace edgemon
