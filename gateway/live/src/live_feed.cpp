#include "edgemon/gateway/live/live_feed.h"

#include <algorithm>

#include "edgemon/gateway/api/alerts_json.h"
#include "edgemon/gateway/api/node_json.h"

namespace edgemon::gateway {

LiveFeed::LiveFeed(LiveConfig config, const FleetState& fleet, const Aggregator& aggregator,
                   const rules::Evaluator& evaluator, WsHub& hub, const Clock& clock, RetainedPublisher publish)
    : config_(std::move(config)),
      fleet_(fleet),
      aggregator_(aggregator),
      evaluator_(evaluator),
      hub_(hub),
      clock_(clock),
      publish_(std::move(publish)) {}

void LiveFeed::node_changed(const NodeChange& change) {
  if (!hub_.wants_frames() && !config_.republish.enabled) {  // nobody watching: no JSON at all
    hub_.skipped();
    return;
  }
  if (!change.urgent) {
    pending_.insert(change.node);
    return;
  }
  pending_.erase(change.node);
  last_sent_[change.node] = clock_.mono();
  send(*change.node);
}

void LiveFeed::alerts_changed() {
  if (hub_.wants_frames()) {
    hub_.broadcast("alerts", alerts_json(evaluator_, clock_.wall()));
  } else {
    hub_.skipped();
  }
}

std::size_t LiveFeed::flush_share() const {
  const auto every = static_cast<std::size_t>(std::max<std::int64_t>(1, config_.flush_every.count()));
  const auto interval = static_cast<std::size_t>(std::max<std::int64_t>(1, config_.node_interval.count()));
  const std::size_t nodes = std::max(fleet_.nodes().size(), last_sent_.size());
  return (nodes * every * 5 + interval * 4 - 1) / (interval * 4) + 1;  // ceil(1.25 n every / interval) + 1
}

bool LiveFeed::flush(std::chrono::nanoseconds budget) {
  const MonoTime now = clock_.mono();
  if (!flushing_) share_left_ = flush_share();
  flushing_ = false;
  std::size_t sent = 0;
  for (auto it = pending_.begin(); it != pending_.end() && share_left_ > 0;) {
    const auto last = last_sent_.find(*it);
    if (last != last_sent_.end() && now - last->second < config_.node_interval) {  // at most once per interval
      ++it;
      continue;
    }
    if (sent > 0 && clock_.mono() - now >= budget) {  // the rest of this share at the next turn
      flushing_ = true;
      return true;
    }
    last_sent_[*it] = now;
    send(**it);
    ++sent;
    --share_left_;
    it = pending_.erase(it);
  }
  return false;
}

void LiveFeed::broker_reconnected() {
  published_online_.clear();
  published_discovery_.clear();
}

void LiveFeed::send(const NodeState& node) {
  const std::optional<NodeSummary> summary = aggregator_.node_summary(node.key);
  const NodeSummary* s = summary ? &*summary : nullptr;
  if (hub_.wants_frames()) {
    // Only the variants some client is sent (ws_hub.h, Views): a card is a tenth of the document.
    const WsHub::Variants need = hub_.node_variants(node.key);
    const std::string full = need.full ? node_json(node, s) : std::string();
    const std::string card = need.card ? node_json(node, s, NodeView::kCard) : std::string();
    hub_.broadcast_node(node.key, full, card);
  } else {
    hub_.skipped();
  }
  const RepublishConfig& rc = config_.republish;
  if (!rc.enabled || !publish_) return;
  if (!publish_(state_message(rc, node, s), 0)) return;  // not connected: nothing else either
  const auto online = published_online_.find(node.key);
  if (online == published_online_.end() || online->second != node.online) {
    if (publish_(availability_message(rc, node), 1)) published_online_[node.key] = node.online;
  }
  if (rc.homeassistant) {
    if (auto discovery = discovery_message(rc, node, config_.gateway_version)) {
      std::string& last = published_discovery_[node.key];
      if (last != discovery->payload && publish_(*discovery, 1)) last = discovery->payload;
    }
  }
}

}  // namespace edgemon::gateway
