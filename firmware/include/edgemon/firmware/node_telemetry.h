// NodeTelemetry: what a Sparkplug edge node sends, decided without I/O (time is passed in).
//  - Aliases: each metric name gets a stable alias (1, 2, ...) the first time it is seen; NBIRTH
//    announces names, types, units and aliases; NDATA then uses aliases.
//  - Report by exception: a metric goes into NDATA only when its value moved by more than its
//    deadband since it was last sent (or turned null / non-null); every `keyframe_every` a full
//    keyframe is sent regardless.
//  - A metric name that was not in the last NBIRTH makes the next data call ask for a rebirth
//    (Sparkplug requires every metric to be born).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/telemetry.h"

namespace edgemon::firmware {

struct ReportPolicy {
  double default_deadband = 0.0;                 // absolute; 0: any change is reported
  std::map<std::string, double> deadbands;       // metric-name prefix -> absolute deadband
  std::chrono::milliseconds keyframe_every{60'000};
};

class NodeTelemetry {
 public:
  explicit NodeTelemetry(ReportPolicy policy) : policy_(std::move(policy)) {}
  void set_policy(ReportPolicy policy) { policy_ = std::move(policy); }

  // NBIRTH for the current metric set. Afterwards every metric counts as sent.
  TelemetryMessage make_birth(std::vector<Metric> current, std::int64_t now_ms, std::uint64_t bd_seq, MonoTime now);

  struct Data {
    TelemetryMessage message;   // kind kData, metrics by name (aliases filled by assign_aliases)
    bool needs_rebirth = false; // a metric unknown at the last birth appeared
  };
  // NDATA content for this sample: changed metrics only, or all on a keyframe. The message may
  // have no metrics (nothing changed): callers skip sending it.
  Data make_data(const std::vector<Metric>& current, std::int64_t now_ms, MonoTime now);

  // Sets alias on every metric whose name was born (others keep their name only).
  void assign_aliases(std::vector<Metric>& metrics) const;
  // For decoding NCMD and tests.
  std::optional<std::uint64_t> alias_of(const std::string& name) const;
  std::size_t born_metrics() const { return born_.size(); }

 private:
  struct Sent {
    std::uint64_t alias = 0;
    std::optional<double> value;
    std::string text;
  };
  double deadband_for(const std::string& name) const;
  std::uint64_t alias_for(const std::string& name);

  ReportPolicy policy_;
  std::unordered_map<std::string, std::uint64_t> aliases_;  // every name ever seen -> alias
  std::unordered_map<std::string, Sent> born_;              // names in the last NBIRTH
  std::uint64_t next_alias_ = 1;
  MonoTime last_keyframe_{};
};

}  // namespace edgemon::firmware
