// Completeness: which of a node's samples the gateway has, which it got twice and which it will
// never get, and why, when the agent said why (docs/protocol.md "Completeness").
//
// An edgemon agent numbers its samples: `agent/sample_seq` goes up by one per sample, across
// restarts, reconnects and damaged buffers, and is never reused. Its buffer counters say what it
// lost itself: `agent/buffer/dropped` (ring full) and `agent/buffer/damaged` (ring file damaged).
// Per node the gateway keeps the highest number received and the recent holes below it:
//
//   sample(seq)   seq == high + 1        the next sample
//                 seq  > high + 1        a hole [high + 1, seq - 1]: counted missing at once,
//                                        reported (DATA_LOSS) when it settles (below)
//                 seq <= high, in a hole a late sample: the hole shrinks, `missing` goes down
//                 seq <= high, otherwise a duplicate (a replay of something already stored):
//                                        the caller drops it, so history holds every sample once
//   birth(last)   the agent announces the last number it assigned; below `high` means its
//                 numbering started over (state wiped, new install): tracking restarts, counted
//                 in `resets`, nothing is called missing or duplicate across the reset.
//
// Settling. The agent's counters say how many samples it lost, not which: a full ring keeps
// dropping its oldest records while it drains, and a birth or a sample can announce drops whose
// hole arrives later (or earlier). So holes are reported once the backlog has drained — at the
// node's first live (not historical) sample at least Config::settle_min after the hole was seen
// (a reconnect can restart the drain, and drops then are announced by samples that come last), or
// Config::settle after it (tick()). Then the counters' growth since the last settled point (the last live sample without
// a pending hole) is handed to the pending holes, oldest first, each taking at most its own size:
// overflow first, then damage; the rest is "not delivered". A hole filled by late samples before
// it settles is never reported. A reported hole stays reported (a late sample corrects the counts,
// the event stands). Nodes that never send sample_seq are not tracked.
//
// Persistence: progress() rows (per node: high, counts, the agent's counters at `high`) are stored
// by the caller every few seconds and restored at start, so the accounting continues across a
// gateway restart. A gateway killed between two stores restarts from the older row: samples since
// then come again from the agent's confirm window and count as received again (never as missing).
//
// Bounds: at most Config::max_holes holes per node (the oldest is forgotten: a sample arriving in
// it later counts as a duplicate) and Config::max_recent losses per node in the loss window.
// Single-threaded (the io thread); no clock of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/gateway/store/store.h"
#include "edgemon/rules/rule.h"

namespace edgemon::gateway {

// The built-in rule that turns data loss into an alert (like STORAGE_FAILED): its metric is the
// number of a node's samples found missing within the loss window.
inline constexpr std::string_view kDataLossRule = "_data_loss";
inline constexpr std::string_view kDataLossType = "DATA_LOSS";
inline constexpr std::string_view kMissingMetric = "gateway/samples_missing";
// That rule: fires when a hole is seen, stays firing while a loss is within the loss window, then
// resolves by itself.
rules::Rule data_loss_rule();

// One hole: sample numbers [first, last] of `node` that will not arrive.
struct DataLoss {
  std::string node;  // "<group>/<node>"
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::int64_t at_ms = 0;      // when the gateway saw it
  std::uint64_t overflow = 0;  // of them, explained by agent/buffer/dropped's growth
  std::uint64_t damaged = 0;   // explained by agent/buffer/damaged's growth
  std::uint64_t count() const { return last - first + 1; }
  std::uint64_t unexplained() const { return count() - overflow - damaged; }
  // "sample_seq 51-65 missing (15 samples): 15 dropped by the agent's full buffer"
  std::string describe() const;
};

class Completeness {
 public:
  struct Config {
    std::size_t max_holes = 16;                                       // per node
    std::size_t max_recent = 64;                                      // per node
    std::chrono::milliseconds loss_window = std::chrono::hours(1);    // for samples_missing
    std::chrono::milliseconds settle_min = std::chrono::seconds(5);   // shortest wait before reporting
    std::chrono::milliseconds settle = std::chrono::seconds(60);      // longest wait for a live sample
  };
  enum class Verdict { kNew, kDuplicate, kLate };

  struct NodeCounts {
    std::optional<std::uint64_t> high;  // highest sample_seq received
    std::uint64_t received = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t missing = 0;          // in holes (late samples taken off)
    std::uint64_t late = 0;
    std::uint64_t resets = 0;
    std::uint64_t losses = 0;           // holes reported (DATA_LOSS events)
  };
  struct Totals {
    std::uint64_t received = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t missing = 0;
    std::uint64_t late = 0;
    std::uint64_t resets = 0;
    std::uint64_t losses = 0;
    std::size_t nodes = 0;  // tracked
  };

  Completeness() : Completeness(Config{}) {}
  explicit Completeness(Config config) : config_(config) {}

  // A sample of `node` numbered `seq`; `dropped` / `damaged`: the agent's buffer counters as the
  // gateway knows them now (nullopt when the node does not report them); `live`: the sample is
  // current (not a replay from the agent's buffer).
  Verdict sample(std::string_view node, std::uint64_t seq, std::optional<std::uint64_t> dropped,
                 std::optional<std::uint64_t> damaged, bool live, std::int64_t now_ms);
  // Reports the holes that waited longer than Config::settle for a live sample.
  void settle(std::int64_t now_ms);
  // Whether sample `seq` of `node` has been received already (sample() would call it a duplicate).
  bool received(std::string_view node, std::uint64_t seq) const;
  // A birth that declares agent/sample_seq; `last` is its value (nullopt: no sample yet).
  void birth(std::string_view node, std::optional<std::uint64_t> last);

  // Holes settled since the last call, in order.
  std::vector<DataLoss> take_losses() { return std::exchange(losses_, {}); }
  // Samples of `node` found missing within the loss window before `now_ms`.
  std::uint64_t missing_within(std::string_view node, std::int64_t now_ms) const;
  // Nodes whose missing_within() has dropped to 0 since the last call (the window passed).
  std::vector<std::string> take_expired(std::int64_t now_ms);

  // Rows of the nodes that changed since the last call (for the store).
  std::vector<SampleProgress> take_progress(std::int64_t now_ms);
  // Called before anything is fed: the stored rows.
  void restore(const std::vector<SampleProgress>& rows);

  const NodeCounts* find(std::string_view node) const;
  // The node's last losses (at most Config::max_recent, oldest first; kept in memory only: the
  // DATA_LOSS events in the store have them all).
  std::vector<DataLoss> recent_losses(std::string_view node) const;
  Totals totals() const;

 private:
  struct Hole {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    bool reported = false;
    std::int64_t seen_ms = 0;
  };
  struct NodeRecord {
    NodeCounts counts;
    std::optional<std::uint64_t> dropped;  // the agent's counters at the last settled point
    std::optional<std::uint64_t> damaged;
    std::optional<std::uint64_t> now_dropped;  // ... as last known
    std::optional<std::uint64_t> now_damaged;
    std::vector<Hole> holes;  // below high, oldest first
    std::deque<DataLoss> recent;  // the last max_recent losses (missing_within() counts those in the window)
    bool dirty = false;
    bool expired = true;  // no loss within the window (take_expired() reported it)
  };
  // The time the oldest unreported hole was seen, if any.
  static std::optional<std::int64_t> pending_since(const NodeRecord& r);
  // Reports every unreported hole of the node, handing them the counters' growth.
  void settle_node(const std::string& key, NodeRecord& r, std::int64_t now_ms);

  Config config_;
  std::map<std::string, NodeRecord, std::less<>> nodes_;
  std::vector<DataLoss> losses_;
  Totals totals_;
};

}  // namespace edgemon::gateway
