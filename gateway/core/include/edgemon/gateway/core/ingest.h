// Ingest: the gateway's pipeline from an MQTT message to its effects. Single-threaded (the io
// thread), no I/O, no clock of its own: each call carries an Instant and fills an Outbox, which
// the caller carries out (store writes, MQTT commands, live updates, notifications).
//
//   message(topic, payload)
//     admission   topic, size, caps per account / group / fleet (IngestLimits) -> reject(reason)
//     decode      Sparkplug B or JSON (common/telemetry.h)                       -> reject(reason)
//     fleet state seq, aliases, typed metric slots (fleet_state.h)               -> rebirths
//     completeness agent/sample_seq accounting (completeness.h): a replay of a sample already
//                 received stops here (counted); a hole -> DATA_LOSS event + the loss rule
//     aggregate   uptime, rolling windows, node status (aggregator.h)
//     rules       the evaluator, fed each live message's whole node state (rules/evaluator.h)
//     alerts      events/incidents -> store rows; firing alerts -> node status; status changes
//     effects     samples + events -> Outbox::store, changed nodes -> Outbox::nodes,
//                 managed targets pending for a born node -> Outbox::commands
//   tick()        every 250 ms: rules' time-based decisions, aggregation, uptime, sample
//                 accounting and alert state to store, notifications
//
// Time: intervals (rebirth throttle, uptime flush, storage sample, reject log) use Instant::mono;
// wall time only names moments. A step of the wall clock is detected (ClockSteps) and handed to
// the aggregator and the evaluator, which move their remembered times by it.
//
// Rejections are counted by reason (IngestStats::rejected, at most kMaxReasons reasons; further
// reasons count as "other") and logged at most once a second; metric names refused by a cap are
// counted apart (the message is still accepted).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgemon/common/telemetry.h"
#include "edgemon/gateway/core/aggregator.h"
#include "edgemon/gateway/core/completeness.h"
#include "edgemon/gateway/core/fleet_state.h"
#include "edgemon/gateway/core/instant.h"
#include "edgemon/gateway/core/managed_targets.h"
#include "edgemon/gateway/store/store.h"
#include "edgemon/rules/evaluator.h"

namespace edgemon::gateway {

// Caps that keep one device, one account or one group from growing the gateway without limit.
// An account is a node id: the shipped broker ACL lets account <id> publish only as node <id>,
// in any group.
struct IngestLimits {
  std::size_t max_message_bytes = kMaxPayloadBytes;  // larger payloads are refused before decoding
  std::size_t max_nodes = 10'000;                    // in the whole fleet
  std::size_t max_groups = 1'000;
  std::size_t max_nodes_per_group = 5'000;
  std::size_t max_groups_per_account = 4;    // groups one node id may appear in
  std::size_t max_metrics_per_node = 2'048;  // further names are refused (counted)
  std::size_t max_metrics_total = 1'000'000;
  std::size_t max_targets_total = 20'000;    // probe targets the aggregator keeps windows for
};

// Rejection reasons of the caps, as counted in IngestStats::rejected.
inline constexpr std::string_view kRejectTooLarge = "payload larger than limits.max_message_bytes";
inline constexpr std::string_view kRejectNodes = "cap: limits.max_nodes reached";
inline constexpr std::string_view kRejectGroups = "cap: limits.max_groups reached";
inline constexpr std::string_view kRejectNodesPerGroup = "cap: limits.max_nodes_per_group reached";
inline constexpr std::string_view kRejectGroupsPerAccount = "cap: limits.max_groups_per_account reached";

struct IngestConfig {
  IngestLimits limits;
  std::string gateway_node = "_gateway/edgemon-gateway";  // subject of the gateway's own alerts
  std::chrono::milliseconds rebirth_throttle{5000};       // per node
  std::chrono::milliseconds uptime_flush{5000};
  std::chrono::milliseconds storage_sample{1000};
  std::chrono::milliseconds reject_log{1000};
};

// The metric the gateway's own storage alert watches (1 ok, 0 failing) on `gateway_node`.
inline constexpr std::string_view kStorageMetric = "gateway/storage_ok";

struct IngestStats {
  static constexpr std::size_t kMaxReasons = 64;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t gaps = 0;
  std::uint64_t rebirth_requests = 0;
  std::uint64_t sample_duplicates = 0;  // replays of samples already received (completeness.h): not stored again
  // Metric names refused by a cap (the message itself is accepted, its other metrics kept).
  std::uint64_t metrics_refused_node_cap = 0;   // limits.max_metrics_per_node
  std::uint64_t metrics_refused_fleet_cap = 0;  // limits.max_metrics_total
  std::uint64_t notifications = 0;   // decided by the rules
  std::uint64_t clock_steps = 0;
  std::map<std::string, std::uint64_t, std::less<>> rejected;  // reason -> messages
  std::uint64_t rejected_total() const;
};

// A node whose view changed; `urgent`: status or online changed (sent at once, not coalesced).
// FleetState never removes a node, so the pointer stays valid.
struct NodeChange {
  const NodeState* node = nullptr;
  bool urgent = false;
};

struct Outbox {
  WriteBatch store;
  std::vector<Topic> rebirths;        // NCMD Node Control/Rebirth to send
  std::vector<NodeCommand> commands;  // other NCMDs (managed targets)
  std::vector<NodeChange> nodes;
  bool alerts_changed = false;  // the active alerts (or their suppression) changed
  // Notifications decided by the rules. Hand them on once `store` is committed (the alert state
  // that announced them is durable then), or at once when `deliver_now` (storage is failing and
  // waiting for a commit could take forever).
  std::vector<rules::Notification> notifications;
  bool deliver_now = false;

  bool empty() const {
    return store.empty() && rebirths.empty() && commands.empty() && nodes.empty() && !alerts_changed &&
           notifications.empty();
  }
};

class Ingest {
 public:
  // The stages are owned by the caller (the API reads them); Ingest feeds them.
  Ingest(IngestConfig config, FleetState& fleet, Aggregator& aggregator, Completeness& completeness,
         rules::Evaluator& evaluator, const ManagedTargets& managed);

  void message(std::string_view topic, std::string_view payload, const Instant& now, Outbox& out);
  void tick(const Instant& now, Outbox& out);
  // The history writer turned failing or ok again: the storage alert follows at once.
  void storage_status(bool ok, const Instant& now, Outbox& out);
  // The gateway lost the broker / has it back. While it is deaf every node is UNKNOWN and no rule
  // about the fleet fires from the passing of time; the deaf interval counts as neither uptime,
  // downtime nor silence (Aggregator::broker_lost, rules::Evaluator::broker_lost).
  void broker_lost(const Instant& now, Outbox& out);
  void broker_back(const Instant& now, Outbox& out);
  // What a clean stop must still store: uptime counts, sample accounting and the alert state.
  void final_state(const Instant& now, Outbox& out);

  bool storage_ok() const { return storage_ok_; }
  const IngestStats& stats() const { return stats_; }
  IngestStats& stats() { return stats_; }
  const IngestConfig& config() const { return config_; }

  // Alert changes made outside the pipeline (the API's silences and rules): their events and
  // incidents to store, node status and the alerts frame.
  void collect_alert_changes(Outbox& out);

 private:
  void reject(std::string_view reason, std::string_view topic, const Instant& now);
  void warn_limited(const char* what, std::string_view topic, const Instant& now, std::uint64_t count);
  bool admit(const Topic& topic, const Instant& now, std::string_view raw_topic);
  void observe_clock(const Instant& now);
  void evaluate(NodeState& node, MessageKind kind, const ApplyResult& r, const Instant& now);
  // Events/incidents -> store rows, alert counts -> node status, status changes -> node changes.
  // Returns whether the status of `skip_key` changed (its change is the caller's).
  bool drain_alerts(Outbox& out, const std::string* skip_key);
  void request_rebirth(const Topic& topic, const std::string& key, const Instant& now, Outbox& out);
  // Sample accounting of a message from a node that numbers its samples; false: a duplicate.
  bool account(const NodeState& node, MessageKind kind, const ApplyResult& r, const Instant& now, Outbox& out);
  // Settled holes -> DATA_LOSS events and the loss rule's sample.
  void report_losses(const Instant& now, Outbox& out);

  IngestConfig config_;
  FleetState& fleet_;
  Aggregator& aggregator_;
  Completeness& completeness_;
  rules::Evaluator& evaluator_;
  const ManagedTargets& managed_;
  IngestStats stats_;
  ClockSteps clock_steps_;

  // Admission bookkeeping: nodes per group, groups per account (node id).
  std::unordered_map<std::string, std::size_t> nodes_per_group_;
  std::unordered_map<std::string, std::vector<std::string>> groups_of_account_;

  std::unordered_map<std::string, MonoTime> last_rebirth_;  // node key -> last request
  std::map<std::string, std::size_t, std::less<>> alerts_per_node_;
  MonoTime last_reject_log_{};
  bool reject_logged_ = false;
  MonoTime last_uptime_flush_{};
  MonoTime last_storage_sample_{};
  bool ticked_ = false;
  bool storage_ok_ = true;
  std::vector<Observation> observations_;  // reused per message
  std::vector<rules::Sample> samples_;     // reused per message
  std::string key_;                        // a node key, reused per message
};

}  // namespace edgemon::gateway
