#include "edgemon/firmware/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"
#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/probe/ping_metrics.h"
#include "edgemon/probe/socket_api.h"

namespace edgemon::firmware {
namespace {

constexpr const char* kLog = "agent";
constexpr const char* kRebirthMetric = "Node Control/Rebirth";
constexpr const char* kConfigMetric = "edgemon/config";
constexpr const char* kConfigVersionMetric = "edgemon/config_version";

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
}

probe::EngineOptions engine_options(const AgentConfig& c) {
  probe::EngineOptions o;
  o.count = static_cast<std::uint32_t>(c.ping_count);
  o.timeout = to_ms(effective_ping_timeout(c));
  // Several probes per round are spread over the first 80 % of the interval.
  if (c.ping_count > 1) {
    o.period = std::max<std::chrono::nanoseconds>(
        std::chrono::milliseconds(10), (to_ms(c.interval_s * 0.8) - o.timeout) / (c.ping_count - 1));
  }
  o.health.failure_threshold = static_cast<std::uint32_t>(c.failure_threshold);
  o.health.success_threshold = static_cast<std::uint32_t>(c.success_threshold);
  o.health.degraded_loss_pct = c.degraded_loss_pct;
  o.health.degraded_avg_ms = c.degraded_rtt_ms;
  return o;
}

ReportPolicy report_policy(const AgentConfig& c) {
  ReportPolicy p;
  p.default_deadband = c.default_deadband;
  p.deadbands = c.deadbands;
  p.keyframe_every = to_ms(c.keyframe_interval_s);
  return p;
}

}  // namespace

Agent::Agent(AgentConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), telemetry_(report_policy(config_)) {}

Agent::~Agent() {
  if (mqtt_) mqtt_->stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string Agent::topic(MessageKind kind) const { return format_topic(config_.group, kind, config_.node_id); }

void Agent::wake() {
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // EAGAIN: the counter is saturated, which already means "wake up".
  }
}

Status Agent::start() {
  auto engine = probe::PingEngine::create(probe::PosixSocketApi::instance(), clock_, engine_options(config_));
  if (!engine) return engine.error();
  engine_ = std::move(*engine);
  if (Status s = engine_->set_targets(config_.ping_hosts); !s) return s;

  config_.board.root = config_.board_root;
  auto sensors = board::make_sensors(config_.board, clock_);
  if (!sensors) return sensors.error();  // a bad or missing simulation scenario
  sampler_ = std::make_unique<board::Sampler>(std::move(*sensors), config_.board);

  const std::string ring_path = buffer_path(config_);
  std::error_code fs_error;
  std::filesystem::create_directories(std::filesystem::path(ring_path).parent_path(), fs_error);
  DiskRing::Options ro;
  ro.path = ring_path;
  ro.capacity = config_.buffer_capacity;
  ro.fsync = config_.buffer_fsync;
  ro.fsync_interval = to_ms(config_.buffer_fsync_interval_s);
  ro.sequence_path = sequence_path(config_);
  std::filesystem::create_directories(std::filesystem::path(ro.sequence_path).parent_path(), fs_error);
  auto ring = DiskRing::open(ro);
  if (!ring) return ring.error();
  ring_ = std::move(*ring);
  cursor_ = ring_->begin();

  load_persisted_remote();

  // bdSeq continues across restarts (docs/protocol.md): the last session's number is in the
  // state directory, apart from the buffer, so a damaged or replaced buffer does not reset it.
  bd_file_ = std::make_unique<BdSeqFile>(config_.state_dir + "/bdseq");
  const BdSeqFile::Loaded bd = bd_file_->load();
  if (!bd.problem.empty()) {
    log::warn(kLog, "bdSeq file unreadable; counting from 0", {{"path", bd_file_->path()}, {"error", bd.problem}});
  }
  if (bd.last) last_bd_seq_.store(*bd.last);

  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return make_error(ErrorCode::kIo, std::string("eventfd: ") + std::strerror(errno));

  MqttOptions mo;
  mo.host = config_.broker_host;
  mo.port = config_.broker_port;
  mo.client_id = "edgemon-agent-" + config_.group + "-" + config_.node_id;
  mo.username = config_.username;
  mo.password = config_.password;
  mo.keepalive_s = config_.keepalive_s;
  mo.ca_file = config_.ca_file;
  mo.cert_file = config_.cert_file;
  mo.key_file = config_.key_file;
  mo.tls_verify = config_.tls_verify;
  mo.max_backoff = to_ms(config_.reconnect_max_s);
  mqtt_ = std::make_unique<MqttClient>(mo);
  mqtt_->subscribe(topic(MessageKind::kCommand), 1);
  if (!config_.primary_host.empty()) {
    mqtt_->subscribe(std::string(kTopicNamespace) + "/STATE/" + config_.primary_host, 1);
  } else {
    host_online_.store(true);
  }
  mqtt_->will_provider([this]() -> std::optional<MqttWill> {
    // A new session gets the next bdSeq (0..255); the NBIRTH of that session carries the same
    // number. It is taken only when the connect succeeds (on_connected): an attempt that fails
    // leaves no will at the broker, and the next attempt offers the same number.
    const int last = last_bd_seq_.load();
    const std::uint8_t next =
        BdSeqFile::next(last < 0 ? std::nullopt : std::optional<std::uint8_t>(static_cast<std::uint8_t>(last)));
    offered_bd_seq_.store(next);
    TelemetryMessage death;
    death.kind = MessageKind::kDeath;
    death.timestamp_ms = to_unix_ms(clock_.wall());
    death.bd_seq = next;
    return MqttWill{topic(MessageKind::kDeath), encode(config_.encoding, death), 1, false};
  });
  mqtt_->on_connected([this] {
    const std::uint8_t taken = offered_bd_seq_.load();
    bd_seq_.store(taken);
    last_bd_seq_.store(taken);
    if (Status s = bd_file_->store(taken); !s) {
      log::warn(kLog, "cannot persist bdSeq", {{"path", bd_file_->path()}, {"error", s.error().message}});
    }
    need_rewind_.store(true);
    need_birth_.store(true);
    wake();
  });
  mqtt_->on_disconnected([this] {
    // Sparkplug: after a reconnect, wait for the primary host's STATE again.
    if (!config_.primary_host.empty()) host_online_.store(false);
    wake();
  });
  mqtt_->on_delivery([this] { wake(); });
  mqtt_->on_message([this](MqttIncoming&& in) {
    {
      std::lock_guard lock(commands_mutex_);
      if (commands_.size() < 64) commands_.push_back(in.topic + '\n' + in.payload);
    }
    wake();
  });
  if (Status s = mqtt_->start(); !s) return s;
  log::info(kLog, "started", {{"node", config_.node_id}, {"group", config_.group},
                              {"interval_s", config_.interval_s}, {"targets", config_.ping_hosts.size()},
                              {"broker", mqtt_->server_uri()}, {"buffer", ring_path},
                              {"buffered", ring_->size()},
                              {"primary_host", config_.primary_host.empty() ? "-" : config_.primary_host}});
  return Status::Ok();
}

std::vector<Metric> Agent::current_metrics(std::int64_t now_ms, bool for_birth) const {
  std::vector<Metric> metrics;
  // Percentages, temperatures, latencies and the like need no more than a float's 7 digits:
  // sending them as Sparkplug Float saves 4 bytes a value. Counters and byte counts stay wide.
  const auto wire_type = [](std::string_view unit) {
    return unit == "%" || unit == "ms" || unit == "°C" || unit == "dBm" || unit == "hPa" || unit == "MHz"
               ? MetricType::kFloat : MetricType::kDouble;
  };
  sampler_->for_each_value([&](const board::SensorValue& v) {
    metrics.push_back(make_metric(v.name, v.unit, v.value, now_ms, wire_type(v.unit)));
  });
  probe::append_ping_metrics(engine_->results(), now_ms, metrics);
  // The agent's own health, so buffer losses are visible at the gateway. sample_seq is the
  // buffer's record number for this sample: it increases by one per sample across restarts, so
  // a receiver can prove that nothing is missing.
  // A birth reports the last sample's number (not the next one), so the next sample's own number
  // always differs from what the birth announced and report-by-exception never hides it.
  std::optional<double> seq = static_cast<double>(ring_->next_seq());
  if (for_birth) seq = ring_->next_seq() == 0 ? std::nullopt : std::optional<double>(static_cast<double>(ring_->next_seq() - 1));
  metrics.push_back(make_metric("agent/sample_seq", "", seq, now_ms, MetricType::kUInt64));
  metrics.push_back(make_metric("agent/buffer/dropped", "", static_cast<double>(dropped()), now_ms, MetricType::kUInt64));
  metrics.push_back(make_metric("agent/buffer/damaged", "", static_cast<double>(ring_->stats().damaged), now_ms,
                                MetricType::kUInt64));
  metrics.push_back(make_metric("agent/buffer/records", "", static_cast<double>(ring_->size()), now_ms, MetricType::kUInt64));
  if (!config_.name.empty()) {  // the display name: any text, shown by the dashboard as text
    Metric name = make_metric("agent/name", "", std::nullopt, now_ms, MetricType::kString);
    name.text = config_.name;
    metrics.push_back(std::move(name));
  }
  Metric version = make_metric("agent/config/version", "", std::nullopt, now_ms, MetricType::kString);
  version.text = config_version_;
  metrics.push_back(std::move(version));
  Metric status = make_metric("agent/config/status", "", std::nullopt, now_ms, MetricType::kString);
  status.text = config_status_;
  metrics.push_back(std::move(status));
  return metrics;
}

std::uint64_t Agent::dropped() const {
  const std::uint64_t ring = ring_->stats().dropped;
  return ring >= evicted_but_delivered_ ? ring - evicted_but_delivered_ : 0;
}

bool Agent::can_send() const { return mqtt_->connected() && host_online_.load(); }

void Agent::publish_birth(MonoTime now) {
  TelemetryMessage birth = telemetry_.make_birth(current_metrics(to_unix_ms(clock_.wall()), /*for_birth=*/true),
                                                 to_unix_ms(clock_.wall()), bd_seq_.load(), now);
  seq_ = 0;
  birth.seq = seq_;
  if (need_rewind_.exchange(false)) {
    // A new connection, the host back, or the host asking: what was sent before is not proven to
    // have reached it. Send the ring again from its oldest record (the confirm window first).
    rewind();
  } else if (in_flight_) {
    // A birth of our own (a new metric set): only the record in flight belongs to the old numbering.
    in_flight_.reset();
    cursor_ = in_flight_at_;
  }
  Status s = mqtt_->publish(topic(MessageKind::kBirth), encode(config_.encoding, birth), 1, false);
  if (!s) {
    log::warn(kLog, "NBIRTH not sent", {{"error", s.error().message}});
    need_birth_.store(true);
    return;
  }
  seq_ = 1;
  birth_sent_ = true;
  log::info(kLog, "birth published", {{"bdSeq", birth.bd_seq}, {"metrics", birth.metrics.size()},
                                      {"buffered", ring_->size()}});
}

void Agent::rewind() {
  in_flight_.reset();  // its record belongs to the previous session's numbering: sent again
  unconfirmed_.clear();
  cursor_ = ring_->begin();
}

void Agent::forget_evicted() {
  // A full ring drops its oldest records, which may be in the confirm window: the broker had them.
  while (!unconfirmed_.empty() && (ring_->empty() || unconfirmed_.front().seq < ring_->front_seq())) {
    unconfirmed_.pop_front();
    ++evicted_but_delivered_;
  }
}

std::optional<MonoTime> Agent::next_confirm() const {
  if (unconfirmed_.empty() || !can_send()) return std::nullopt;
  return unconfirmed_.front().acked + to_ms(config_.buffer_confirm_after_s);
}

void Agent::confirm(MonoTime now) {
  if (!can_send()) return;  // the host is away (or we are): nothing is proven, everything stays
  const auto after = to_ms(config_.buffer_confirm_after_s);
  while (!unconfirmed_.empty() && now - unconfirmed_.front().acked >= after) {
    const std::uint64_t seq = unconfirmed_.front().seq;
    unconfirmed_.pop_front();
    // Done with the ring up to `seq`: it, and records before it that could not be sent (undecodable).
    while (!ring_->empty() && ring_->front_seq() <= seq) {
      if (Status s = ring_->pop_front(); !s) {
        log::error(kLog, "buffer pop failed", {{"error", s.error().message}});
        return;
      }
    }
  }
}

// Sends the ring's records in order, one QoS 1 publish in flight; an acknowledged record joins the
// confirm window (confirm()).
void Agent::pump(MonoTime now) {
  for (int budget = 0; budget < 256; ++budget) {
    if (in_flight_) {
      const Delivery::State st = in_flight_->state();
      if (st == Delivery::State::kPending) return;
      in_flight_.reset();
      if (st == Delivery::State::kFailed) return;  // stays in the ring; sent again next session
      ++delivered_;
      if (ring_->empty() || ring_->front_seq() > in_flight_record_) {
        ++evicted_but_delivered_;  // a full ring evicted it while in flight, yet the broker has it
      } else {
        unconfirmed_.push_back(Sent{in_flight_record_, now});
      }
      cursor_ = in_flight_next_;
      confirm(now);
    }
    if (!can_send() || !birth_sent_) return;
    auto next = ring_->read(cursor_);
    if (!next && next.error().code == ErrorCode::kNotFound) {
      if (ring_->empty() || cursor_.seq >= ring_->next_seq()) return;  // everything is sent
      cursor_ = ring_->begin();  // the cursor's record was evicted: go on from the oldest
      continue;
    }
    if (!next) {
      // Unreadable: drop it and what is before it (those were sent already) rather than stall.
      log::error(kLog, "buffer record unreadable; skipping it", {{"error", next.error().message}, {"seq", cursor_.seq}});
      while (!ring_->empty() && ring_->front_seq() <= cursor_.seq) {
        if (!ring_->pop_front()) break;
      }
      unconfirmed_.clear();  // all before the cursor: popped with it
      cursor_ = ring_->begin();
      continue;
    }
    auto& [record, after] = *next;
    auto msg = decode_sparkplug(record.payload, MessageKind::kData);
    if (!msg) {
      log::error(kLog, "buffer record undecodable; skipping it", {{"error", msg.error().message}, {"seq", record.seq}});
      cursor_ = after;
      continue;
    }
    // Samples that waited in the buffer (offline, or older than two intervals) are historical.
    const bool stale = to_unix_ms(clock_.wall()) - msg->timestamp_ms > 2 * to_ms(config_.interval_s).count();
    const bool historical = (record.flags & kStoredWhileOffline) != 0 || stale;
    for (Metric& m : msg->metrics) m.historical = historical;
    telemetry_.assign_aliases(msg->metrics);
    msg->seq = seq_;
    auto delivery = mqtt_->publish_tracked(topic(MessageKind::kData), encode(config_.encoding, *msg), 1);
    if (!delivery) return;  // disconnected; the record stays
    in_flight_ = std::move(*delivery);
    in_flight_record_ = record.seq;
    in_flight_at_ = cursor_;
    in_flight_next_ = after;
    seq_ = (seq_ + 1) % 256;
  }
}

void Agent::handle_commands() {
  std::deque<std::string> batch;
  {
    std::lock_guard lock(commands_mutex_);
    batch.swap(commands_);
  }
  for (const std::string& raw : batch) {
    const std::size_t nl = raw.find('\n');
    const std::string topic_name = raw.substr(0, nl);
    const std::string_view payload = std::string_view(raw).substr(nl + 1);
    if (topic_name.rfind(std::string(kTopicNamespace) + "/STATE/", 0) == 0) {
      const auto j = nlohmann::json::parse(payload, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("online") || !j["online"].is_boolean()) {
        ++rejected_commands_;
        log::warn(kLog, "ignoring malformed STATE", {{"topic", topic_name}});
        continue;
      }
      const bool online = j["online"].get<bool>();
      const bool was = host_online_.exchange(online);
      if (online && !was) {
        log::info(kLog, "primary host online", {{"host", config_.primary_host}});
        need_rewind_.store(true);
        need_birth_.store(true);  // Sparkplug: a host coming online gets fresh births
      } else if (!online && was) {
        log::warn(kLog, "primary host offline; buffering", {{"host", config_.primary_host}});
      }
      continue;
    }
    auto cmd = decode(payload, MessageKind::kCommand);
    if (!cmd) {
      ++rejected_commands_;
      log::warn(kLog, "rejected NCMD", {{"reason", cmd.error().message}, {"rejected", rejected_commands_}});
      continue;
    }
    const Metric* config = nullptr;
    std::string version;
    for (const Metric& m : cmd->metrics) {
      if (m.name == kRebirthMetric && m.value && *m.value != 0.0) {
        log::info(kLog, "rebirth requested");
        need_rewind_.store(true);
        need_birth_.store(true);
      } else if (m.name == kConfigMetric && m.type == MetricType::kString) {
        config = &m;
      } else if (m.name == kConfigVersionMetric) {
        version = m.type == MetricType::kString ? m.text : (m.value ? std::to_string(static_cast<std::int64_t>(*m.value)) : "");
      } else {
        ++rejected_commands_;
        log::warn(kLog, "unknown NCMD metric", {{"metric", m.name}});
      }
    }
    if (config != nullptr) apply_remote(config->text, version.empty() ? "unversioned" : version, true);
  }
}

void Agent::apply_remote(const std::string& toml, const std::string& version, bool persist) {
  auto next = apply_remote_config(config_, toml, "remote config " + version);
  if (!next) {
    config_status_ = "rejected: " + next.error().message;
    ++rejected_commands_;
    log::warn(kLog, "remote config rejected; the previous one keeps running",
              {{"version", version}, {"reason", next.error().message}});
    return;
  }
  if (engine_) {
    // The engine's options (timeout, count, thresholds) may have changed: make a new one.
    auto engine = probe::PingEngine::create(probe::PosixSocketApi::instance(), clock_, engine_options(*next));
    if (!engine) {
      config_status_ = "rejected: " + engine.error().message;
      ++rejected_commands_;
      return;
    }
    if (Status s = (*engine)->set_targets(next->ping_hosts); !s) {
      config_status_ = "rejected: " + s.error().message;
      ++rejected_commands_;
      log::warn(kLog, "remote config rejected", {{"version", version}, {"reason", s.error().message}});
      return;
    }
    engine_ = std::move(*engine);
  }
  const bool interval_changed = next->interval_s != config_.interval_s;
  config_ = std::move(*next);
  telemetry_.set_policy(report_policy(config_));
  reset_cycle_ = interval_changed;
  config_version_ = version;
  config_status_ = "applied";
  log::info(kLog, "remote config applied", {{"version", version}, {"targets", config_.ping_hosts.size()},
                                            {"interval_s", config_.interval_s}});
  if (persist) {
    // Kept across restarts: written beside the buffer, atomically (state_file.h).
    const std::string path = config_.state_dir + "/remote-config.toml";
    if (Status w = write_file_atomic(path, "# edgemon remote config version " + version + "\n" + toml); !w) {
      log::warn(kLog, "cannot persist remote config", {{"path", path}, {"error", w.error().message}});
    }
  }
  need_birth_.store(true);  // the metric set may have changed (new targets)
}

void Agent::load_persisted_remote() {
  const std::string path = config_.state_dir + "/remote-config.toml";
  std::ifstream in(path);
  if (!in) return;
  std::string first;
  std::getline(in, first);
  const std::string marker = "# edgemon remote config version ";
  const std::string version = first.rfind(marker, 0) == 0 ? first.substr(marker.size()) : "unversioned";
  std::ostringstream rest;
  rest << in.rdbuf();
  apply_remote(rest.str(), version, false);
}

void Agent::begin_cycle(MonoTime now) {
  sampler_->sample(now);
  engine_->start_round(now);  // closes a round still running (interval shorter than the round)
}

void Agent::finish_cycle(MonoTime now) {
  ++samples_;
  const std::int64_t now_ms = to_unix_ms(clock_.wall());
  NodeTelemetry::Data data = telemetry_.make_data(current_metrics(now_ms), now_ms, now);
  if (data.needs_rebirth && can_send()) need_birth_.store(true);
  if (data.message.metrics.empty()) return;  // nothing changed beyond its deadband
  // Stored by name (aliases can change across restarts); aliases are applied when sent.
  for (Metric& m : data.message.metrics) m.alias.reset();
  const std::uint16_t flags = can_send() ? 0 : kStoredWhileOffline;
  if (Status s = ring_->append(encode_sparkplug(data.message), flags); !s) {
    ++buffer_failures_;
    log::error(kLog, "cannot buffer sample", {{"error", s.error().message}, {"failures", buffer_failures_}});
  }
  forget_evicted();
}

int Agent::run(int stop_fd) {
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  const auto watchdog_every = std::chrono::microseconds(watchdog_usec / 2);
  MonoTime next_watchdog = clock_.mono();
  MonoTime next_cycle = clock_.mono();
  sd_notify(0, "READY=1\nSTATUS=sampling");

  for (;;) {
    MonoTime now = clock_.mono();
    handle_commands();
    if (!mqtt_->connected()) {
      birth_sent_ = false;
      in_flight_.reset();
    }
    if (reset_cycle_) {
      reset_cycle_ = false;
      next_cycle = now;
    }
    if (now >= next_cycle) {
      const auto interval = to_ms(config_.interval_s);
      begin_cycle(now);
      next_cycle += interval;
      if (next_cycle <= now) next_cycle = now + interval;  // fell behind (suspend): skip, don't burst
    }
    engine_->drain(now);
    if (engine_->take_round_complete()) finish_cycle(now);
    if (can_send() && need_birth_.exchange(false)) publish_birth(now);
    pump(now);
    confirm(now);
    ring_->sync_if_due(now);
    if (watchdog && now >= next_watchdog) {
      sd_notify(0, "WATCHDOG=1");
      next_watchdog = now + watchdog_every;
    }

    MonoTime wake_at = next_cycle;
    if (auto d = engine_->next_deadline()) wake_at = std::min(wake_at, *d);
    if (auto d = next_confirm()) wake_at = std::min(wake_at, *d);
    if (watchdog) wake_at = std::min(wake_at, next_watchdog);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - clock_.mono());
    const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));

    pollfd fds[4] = {{stop_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    nfds_t nfds = 2;
    for (int fd : engine_->fds()) {
      if (nfds < 4) fds[nfds++].fd = fd;
    }
    const int rc = ::poll(fds, nfds, timeout_ms);
    if (rc < 0 && errno != EINTR) {
      log::error(kLog, "poll failed", {{"error", std::strerror(errno)}});
      return 1;
    }
    if ((fds[0].revents & POLLIN) != 0) break;
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      if (::read(wake_fd_, &count, sizeof count) < 0) {
        // EAGAIN: another turn already consumed it.
      }
    }
  }

  sd_notify(0, "STOPPING=1");
  log::info(kLog, "stopping", {{"samples", samples_}, {"delivered", delivered_}, {"buffered", ring_->size()},
                               {"dropped", dropped()}});
  if (mqtt_->connected()) {
    // A clean disconnect suppresses the will, so say goodbye explicitly.
    TelemetryMessage death;
    death.kind = MessageKind::kDeath;
    death.timestamp_ms = to_unix_ms(clock_.wall());
    death.bd_seq = bd_seq_.load();
    Status s = mqtt_->publish_and_wait(topic(MessageKind::kDeath), encode(config_.encoding, death), 1, false,
                                       std::chrono::milliseconds(2000));
    if (!s) log::warn(kLog, "NDEATH not acknowledged", {{"error", s.error().message}});
  }
  mqtt_->stop();
  ring_.reset();  // flush
  return 0;
}

}  // namespace edgemon::firmware
