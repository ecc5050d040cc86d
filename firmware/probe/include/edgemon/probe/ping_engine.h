// PingEngine: fping's design on the lwIP-compatible SocketApi. One thread; two deadline queues
// (sends, timeouts) of events preallocated per target; a sequence map from icmp_seq to
// (target, probe, send time); one receive buffer. set_targets() allocates everything; a round
// (start_round / drain / ... / round complete) allocates nothing per packet.
//
// Time: every decision takes the Clock seam's monotonic time; RTT = clock.mono() right after
// recvfrom() minus clock.mono() right before sendto(). Wall time is never read, so stepping the
// wall clock cannot change an RTT.
//
// Host names: resolved (blocking getaddrinfo) in set_targets(); a target that failed to resolve
// is retried at every start_round(); resolved names are re-resolved every `reresolve_rounds`
// rounds (0: never). Numeric addresses never touch DNS. Resolution happens only between rounds,
// never while probes are in flight.
//
// Driving it from a poll() loop (the agent):
//   engine.start_round(now);                 // every interval
//   poll(engine.fds() + yours, min(next_deadline(), yours));
//   engine.drain(clock.mono());              // on readable or at the deadline
//   if (engine.take_round_complete()) publish(engine.results());
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"
#include "edgemon/probe/icmp_codec.h"
#include "edgemon/probe/icmp_socket.h"
#include "edgemon/probe/ping_stats.h"

namespace edgemon::probe {

struct EngineOptions {
  std::uint32_t count = 1;  // echo requests per target per round
  std::chrono::nanoseconds period =
      std::chrono::seconds(1);           // between requests to one target (fping -p)
  std::chrono::nanoseconds interval{0};  // between targets' first requests (fping -i)
  std::chrono::nanoseconds timeout = std::chrono::seconds(1);  // per request
  std::size_t payload_bytes = 16;
  int family = AF_UNSPEC;  // resolve names to AF_INET, AF_INET6 or either
  ModePreference mode = ModePreference::kAuto;
  HealthPolicy health;
  std::uint32_t reresolve_rounds = 60;
  // Name resolution seam (tests). Empty: getaddrinfo(). Returns false when the name is unknown.
  std::function<bool(const std::string& host, int family, sockaddr_storage& out, socklen_t& len)>
      resolver;
};

struct TargetReport {
  std::string name;     // as configured
  std::string address;  // numeric, empty when unresolved
  bool resolved = false;
  std::uint64_t round = 0;  // round these stats belong to (0: none yet)
  RoundStats stats;
  Health health = Health::kUnknown;
  FailureKind failure = FailureKind::kNone;  // why the last failed round failed
};

struct EngineCounters {
  std::uint64_t sent = 0;
  std::uint64_t replies = 0;
  std::uint64_t errors_matched = 0;  // unreachable / time exceeded quoting our echo
  std::uint64_t late = 0;            // matched ident but the probe already timed out or answered
  std::uint64_t foreign = 0;         // well-formed ICMP that is not ours (other pingers, requests)
  std::uint64_t send_failures = 0;
  std::array<std::uint64_t, kDecodeStatusCount>
      malformed{};  // by DecodeStatus (kOk, kNotEcho unused)
};

class PingEngine {
 public:
  // Opens one ICMP socket per address family (IPv6 failing is tolerated: IPv6 targets then fail
  // with kSendFailed). Errors: those of IcmpSocket::open for IPv4; kInvalidArgument for options.
  static Result<std::unique_ptr<PingEngine>> create(SocketApi& api, const Clock& clock,
                                                    EngineOptions options);
  ~PingEngine();
  PingEngine(const PingEngine&) = delete;
  PingEngine& operator=(const PingEngine&) = delete;

  // Replaces the target list (allocates; call between rounds). Unresolvable names are kept and
  // reported resolved=false. Returns kInvalidArgument for an empty name.
  Status set_targets(std::span<const std::string> hosts);

  // Starts a round at `now`. A round still running is finished first (its pending probes time out).
  void start_round(MonoTime now);
  // Ends the running round now: pending probes count as timed out, results are published.
  void finish_round();
  bool round_active() const { return active_; }
  // True once per completed round (then results() hold that round).
  bool take_round_complete();

  // Earliest send or timeout; nullopt when idle.
  std::optional<MonoTime> next_deadline() const;
  // Reads every pending datagram, then handles the timeouts and sends due at `now`.
  void drain(MonoTime now);
  // Kernel descriptors to poll for POLLIN (empty for a backend that is not os_pollable()).
  std::span<const int> fds() const { return fds_; }
  // Runs one whole round on this thread, waiting with SocketApi::poll (the probe command, tests,
  // and the lwIP build). Errors: kIo when poll fails.
  Status run_round();

  std::span<const TargetReport> results() const { return reports_; }
  // When each probe of `target` in the last round left (monotonic; benchmarks check the period).
  std::span<const MonoTime> send_times(std::size_t target) const {
    return targets_[target].sent_at;
  }
  const EngineCounters& counters() const { return counters_; }
  const EngineOptions& options() const { return options_; }
  SocketMode mode() const { return v4_ ? v4_->mode() : SocketMode::kRaw; }
  std::size_t seq_map_size() const { return seqmap_.size(); }

  // Deadline-queue event, preallocated per target (one send) and per probe (one timeout).
  struct Event {
    MonoTime at{};
    Event* prev = nullptr;
    Event* next = nullptr;
    std::uint32_t target = 0;
    std::uint32_t probe = 0;
    bool queued = false;
  };
  // Sorted by time; insertion scans from the tail, so the common case (a later deadline) is O(1).
  class EventQueue {
   public:
    void insert(Event* e);
    void remove(Event* e);
    Event* front() const { return head_; }
    bool empty() const { return head_ == nullptr; }

   private:
    Event* head_ = nullptr;
    Event* tail_ = nullptr;
  };

 private:
  struct Target {
    std::string host;
    bool numeric = false;
    bool resolved = false;
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    std::uint32_t next_probe = 0;
    MonoTime base{};  // this round's first send time; probe k is due at base + k * period
    Event send_event;
    std::vector<Event> timeout_events;
    std::vector<ProbeRecord> records;
    std::vector<MonoTime> sent_at;
    std::vector<std::uint16_t> seq;
    HealthTracker health;
  };
  struct SeqSlot {
    std::uint32_t target = 0;
    std::uint32_t probe = 0;
    bool active = false;
  };

  PingEngine(SocketApi& api, const Clock& clock, EngineOptions options)
      : api_(api), clock_(clock), options_(std::move(options)) {}
  void resolve(Target& t);
  void receive_all(IcmpSocket& sock);
  void handle_datagram(IcmpSocket& sock, std::size_t len, const sockaddr_storage& from,
                       MonoTime rx);
  void settle(std::uint32_t target, std::uint32_t probe, ProbeOutcome outcome, double rtt_ms,
              int ttl);
  void send_probe(Target& t, std::uint32_t index, MonoTime now);
  void complete_round();
  IcmpSocket* socket_for(const Target& t) const;

  SocketApi& api_;
  const Clock& clock_;
  EngineOptions options_;
  std::unique_ptr<IcmpSocket> v4_;
  std::unique_ptr<IcmpSocket> v6_;
  std::vector<int> fds_;
  std::uint16_t ident_ = 0;
  std::vector<Target> targets_;
  std::vector<TargetReport> reports_;
  std::vector<double> scratch_;
  std::vector<SeqSlot> seqmap_;
  std::uint32_t next_seq_ = 0;
  EventQueue sends_;
  EventQueue timeouts_;
  MonoTime round_start_{};
  std::uint64_t round_ = 0;
  std::size_t pending_ = 0;
  bool active_ = false;
  bool complete_flag_ = false;
  bool reports_address_stale_ = true;  // a (re-)resolution changed an address: refresh its text
  EngineCounters counters_;
  std::array<std::uint8_t, 4096> rx_{};
  std::array<std::uint8_t, 2048> tx_{};
};

}  // namespace edgemon::probe
