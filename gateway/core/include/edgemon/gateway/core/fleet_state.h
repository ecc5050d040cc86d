// FleetState: the latest known state of every node, fed by decoded Sparkplug messages.
// Single-threaded (the gateway's io thread). Typed: each metric's name is parsed once into a
// MetricKey (the telemetry contract) when the node first declares it; everything downstream
// (aggregation, rules, the API's views) works with the slot and its key.
//
// Sparkplug bookkeeping per node: the alias table from the last NBIRTH (NDATA carries aliases
// only), the expected next `seq` (a jump is a gap: the caller asks the node for a rebirth), and
// the last `seq` (the same seq again is a QoS 1 redelivery and is ignored, not counted twice).
//
// Bounds: a node holds at most `max_metrics_per_node` metrics, the fleet `max_metrics_total`.
// Further names (in a birth or in data) are refused and counted (ApplyResult::refused_metrics, NodeState::metrics_refused); a
// birth's aliases for refused names are remembered as refused, so data that uses them is dropped
// quietly instead of being taken for a lost birth.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgemon/common/metric_key.h"
#include "edgemon/common/telemetry.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

// One metric of a node: its parsed name and its current value.
struct MetricSlot {
  MetricKey key;
  std::string unit;
  MetricType type = MetricType::kDouble;
  std::optional<double> value;  // numeric and boolean metrics
  std::string text;             // kString metrics
  std::int64_t ts_ms = 0;       // the reading's time (the device's clock)
  // The value is from a session that has ended (Sparkplug: an NDEATH makes every metric of the
  // node stale until the next NBIRTH or NDATA sets it again).
  bool stale = false;
  // Ingest's cache of rules::Evaluator::wants_sample() for this metric, valid for that generation.
  std::uint64_t rules_generation = 0;
  bool rules_want = false;
};

// A node's alias -> slot table from its birth. Agents number aliases 1..N: those sit in a vector
// (an index instead of a hash per metric of every NDATA); any other alias (a device may choose
// any 64-bit number) in a hash map. The vector never grows beyond twice the slots the birth
// declared, plus 64: a hostile alias cannot make it large.
class AliasTable {
 public:
  static constexpr std::uint32_t kNone = 0xfffffffeu;
  void clear() {
    dense_.clear();
    sparse_.clear();
  }
  void set(std::uint64_t alias, std::uint32_t slot, std::size_t declared) {
    const std::uint64_t limit = 2 * static_cast<std::uint64_t>(declared) + 64;
    if (alias < limit) {
      const auto i = static_cast<std::size_t>(alias);
      if (dense_.size() <= i) dense_.resize(i + 1, kNone);
      dense_[i] = slot;
      return;
    }
    sparse_[alias] = slot;
  }
  // The slot of `alias`, or kNone.
  std::uint32_t find(std::uint64_t alias) const {
    if (alias < dense_.size()) return dense_[static_cast<std::size_t>(alias)];
    const auto it = sparse_.find(alias);
    return it == sparse_.end() ? kNone : it->second;
  }

 private:
  std::vector<std::uint32_t> dense_;
  std::unordered_map<std::uint64_t, std::uint32_t> sparse_;
};

struct NodeState {
  std::string group;
  std::string id;
  std::string key;  // "<group>/<id>": the node's key for the aggregator, the rules and the API
  bool online = false;
  std::int64_t last_seen_ms = 0;  // wall time the last message arrived
  std::uint64_t bd_seq = 0;
  bool birth_seen = false;                // false: joined mid-session, aliases unknown
  std::optional<std::uint64_t> last_seq;  // seq of the last accepted NBIRTH/NDATA
  std::uint64_t gaps = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t metrics_refused = 0;      // names over max_metrics_per_node, since the node appeared
  std::vector<MetricSlot> metrics;        // in first-seen order
  // The same names and units, index by index, shared with queued history writes; replaced (never
  // changed) when a name is added, so a writer holding it sees a consistent set.
  std::shared_ptr<const SeriesNames> names;
  std::unordered_map<std::string, std::uint32_t> index;     // name -> position in metrics
  AliasTable aliases;  // alias -> position in metrics (or kRefusedSlot)
  // Positions of the agent's accounting metrics (agent/sample_seq, agent/buffer/dropped,
  // agent/buffer/damaged; see completeness.h), kNoSlot when the node has not declared them.
  std::uint32_t seq_slot = kNoSlot;
  std::uint32_t dropped_slot = kNoSlot;
  std::uint32_t damaged_slot = kNoSlot;

  static constexpr std::uint32_t kRefusedSlot = 0xffffffffu;
  static constexpr std::uint32_t kNoSlot = 0xfffffffdu;
  // The value of the metric at `slot` as an unsigned count, nullopt when absent or not a count.
  std::optional<std::uint64_t> count_at(std::uint32_t slot) const;

  const MetricSlot* find(std::string_view name) const;
  // The text value of a string metric, "" when absent.
  std::string_view text(std::string_view name) const;
};

// One metric of an applied message, resolved to its slot.
struct AcceptedSample {
  std::uint32_t slot = 0;
  std::optional<double> value;
  std::int64_t ts_ms = 0;
  bool historical = false;
};

struct ApplyResult {
  NodeState* node = nullptr;
  bool was_online = false;       // node->online before this message
  bool duplicate = false;        // redelivery: nothing applied
  bool gap = false;              // seq jumped: some message was lost
  bool needs_rebirth = false;    // gap, data without a birth, or an unknown alias
  bool live = false;             // at least one accepted sample is not historical
  bool went_offline = false;     // an NDEATH of the current session took the node offline
  std::size_t unknown_aliases = 0;
  std::size_t refused_metrics = 0;       // over a metric cap
  bool fleet_cap = false;                // some were refused by max_metrics_total
  std::vector<AcceptedSample> accepted;  // in message order
};

struct FleetLimits {
  std::size_t max_metrics_per_node = 2048;
  std::size_t max_metrics_total = 1'000'000;  // over every node
};

class FleetState {
 public:
  explicit FleetState(FleetLimits limits = {}) : limits_(limits) {}

  // Applies one decoded message; creates the node if it is new (admission is the caller's).
  ApplyResult apply(const Topic& topic, TelemetryMessage&& msg, std::int64_t received_ms);

  // The agent/sample_seq value an NDATA carries for a known node (by name or by the alias of the
  // node's birth), before it is applied; nullopt when it carries none or not a count.
  std::optional<std::uint64_t> sample_seq_in(const Topic& topic, const TelemetryMessage& msg) const;

  const NodeState* find(std::string_view group, std::string_view id) const;
  const NodeState* find(std::string_view key) const;
  std::size_t size() const { return nodes_.size(); }
  std::size_t metric_count() const { return metric_count_; }  // slots over every node
  const std::map<std::string, NodeState, std::less<>>& nodes() const { return nodes_; }  // by key
  const FleetLimits& limits() const { return limits_; }

 private:
  FleetLimits limits_;
  std::map<std::string, NodeState, std::less<>> nodes_;  // key "<group>/<id>", sorted for stable output
  std::size_t metric_count_ = 0;
  std::string key_;  // apply()'s key buffer
};

}  // namespace edgemon::gateway
