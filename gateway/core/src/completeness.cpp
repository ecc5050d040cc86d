#include "edgemon/gateway/core/completeness.h"

#include <algorithm>
#include <utility>

#include "edgemon/common/log.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "completeness";

// How much of `count` a counter's growth from `before` to `after` explains (0 when either is
// unknown; a counter that went down started over, so all of `after` is growth).
std::uint64_t growth(std::optional<std::uint64_t> before, std::optional<std::uint64_t> after, std::uint64_t count) {
  if (!after) return 0;
  const std::uint64_t g = before && *after >= *before ? *after - *before : (before ? *after : 0);
  return std::min(g, count);
}

std::string samples(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " sample" : " samples"); }

}  // namespace

rules::Rule data_loss_rule() {
  rules::Rule loss;
  loss.name = std::string(kDataLossRule);
  loss.kind = rules::RuleKind::kThreshold;
  loss.op = rules::Op::kGreater;
  loss.threshold = 0;
  loss.metric = std::string(kMissingMetric);
  loss.type = std::string(kDataLossType);
  loss.severity = rules::Severity::kWarning;
  loss.samples = 1;
  loss.recovery_samples = 1;
  return loss;
}

std::string DataLoss::describe() const {
  std::string out = "sample_seq " + std::to_string(first);
  if (last != first) out += "-" + std::to_string(last);
  out += " missing (" + samples(count()) + "): ";
  std::vector<std::string> parts;
  if (overflow > 0) parts.push_back(std::to_string(overflow) + " dropped by the agent's full buffer");
  if (damaged > 0) parts.push_back(std::to_string(damaged) + " lost to a damaged buffer file on the agent");
  if (unexplained() > 0) {
    parts.push_back(parts.empty() ? "not delivered (the agent reported no loss of its own)"
                                  : std::to_string(unexplained()) + " not delivered");
  }
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : ", ") + parts[i];
  return out;
}

void Completeness::settle_node(const std::string& key, NodeRecord& r, std::int64_t now_ms) {
  constexpr std::uint64_t kAll = ~std::uint64_t{0};
  std::uint64_t overflow = growth(r.dropped, r.now_dropped, kAll);
  std::uint64_t damaged = growth(r.damaged, r.now_damaged, kAll);
  for (Hole& h : r.holes) {
    if (h.reported) continue;
    h.reported = true;
    DataLoss loss;
    loss.node = key;
    loss.first = h.first;
    loss.last = h.last;
    loss.at_ms = now_ms;
    loss.overflow = std::min(overflow, loss.count());
    overflow -= loss.overflow;
    loss.damaged = std::min(damaged, loss.count() - loss.overflow);
    damaged -= loss.damaged;
    ++r.counts.losses;
    ++totals_.losses;
    log::warn(kLog, "data loss", {{"node", key}, {"first", loss.first}, {"last", loss.last}, {"missing", loss.count()},
                                  {"overflow", loss.overflow}, {"damaged", loss.damaged}});
    r.recent.push_back(loss);
    if (r.recent.size() > config_.max_recent) r.recent.pop_front();
    r.expired = false;
    losses_.push_back(std::move(loss));
  }
  r.dropped = r.now_dropped;
  r.damaged = r.now_damaged;
  r.dirty = true;
}

std::optional<std::int64_t> Completeness::pending_since(const NodeRecord& r) {
  for (const Hole& h : r.holes) {
    if (!h.reported) return h.seen_ms;
  }
  return std::nullopt;
}

Completeness::Verdict Completeness::sample(std::string_view node, std::uint64_t seq, std::optional<std::uint64_t> dropped,
                                           std::optional<std::uint64_t> damaged, bool live, std::int64_t now_ms) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) {
    it = nodes_.emplace(std::string(node), NodeRecord{}).first;
    ++totals_.nodes;
    it->second.dropped = dropped;  // the first settled point
    it->second.damaged = damaged;
  }
  NodeRecord& r = it->second;
  NodeCounts& c = r.counts;
  r.dirty = true;
  if (dropped) r.now_dropped = dropped;
  if (damaged) r.now_damaged = damaged;
  Verdict verdict = Verdict::kNew;
  if (c.high && seq <= *c.high) {
    // Below the high mark: a late sample that fills (part of) a hole, or one already received.
    verdict = Verdict::kDuplicate;
    for (auto h = r.holes.begin(); h != r.holes.end(); ++h) {
      if (seq < h->first || seq > h->last) continue;
      if (h->first == h->last) {
        r.holes.erase(h);
      } else if (seq == h->first) {
        ++h->first;
      } else if (seq == h->last) {
        --h->last;
      } else {
        Hole upper = *h;
        upper.first = seq + 1;
        h->last = seq - 1;
        r.holes.insert(h + 1, upper);
        if (r.holes.size() > config_.max_holes) r.holes.erase(r.holes.begin());
      }
      ++c.received;
      ++totals_.received;
      if (c.missing > 0) --c.missing;
      if (totals_.missing > 0) --totals_.missing;
      ++c.late;
      ++totals_.late;
      verdict = Verdict::kLate;
      break;
    }
    if (verdict == Verdict::kDuplicate) {
      ++c.duplicates;
      ++totals_.duplicates;
      return verdict;
    }
  } else {
    if (c.high && seq > *c.high + 1) {
      const std::uint64_t n = seq - 1 - *c.high;
      r.holes.push_back(Hole{*c.high + 1, seq - 1, false, now_ms});
      if (r.holes.size() > config_.max_holes) r.holes.erase(r.holes.begin());
      c.missing += n;
      totals_.missing += n;
    }
    c.high = seq;
    ++c.received;
    ++totals_.received;
  }
  // A live sample: the backlog has drained, what the agent lost is in its counters now.
  if (live) {
    if (const auto since = pending_since(r)) {
      if (now_ms - *since >= config_.settle_min.count()) settle_node(it->first, r, now_ms);
    } else {
      r.dropped = r.now_dropped;
      r.damaged = r.now_damaged;
    }
  }
  return verdict;
}

bool Completeness::received(std::string_view node, std::uint64_t seq) const {
  const auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.counts.high || seq > *it->second.counts.high) return false;
  for (const Hole& h : it->second.holes) {
    if (seq >= h.first && seq <= h.last) return false;
  }
  return true;
}

void Completeness::settle(std::int64_t now_ms) {
  for (auto& [key, r] : nodes_) {
    const auto since = pending_since(r);
    if (since && now_ms - *since >= config_.settle.count()) settle_node(key, r, now_ms);
  }
}

void Completeness::birth(std::string_view node, std::optional<std::uint64_t> last) {
  const auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.counts.high) return;
  NodeRecord& r = it->second;
  if (last && *last >= *r.counts.high) return;
  // The agent has assigned fewer numbers than we received: its numbering started over.
  log::warn(kLog, "sample numbering started over (agent state reset); accounting restarts",
            {{"node", it->first}, {"received_up_to", *r.counts.high},
             {"announced", last ? std::to_string(*last) : std::string("none")}});
  r.counts.high.reset();
  r.holes.clear();
  r.dropped.reset();
  r.damaged.reset();
  r.now_dropped.reset();
  r.now_damaged.reset();
  ++r.counts.resets;
  ++totals_.resets;
  r.dirty = true;
}

std::uint64_t Completeness::missing_within(std::string_view node, std::int64_t now_ms) const {
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return 0;
  std::uint64_t n = 0;
  const std::int64_t from = now_ms - config_.loss_window.count();
  for (const DataLoss& loss : it->second.recent) {
    if (loss.at_ms > from) n += loss.count();
  }
  return n;
}

std::vector<std::string> Completeness::take_expired(std::int64_t now_ms) {
  std::vector<std::string> out;
  const std::int64_t from = now_ms - config_.loss_window.count();
  for (auto& [key, r] : nodes_) {
    // A node is reported once: when its newest loss leaves the window.
    if (r.recent.empty() || r.expired) continue;
    if (r.recent.back().at_ms <= from) {
      r.expired = true;
      out.push_back(key);
    }
  }
  return out;
}

std::vector<SampleProgress> Completeness::take_progress(std::int64_t now_ms) {
  std::vector<SampleProgress> out;
  for (auto& [key, r] : nodes_) {
    if (!r.dirty) continue;
    r.dirty = false;
    const NodeCounts& c = r.counts;
    out.push_back(SampleProgress{key, c.high, c.received, c.duplicates, c.missing, c.late, c.resets, c.losses,
                                 r.dropped, r.damaged, now_ms});
  }
  return out;
}

void Completeness::restore(const std::vector<SampleProgress>& rows) {
  for (const SampleProgress& p : rows) {
    auto [it, fresh] = nodes_.try_emplace(p.node);
    if (fresh) ++totals_.nodes;
    NodeRecord& r = it->second;
    r.counts.high = p.high;
    r.counts.received = p.received;
    r.counts.duplicates = p.duplicates;
    r.counts.missing = p.missing;
    r.counts.late = p.late;
    r.counts.resets = p.resets;
    r.counts.losses = p.losses;
    r.dropped = r.now_dropped = p.dropped;
    r.damaged = r.now_damaged = p.damaged;
    totals_.received += p.received;
    totals_.duplicates += p.duplicates;
    totals_.missing += p.missing;
    totals_.late += p.late;
    totals_.resets += p.resets;
    totals_.losses += p.losses;
  }
}

std::vector<DataLoss> Completeness::recent_losses(std::string_view node) const {
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return {};
  return {it->second.recent.begin(), it->second.recent.end()};
}

const Completeness::NodeCounts* Completeness::find(std::string_view node) const {
  const auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second.counts;
}

Completeness::Totals Completeness::totals() const { return totals_; }

}  // namespace edgemon::gateway
