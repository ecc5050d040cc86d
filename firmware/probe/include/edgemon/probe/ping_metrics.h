// Turns a round's TargetReports into telemetry metrics, so the agent publishes the whole round:
//   ping/<name>/{rtt,rtt_min,rtt_max,rtt_median,rtt_p95,rtt_stddev,jitter} ms (no value when no
//   reply) ping/<name>/{loss} %, ping/<name>/{sent,received,ttl}, ping/<name>/up (1/0),
//   ping/<name>/state (0 UNKNOWN, 1 UP, 2 DEGRADED, 3 DOWN)
// `rtt` is the round's average, the same name the walking skeleton published.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "edgemon/common/telemetry.h"
#include "edgemon/probe/ping_engine.h"

namespace edgemon::probe {

void append_ping_metrics(std::span<const TargetReport> reports, std::int64_t ts_ms,
                         std::vector<Metric>& out);

}  // namespace edgemon::probe
