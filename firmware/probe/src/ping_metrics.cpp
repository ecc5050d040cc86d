#include "edgemon/probe/ping_metrics.h"

#include <optional>
#include <string>

namespace edgemon::probe {
namespace {

void add(std::vector<Metric>& out, const std::string& prefix, const char* leaf, const char* unit,
         std::optional<double> value, std::int64_t ts_ms) {
  Metric m;
  m.name = prefix + leaf;
  m.unit = unit;
  m.value = value;
  m.ts_ms = ts_ms;
  out.push_back(std::move(m));
}

}  // namespace

void append_ping_metrics(std::span<const TargetReport> reports, std::int64_t ts_ms,
                         std::vector<Metric>& out) {
  for (const TargetReport& r : reports) {
    const std::string p = "ping/" + r.name + "/";
    const RoundStats& s = r.stats;
    const bool any = s.received > 0;
    auto rtt = [&](double v) { return any ? std::optional<double>(v) : std::nullopt; };
    add(out, p, "rtt", "ms", rtt(s.avg_ms), ts_ms);
    add(out, p, "rtt_min", "ms", rtt(s.min_ms), ts_ms);
    add(out, p, "rtt_max", "ms", rtt(s.max_ms), ts_ms);
    add(out, p, "rtt_median", "ms", rtt(s.median_ms), ts_ms);
    add(out, p, "rtt_p95", "ms", rtt(s.p95_ms), ts_ms);
    add(out, p, "rtt_stddev", "ms", rtt(s.stddev_ms), ts_ms);
    add(out, p, "jitter", "ms", rtt(s.jitter_ms), ts_ms);
    add(out, p, "loss", "%", s.loss_pct, ts_ms);
    add(out, p, "sent", "", static_cast<double>(s.sent), ts_ms);
    add(out, p, "received", "", static_cast<double>(s.received), ts_ms);
    add(out, p, "ttl", "", s.ttl >= 0 ? std::optional<double>(s.ttl) : std::nullopt, ts_ms);
    // up: this round was answered (raw, per round: the gateway's failure rules count these);
    // state: the agent's debounced UP / DEGRADED / DOWN (failure and success thresholds).
    add(out, p, "up", "", any ? 1.0 : 0.0, ts_ms);
    add(out, p, "state", "", static_cast<double>(static_cast<int>(r.health)), ts_ms);
  }
}

}  // namespace edgemon::probe
