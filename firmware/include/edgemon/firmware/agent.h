// The agent: one thread, one poll() loop. Each interval it samples the board's sensors and pings
// its targets; the sample becomes an NDATA record (report by exception) in the on-disk ring, and
// the ring is sent in order to the broker, one acknowledged QoS 1 publish at a time. So a
// broker outage, an absent primary host or a crash loses nothing: records wait in the ring and
// are replayed with is_historical. NBIRTH follows every (re)connect, every "online" STATE of the
// primary host and every "Node Control/Rebirth" command; NDEATH is the MQTT will and is also sent
// on a clean stop. Talks to systemd (READY, WATCHDOG, STOPPING).
//
// The confirm window (docs/protocol.md "Completeness", ADR 0010): the broker's acknowledgement
// does not prove that the primary host got a record (a host stalled past its keepalive loses what
// the broker queued for its clean session). A sent record stays in the ring until the host has
// been online for buffer.confirm_after since the broker acknowledged it; every new session (a
// reconnect, the host coming back, a rebirth the host asks for) sends the unconfirmed records
// again from the ring.
// The gateway drops the ones it already has by their agent/sample_seq.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "edgemon/board/sampler.h"
#include "edgemon/common/clock.h"
#include "edgemon/common/mqtt_client.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/firmware/agent_config.h"
#include "edgemon/firmware/disk_ring.h"
#include "edgemon/firmware/node_telemetry.h"
#include "edgemon/firmware/state_file.h"
#include "edgemon/probe/ping_engine.h"

namespace edgemon::firmware {

class Agent {
 public:
  Agent(AgentConfig config, const Clock& clock);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Opens the ICMP socket, sensors and buffer, and starts the MQTT session.
  // Errors: kPermissionDenied (no ICMP socket), kIo (buffer), kInvalidArgument (MQTT client).
  Status start();
  // Runs until `stop_fd` becomes readable (a signalfd). Returns the process exit code.
  int run(int stop_fd);

 private:
  // Record flags in the ring.
  static constexpr std::uint16_t kStoredWhileOffline = 1;

  void begin_cycle(MonoTime now);
  void finish_cycle(MonoTime now);
  void publish_birth(MonoTime now);
  void pump(MonoTime now);
  // Pops the records the host has had long enough (the confirm window).
  void confirm(MonoTime now);
  // Sends the ring from its oldest record again: a new session cannot rely on the last one.
  void rewind();
  // Records a full ring evicted from the confirm window (the broker had them): not "dropped".
  void forget_evicted();
  std::optional<MonoTime> next_confirm() const;
  void handle_commands();
  // Validates and applies a remote configuration; on success persists it in the state dir.
  // Either way the outcome is published as agent/config/version and agent/config/status.
  void apply_remote(const std::string& toml, const std::string& version, bool persist);
  void load_persisted_remote();
  bool can_send() const;
  // Samples lost to a full buffer: the ring's count less records it evicted after the broker had
  // them (in flight, or in the confirm window).
  std::uint64_t dropped() const;
  void wake();
  std::vector<Metric> current_metrics(std::int64_t now_ms, bool for_birth = false) const;
  std::string topic(MessageKind kind) const;

  AgentConfig config_;
  const Clock& clock_;
  std::unique_ptr<board::Sampler> sampler_;
  std::unique_ptr<probe::PingEngine> engine_;
  std::unique_ptr<DiskRing> ring_;
  std::unique_ptr<MqttClient> mqtt_;
  NodeTelemetry telemetry_;

  int wake_fd_ = -1;                        // eventfd: MQTT threads -> loop
  std::atomic<bool> need_birth_{false};
  // The next birth starts a session that must resend the unconfirmed window (a reconnect, the
  // host back online, a rebirth the host asked for); births of our own (new metrics) need not.
  std::atomic<bool> need_rewind_{false};
  std::atomic<bool> host_online_{false};
  std::unique_ptr<BdSeqFile> bd_file_;      // <state_dir>/bdseq
  std::atomic<std::uint64_t> bd_seq_{0};    // the bdSeq of the current session (its will, its NBIRTH)
  std::atomic<int> last_bd_seq_{-1};        // the last session's that connected (-1: none yet)
  std::atomic<std::uint8_t> offered_bd_seq_{0};  // in the will of the connect attempt under way
  bool birth_sent_ = false;                 // NBIRTH sent in the current session
  std::uint64_t seq_ = 0;                   // next Sparkplug seq
  std::shared_ptr<Delivery> in_flight_;     // the record at cursor_, being delivered
  std::uint64_t in_flight_record_ = 0;       // its seq in the ring
  DiskRing::Cursor cursor_;                 // the next record to send
  DiskRing::Cursor in_flight_at_;           // the in-flight record's cursor
  DiskRing::Cursor in_flight_next_;         // the cursor after the in-flight record
  struct Sent {
    std::uint64_t seq = 0;
    MonoTime acked{};
  };
  std::deque<Sent> unconfirmed_;            // acknowledged by the broker, in ring order

  std::mutex commands_mutex_;
  std::deque<std::string> commands_;        // raw NCMD payloads from Paho's thread

  std::uint64_t samples_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t buffer_failures_ = 0;
  std::uint64_t rejected_commands_ = 0;
  std::uint64_t evicted_but_delivered_ = 0;
  std::string config_version_ = "local";    // the applied remote config's version
  std::string config_status_ = "local";     // "applied", or "rejected: <reason>"
  bool reset_cycle_ = false;                // interval changed: re-plan the next cycle
};

}  // namespace edgemon::firmware
