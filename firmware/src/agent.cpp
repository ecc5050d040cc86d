#include "edgemon/firmware/agent.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgemon/board/cpu_usage_sensor.h"
#include "edgemon/common/log.h"
#include "edgemon/common/telemetry_json.h"

namespace edgemon::firmware {
namespace {

constexpr const char* kLog = "agent";

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
}

}  // namespace

Agent::Agent(AgentConfig config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

Agent::~Agent() {
  if (mqtt_) mqtt_->stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string Agent::topic(MessageKind kind) const { return format_topic(config_.group, kind, config_.node_id); }

Status Agent::start() {
  auto pinger = IcmpPinger::open();
  if (!pinger) return pinger.error();
  pinger_ = std::move(*pinger);
  pinger_->set_targets(config_.ping_hosts);

  sensors_.push_back(std::make_unique<board::CpuUsageSensor>(config_.board_root));
  sensor_unsupported_.assign(sensors_.size(), false);

  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return make_error(ErrorCode::kIo, std::string("eventfd: ") + std::strerror(errno));

  MqttOptions mo;
  mo.host = config_.broker_host;
  mo.port = config_.broker_port;
  mo.client_id = "edgemon-agent-" + config_.group + "-" + config_.node_id;
  mo.username = config_.username;
  mo.password = config_.password;
  mo.keepalive_s = config_.keepalive_s;
  mqtt_ = std::make_unique<MqttClient>(mo);
  mqtt_->will_provider([this]() -> std::optional<MqttWill> {
    // A new session gets the next bdSeq; NBIRTH of that session carries the same number.
    TelemetryMessage death;
    death.kind = MessageKind::kDeath;
    death.timestamp_ms = to_unix_ms(clock_.wall());
    death.bd_seq = bd_seq_.fetch_add(1) + 1;
    return MqttWill{topic(MessageKind::kDeath), encode_json(death), 1, false};
  });
  mqtt_->on_connected([this] {
    need_birth_.store(true);
    const std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) {
      // The counter is only a wake-up; a full counter already means "wake".
    }
  });
  if (Status s = mqtt_->start(); !s) return s;
  log::info(kLog, "started", {{"node", config_.node_id}, {"group", config_.group},
                              {"interval_s", config_.interval_s}, {"targets", config_.ping_hosts.size()},
                              {"broker", mqtt_->server_uri()}});
  return Status::Ok();
}

std::vector<Metric> Agent::current_metrics(std::int64_t now_ms) const {
  std::vector<Metric> metrics;
  for (std::size_t i = 0; i < sensors_.size(); ++i) {
    if (sensor_unsupported_[i]) continue;
    for (const board::SensorValue& v : sensors_[i]->values()) {
      metrics.push_back(Metric{v.name, v.unit, v.value, now_ms});
    }
  }
  for (const PingResult& r : pinger_->results()) {
    metrics.push_back(Metric{"ping/" + r.host + "/rtt", "ms", r.rtt_ms, now_ms});
    metrics.push_back(Metric{"ping/" + r.host + "/up", "", r.rtt_ms ? 1.0 : 0.0, now_ms});
  }
  return metrics;
}

void Agent::publish(MessageKind kind, std::vector<Metric> metrics) {
  TelemetryMessage msg;
  msg.kind = kind;
  msg.timestamp_ms = to_unix_ms(clock_.wall());
  if (kind == MessageKind::kBirth) {
    seq_ = 0;
    msg.bd_seq = bd_seq_.load();
  }
  msg.seq = seq_;
  msg.metrics = std::move(metrics);
  Status s = mqtt_->publish(topic(kind), encode_json(msg), 1, false);
  if (!s) {
    ++publish_failures_;
    log::warn(kLog, "publish failed", {{"type", to_topic_word(kind)}, {"error", s.error().message},
                                       {"failures", publish_failures_}});
    return;
  }
  seq_ = (seq_ + 1) % 256;
  ++published_;
}

void Agent::begin_cycle(MonoTime now) {
  for (std::size_t i = 0; i < sensors_.size(); ++i) {
    if (sensor_unsupported_[i]) continue;
    Status s = sensors_[i]->fetch();
    if (!s) {
      if (s.error().code == ErrorCode::kUnsupported) {
        sensor_unsupported_[i] = true;
        log::warn(kLog, "sensor unsupported on this board", {{"sensor", sensors_[i]->id()},
                                                               {"reason", s.error().message}});
      } else {
        log::warn(kLog, "sensor read failed", {{"sensor", sensors_[i]->id()}, {"error", s.error().message}});
      }
    }
  }
  pinger_->start_round(now, to_ms(effective_ping_timeout(config_)));
}

void Agent::finish_cycle() {
  pinger_->end_round();
  if (!mqtt_->connected()) return;
  publish(MessageKind::kData, current_metrics(to_unix_ms(clock_.wall())));
}

int Agent::run(int stop_fd) {
  const auto interval = to_ms(config_.interval_s);
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  const auto watchdog_every = std::chrono::microseconds(watchdog_usec / 2);
  MonoTime next_watchdog = clock_.mono();
  MonoTime next_cycle = clock_.mono();
  sd_notify(0, "READY=1\nSTATUS=sampling");

  for (;;) {
    MonoTime now = clock_.mono();
    if (need_birth_.exchange(false)) {
      publish(MessageKind::kBirth, current_metrics(to_unix_ms(clock_.wall())));
    }
    if (now >= next_cycle) {
      if (pinger_->round_active()) finish_cycle();  // interval shorter than the round: close it
      begin_cycle(now);
      next_cycle += interval;
      if (next_cycle <= now) next_cycle = now + interval;  // fell behind (suspend): skip, don't burst
    }
    if (pinger_->round_active() && pinger_->round_done(now)) finish_cycle();
    if (watchdog && now >= next_watchdog) {
      sd_notify(0, "WATCHDOG=1");
      next_watchdog = now + watchdog_every;
    }

    MonoTime wake_at = next_cycle;
    if (auto d = pinger_->deadline(); d && pinger_->round_active()) wake_at = std::min(wake_at, *d);
    if (watchdog) wake_at = std::min(wake_at, next_watchdog);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - clock_.mono());
    const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));

    pollfd fds[3] = {{stop_fd, POLLIN, 0}, {pinger_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int rc = ::poll(fds, 3, timeout_ms);
    if (rc < 0 && errno != EINTR) {
      log::error(kLog, "poll failed", {{"error", std::strerror(errno)}});
      return 1;
    }
    if ((fds[0].revents & POLLIN) != 0) break;
    if ((fds[1].revents & POLLIN) != 0) pinger_->on_readable(clock_.mono());
    if ((fds[2].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      if (::read(wake_fd_, &count, sizeof count) < 0) {
        // EAGAIN: another turn already consumed it.
      }
    }
  }

  sd_notify(0, "STOPPING=1");
  log::info(kLog, "stopping", {{"published", published_}, {"publish_failures", publish_failures_}});
  if (mqtt_->connected()) {
    // A clean disconnect suppresses the will, so say goodbye explicitly.
    TelemetryMessage death;
    death.kind = MessageKind::kDeath;
    death.timestamp_ms = to_unix_ms(clock_.wall());
    death.bd_seq = bd_seq_.load();
    Status s = mqtt_->publish_and_wait(topic(MessageKind::kDeath), encode_json(death), 1, false,
                                       std::chrono::milliseconds(2000));
    if (!s) log::warn(kLog, "NDEATH not acknowledged", {{"error", s.error().message}});
  }
  mqtt_->stop();
  return 0;
}

}  // namespace edgemon::firmware
