// The agent: one thread, one poll() loop. Each interval it samples the board's sensors, pings its
// targets, and publishes one NDATA message. NBIRTH follows every (re)connect; NDEATH is the MQTT
// will and is also sent explicitly on a clean stop. Talks to systemd (READY, WATCHDOG, STOPPING).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "edgemon/board/sensor.h"
#include "edgemon/common/clock.h"
#include "edgemon/common/mqtt_client.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/firmware/agent_config.h"
#include "edgemon/firmware/icmp_pinger.h"

namespace edgemon::firmware {

class Agent {
 public:
  Agent(AgentConfig config, const Clock& clock);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Opens the ICMP socket and sensors and starts the MQTT session.
  // Errors: kPermissionDenied (no ICMP socket), kInvalidArgument (MQTT client).
  Status start();
  // Runs until `stop_fd` becomes readable (a signalfd). Returns the process exit code.
  int run(int stop_fd);

 private:
  void begin_cycle(MonoTime now);
  void finish_cycle();
  void publish(MessageKind kind, std::vector<Metric> metrics);
  std::vector<Metric> current_metrics(std::int64_t now_ms) const;
  std::string topic(MessageKind kind) const;

  AgentConfig config_;
  const Clock& clock_;
  std::vector<std::unique_ptr<board::Sensor>> sensors_;
  std::vector<bool> sensor_unsupported_;
  std::unique_ptr<IcmpPinger> pinger_;
  std::unique_ptr<MqttClient> mqtt_;

  int wake_fd_ = -1;                       // eventfd: MQTT thread -> loop
  std::atomic<bool> need_birth_{false};
  std::atomic<std::uint64_t> bd_seq_{0};   // the bdSeq of the current session's will
  std::uint64_t seq_ = 0;
  std::uint64_t published_ = 0;
  std::uint64_t publish_failures_ = 0;
};

}  // namespace edgemon::firmware
