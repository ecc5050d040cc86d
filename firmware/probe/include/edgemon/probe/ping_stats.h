// Per-target per-round statistics and the UP / DEGRADED / DOWN state machine. Pure functions of
// their inputs (no clock, no sockets) so they are tested with exact numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace edgemon::probe {

// What became of one echo request.
enum class ProbeOutcome : std::uint8_t {
  kPending,       // not sent yet, or waiting for its reply
  kReply,         // echo reply; rtt_ms valid
  kTimeout,       // nothing before the timeout
  kUnreachable,   // a router/host answered "destination unreachable" quoting it
  kTimeExceeded,  // TTL ran out on the way
  kSendFailed,    // sendto() refused it (no route, buffer full for too long)
};
const char* to_string(ProbeOutcome o);

struct ProbeRecord {
  ProbeOutcome outcome = ProbeOutcome::kPending;
  double rtt_ms = 0.0;
  int ttl = -1;
};

struct RoundStats {
  std::uint32_t sent = 0;
  std::uint32_t received = 0;
  std::uint32_t unreachable = 0;    // ICMP unreachable answers (count as lost)
  std::uint32_t time_exceeded = 0;  // likewise
  double loss_pct = 0.0;            // 100 * (sent - received) / sent; 100 when nothing was sent
  // RTT statistics over the replies, in milliseconds; all 0 when received == 0.
  double min_ms = 0, avg_ms = 0, median_ms = 0, max_ms = 0, stddev_ms = 0, p95_ms = 0;
  double jitter_ms = 0;  // mean |rtt[i] - rtt[i-1]| over consecutive replies (RFC 3550-style)
  int ttl = -1;          // TTL of the last reply, -1 if unknown (unprivileged/IPv6 sockets)
  // RTT per probe in send order; NaN for a lost probe (the SmokePing "smoke" vector).
  std::vector<double> rtt_ms;
};

// Fills `out` from the round's probe records. `scratch` must hold records.size() doubles (it is
// used to sort for median/p95); out.rtt_ms is resized within its capacity, so a RoundStats whose
// vector was reserved once never allocates here. Median: mean of the two middle values for even
// counts; p95: nearest rank (ceil(0.95 n)); stddev: population.
void compute_round_stats(std::span<const ProbeRecord> records, std::span<double> scratch,
                         RoundStats& out);

enum class Health : std::uint8_t { kUnknown, kUp, kDegraded, kDown };
const char* to_string(Health h);

// Why the target is DOWN (or why the last round failed).
enum class FailureKind : std::uint8_t { kNone, kTimeout, kUnreachable, kTimeExceeded, kSendFailed };
const char* to_string(FailureKind k);

struct HealthPolicy {
  std::uint32_t failure_threshold = 3;  // consecutive failed rounds (nothing received) -> DOWN
  std::uint32_t success_threshold = 2;  // consecutive good rounds to leave DOWN
  double degraded_loss_pct = 20.0;      // a good round with loss above this -> DEGRADED
  double degraded_avg_ms = 0.0;         // a good round with avg RTT above this -> DEGRADED (0: off)
};

// The state machine: UNKNOWN until the first verdict. A failed round is one with no reply. DOWN
// after `failure_threshold` consecutive failed rounds (from any state); leaving DOWN needs
// `success_threshold` consecutive good rounds; outside DOWN a good round gives UP or DEGRADED by
// the loss/latency thresholds, and failed rounds short of the threshold keep the previous state.
class HealthTracker {
 public:
  explicit HealthTracker(HealthPolicy policy = {}) : policy_(policy) {}
  Health update(const RoundStats& round);
  Health health() const { return health_; }
  FailureKind last_failure() const { return last_failure_; }
  std::uint32_t consecutive_failures() const { return failures_; }
  std::uint32_t consecutive_successes() const { return successes_; }
  const HealthPolicy& policy() const { return policy_; }

 private:
  HealthPolicy policy_;
  Health health_ = Health::kUnknown;
  FailureKind last_failure_ = FailureKind::kNone;
  std::uint32_t failures_ = 0;
  std::uint32_t successes_ = 0;
};

}  // namespace edgemon::probe
