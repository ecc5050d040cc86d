#include "edgemon/probe/ping_stats.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace edgemon::probe {

const char* to_string(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::kPending:
      return "pending";
    case ProbeOutcome::kReply:
      return "reply";
    case ProbeOutcome::kTimeout:
      return "timeout";
    case ProbeOutcome::kUnreachable:
      return "unreachable";
    case ProbeOutcome::kTimeExceeded:
      return "time-exceeded";
    case ProbeOutcome::kSendFailed:
      return "send-failed";
  }
  return "?";
}

const char* to_string(Health h) {
  switch (h) {
    case Health::kUnknown:
      return "UNKNOWN";
    case Health::kUp:
      return "UP";
    case Health::kDegraded:
      return "DEGRADED";
    case Health::kDown:
      return "DOWN";
  }
  return "?";
}

const char* to_string(FailureKind k) {
  switch (k) {
    case FailureKind::kNone:
      return "none";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kUnreachable:
      return "unreachable";
    case FailureKind::kTimeExceeded:
      return "time-exceeded";
    case FailureKind::kSendFailed:
      return "send-failed";
  }
  return "?";
}

void compute_round_stats(std::span<const ProbeRecord> records, std::span<double> scratch,
                         RoundStats& out) {
  assert(scratch.size() >= records.size());
  out.sent = out.received = out.unreachable = out.time_exceeded = 0;
  out.min_ms = out.avg_ms = out.median_ms = out.max_ms = out.stddev_ms = out.p95_ms =
      out.jitter_ms = 0;
  out.ttl = -1;
  out.rtt_ms.resize(records.size());
  std::size_t n = 0;
  double sum = 0;
  double jitter_sum = 0;
  std::size_t jitter_n = 0;
  double prev = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const ProbeRecord& r = records[i];
    out.rtt_ms[i] = std::numeric_limits<double>::quiet_NaN();
    if (r.outcome == ProbeOutcome::kPending) {
      continue;
    }
    if (r.outcome != ProbeOutcome::kSendFailed) {
      ++out.sent;
    }
    if (r.outcome == ProbeOutcome::kUnreachable) {
      ++out.unreachable;
    }
    if (r.outcome == ProbeOutcome::kTimeExceeded) {
      ++out.time_exceeded;
    }
    if (r.outcome != ProbeOutcome::kReply) {
      continue;
    }
    ++out.received;
    out.rtt_ms[i] = r.rtt_ms;
    if (r.ttl >= 0) {
      out.ttl = r.ttl;
    }
    scratch[n++] = r.rtt_ms;
    sum += r.rtt_ms;
    if (!std::isnan(prev)) {
      jitter_sum += std::fabs(r.rtt_ms - prev);
      ++jitter_n;
    }
    prev = r.rtt_ms;
  }
  out.loss_pct =
      out.sent == 0 ? 100.0 : 100.0 * static_cast<double>(out.sent - out.received) / out.sent;
  if (n == 0) {
    return;
  }
  std::sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
  out.min_ms = scratch[0];
  out.max_ms = scratch[n - 1];
  out.avg_ms = sum / static_cast<double>(n);
  out.median_ms = n % 2 == 1 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2.0;
  const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n)));
  out.p95_ms = scratch[std::clamp<std::size_t>(rank, 1, n) - 1];
  double var = 0;
  for (std::size_t i = 0; i < n; ++i) {
    var += (scratch[i] - out.avg_ms) * (scratch[i] - out.avg_ms);
  }
  out.stddev_ms = std::sqrt(var / static_cast<double>(n));
  out.jitter_ms = jitter_n == 0 ? 0.0 : jitter_sum / static_cast<double>(jitter_n);
}

Health HealthTracker::update(const RoundStats& round) {
  const bool failed = round.received == 0;
  if (failed) {
    successes_ = 0;
    ++failures_;
    if (round.unreachable > 0) {
      last_failure_ = FailureKind::kUnreachable;
    } else if (round.time_exceeded > 0) {
      last_failure_ = FailureKind::kTimeExceeded;
    } else if (round.sent == 0) {
      last_failure_ = FailureKind::kSendFailed;
    } else {
      last_failure_ = FailureKind::kTimeout;
    }
    if (failures_ >= policy_.failure_threshold) {
      health_ = Health::kDown;
    }
    return health_;
  }
  failures_ = 0;
  ++successes_;
  if (health_ == Health::kDown && successes_ < policy_.success_threshold) {
    return health_;
  }
  last_failure_ = FailureKind::kNone;
  const bool degraded = round.loss_pct > policy_.degraded_loss_pct ||
                        (policy_.degraded_avg_ms > 0 && round.avg_ms > policy_.degraded_avg_ms);
  health_ = degraded ? Health::kDegraded : Health::kUp;
  return health_;
}

}  // namespace edgemon::probe
