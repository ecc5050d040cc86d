#include "edgemon/gateway/core/aggregator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <string_view>


namespace edgemon::gateway {
namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMinuteCount = static_cast<std::int64_t>(Aggregator::kMinuteBuckets);
constexpr std::int64_t kHourCount = static_cast<std::int64_t>(Aggregator::kHourBuckets);
constexpr std::size_t kMaxPendingPerSubject = Aggregator::kHourBuckets + 24;
constexpr std::size_t kMaxStatusChanges = 10'000;
constexpr std::size_t kCpuSlots = 5;  // minutes
constexpr std::string_view kCpuTotal = "cpu/total";

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
std::size_t ring_index(std::int64_t i, std::int64_t n) {
  return static_cast<std::size_t>(((i % n) + n) % n);
}
std::uint32_t sat_add(std::uint32_t a, std::uint64_t b) {
  const std::uint64_t s = static_cast<std::uint64_t>(a) + b;
  return s > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                       : static_cast<std::uint32_t>(s);
}

std::string iso_utc(std::int64_t ms) {
  const auto secs = static_cast<std::time_t>(floor_div(ms, 1000));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

struct Bucket {
  std::uint32_t good = 0;
  std::uint32_t total = 0;
};

struct PendingDelta {
  std::int64_t hour_ms = 0;
  std::uint64_t good = 0;
  std::uint64_t total = 0;
};

// The uptime rings of one subject. Buckets are cleared lazily when the head moves forward; a
// reader at time `now` only sums buckets inside both the window and the ring's reach.
struct Uptime {
  std::int64_t head_minute = kNever;
  std::int64_t head_hour = kNever;
  std::array<Bucket, Aggregator::kMinuteBuckets> minutes{};
  std::array<Bucket, Aggregator::kHourBuckets> hours{};
  std::vector<PendingDelta> pending;  // since the last take_uptime_deltas()
  std::uint64_t dropped_deltas = 0;

  void advance(std::int64_t t_ms) {
    const std::int64_t m = floor_div(t_ms, kMinuteMs);
    if (head_minute == kNever) {
      head_minute = m;
    } else if (m > head_minute) {
      const std::int64_t n = std::min(m - head_minute, kMinuteCount);
      for (std::int64_t i = 1; i <= n; ++i) minutes[ring_index(head_minute + i, kMinuteCount)] = {};
      head_minute = m;
    }
    const std::int64_t h = floor_div(t_ms, kHourMs);
    if (head_hour == kNever) {
      head_hour = h;
    } else if (h > head_hour) {
      const std::int64_t n = std::min(h - head_hour, kHourCount);
      for (std::int64_t i = 1; i <= n; ++i) hours[ring_index(head_hour + i, kHourCount)] = {};
      head_hour = h;
    }
  }

  bool minute_in_ring(std::int64_t m) const { return m <= head_minute && m > head_minute - kMinuteCount; }
  bool hour_in_ring(std::int64_t h) const { return h <= head_hour && h > head_hour - kHourCount; }

  void record_delta(std::int64_t hour, std::uint64_t good, std::uint64_t total) {
    const std::int64_t hour_ms = hour * kHourMs;
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      if (it->hour_ms == hour_ms) {
        it->good += good;
        it->total += total;
        return;
      }
    }
    if (pending.size() >= kMaxPendingPerSubject) {
      ++dropped_deltas;
      return;
    }
    pending.push_back({hour_ms, good, total});
  }

  // Counts at time t (rounds). Moves the head forward to t if needed; t older than the ring's
  // reach counts nowhere.
  void add(std::int64_t t_ms, std::uint64_t good, std::uint64_t total) {
    advance(t_ms);
    const std::int64_t m = floor_div(t_ms, kMinuteMs);
    if (minute_in_ring(m)) {
      Bucket& b = minutes[ring_index(m, kMinuteCount)];
      b.good = sat_add(b.good, good);
      b.total = sat_add(b.total, total);
    }
    const std::int64_t h = floor_div(t_ms, kHourMs);
    if (hour_in_ring(h)) {
      Bucket& b = hours[ring_index(h, kHourCount)];
      b.good = sat_add(b.good, good);
      b.total = sat_add(b.total, total);
      record_delta(h, good, total);
    }
  }

  // The time span [from, to) in ms, all of it good or all of it bad (node accounting).
  void add_span(std::int64_t from, std::int64_t to, bool good) {
    if (to <= from) return;
    advance(to);
    for (std::int64_t t = std::max(from, (head_minute - kMinuteCount + 1) * kMinuteMs); t < to;) {
      const std::int64_t m = floor_div(t, kMinuteMs);
      const std::int64_t end = std::min(to, (m + 1) * kMinuteMs);
      Bucket& b = minutes[ring_index(m, kMinuteCount)];
      const auto ms = static_cast<std::uint64_t>(end - t);
      b.total = sat_add(b.total, ms);
      if (good) b.good = sat_add(b.good, ms);
      t = end;
    }
    for (std::int64_t t = std::max(from, (head_hour - kHourCount + 1) * kHourMs); t < to;) {
      const std::int64_t h = floor_div(t, kHourMs);
      const std::int64_t end = std::min(to, (h + 1) * kHourMs);
      Bucket& b = hours[ring_index(h, kHourCount)];
      const auto ms = static_cast<std::uint64_t>(end - t);
      b.total = sat_add(b.total, ms);
      if (good) b.good = sat_add(b.good, ms);
      record_delta(h, good ? ms : 0, ms);
      t = end;
    }
  }

  // A stored hour row: into the hour ring, and spread evenly over that hour's minutes in the
  // minute ring (the current hour: over its minutes so far).
  void seed(std::int64_t hour_ms, std::uint64_t good, std::uint64_t total, std::int64_t now_ms) {
    advance(now_ms);
    const std::int64_t h = floor_div(hour_ms, kHourMs);
    if (!hour_in_ring(h)) return;
    good = std::min<std::uint64_t>(std::min(good, total), std::numeric_limits<std::uint32_t>::max());
    total = std::min<std::uint64_t>(total, std::numeric_limits<std::uint32_t>::max());
    Bucket& hb = hours[ring_index(h, kHourCount)];
    hb.good = sat_add(hb.good, good);
    hb.total = sat_add(hb.total, total);
    const std::int64_t first_minute = h * 60;
    if (first_minute + 59 <= head_minute - kMinuteCount) return;  // no minute of it in the ring
    const std::int64_t n = std::min<std::int64_t>(60, head_minute - first_minute + 1);
    if (n <= 0) return;
    const auto un = static_cast<std::uint64_t>(n);
    for (std::uint64_t i = 0; i < un; ++i) {
      const std::int64_t m = first_minute + static_cast<std::int64_t>(i);
      if (!minute_in_ring(m)) continue;
      Bucket& b = minutes[ring_index(m, kMinuteCount)];
      b.good = sat_add(b.good, (i + 1) * good / un - i * good / un);
      b.total = sat_add(b.total, (i + 1) * total / un - i * total / un);
    }
  }

  UptimeCounts sum(UptimeWindow w, std::int64_t now_ms) const {
    UptimeCounts c;
    if (head_minute == kNever) return c;
    if (w == UptimeWindow::k1h) {
      const std::int64_t qm = floor_div(now_ms, kMinuteMs);
      const std::int64_t lo = std::max(qm, head_minute) - kMinuteCount + 1;
      for (std::int64_t m = lo; m <= std::min(qm, head_minute); ++m) {
        const Bucket& b = minutes[ring_index(m, kMinuteCount)];
        c.good += b.good;
        c.total += b.total;
      }
      return c;
    }
    const std::int64_t span = w == UptimeWindow::k24h ? 24 : w == UptimeWindow::k7d ? 24 * 7 : kHourCount;
    const std::int64_t qh = floor_div(now_ms, kHourMs);
    const std::int64_t lo = std::max(qh - span + 1, head_hour - kHourCount + 1);
    for (std::int64_t h = lo; h <= std::min(qh, head_hour); ++h) {
      const Bucket& b = hours[ring_index(h, kHourCount)];
      c.good += b.good;
      c.total += b.total;
    }
    return c;
  }
};

struct Round {
  float rtt = std::numeric_limits<float>::quiet_NaN();   // NaN: nothing answered / not reported
  float loss = std::numeric_limits<float>::quiet_NaN();  // NaN: not reported
  std::int8_t up = -1;                                    // -1: unknown
};

struct Target {
  Family family = Family::kPing;
  std::string name;
  std::optional<double> up, state, rtt, loss;  // current (live) values
  std::optional<double> replay_up;             // carried forward through historical messages
  std::int64_t last_seen = kNever;             // last live message mentioning the target
  std::int64_t last_up = kNever;               // last live round with up == 1
  std::array<Round, Aggregator::kWindowRounds> window{};
  std::size_t window_pos = 0;
  std::size_t window_count = 0;
  Uptime uptime;

  void push_round(const Round& r) {
    window[window_pos] = r;
    window_pos = (window_pos + 1) % window.size();
    window_count = std::min(window_count + 1, window.size());
  }
};

struct MinuteSlot {
  std::int64_t minute = kNever;
  double cpu_sum = 0;
  double cpu_max = 0;
  std::uint32_t cpu_n = 0;
  std::uint32_t messages = 0;
};

struct Node {
  std::string key;
  bool heard = false;     // a message or NDEATH arrived in this process
  bool accruing = false;  // ms accounting has started
  bool online = false;
  bool stale = false;
  std::int64_t known_since = 0;
  std::int64_t first_heard = kNever;
  std::int64_t last_seen = kNever;
  std::int64_t last_live = kNever;
  std::int64_t accrued_to = 0;
  std::int64_t offline_since = 0;
  std::array<std::uint32_t, 8> gaps{};  // the last live inter-arrival times, ms
  std::size_t gap_count = 0;
  std::size_t gap_pos = 0;
  std::size_t alerts = 0;
  NodeStatus status = NodeStatus::kUnknown;
  std::array<MinuteSlot, kCpuSlots> slots{};
  Uptime uptime;
  std::map<std::string, Target, std::less<>> targets;  // "<family>/<target>"

  MinuteSlot& slot(std::int64_t now_ms) {
    const std::int64_t m = floor_div(now_ms, kMinuteMs);
    MinuteSlot& s = slots[ring_index(m, static_cast<std::int64_t>(kCpuSlots))];
    if (s.minute != m) s = MinuteSlot{m, 0, 0, 0, 0};
    return s;
  }
};

std::optional<double> pct(const UptimeCounts& c) {
  if (c.total == 0) return std::nullopt;
  return 100.0 * static_cast<double>(c.good) / static_cast<double>(c.total);
}
std::optional<std::int64_t> time_or_none(std::int64_t t) {
  return t == kNever ? std::nullopt : std::optional<std::int64_t>(t);
}
void shift(std::int64_t& t, std::int64_t delta) {
  if (t != kNever) t += delta;
}

}  // namespace

const char* to_string(NodeStatus s) {
  switch (s) {
    case NodeStatus::kUnknown: return "UNKNOWN";
    case NodeStatus::kHealthy: return "HEALTHY";
    case NodeStatus::kDegraded: return "DEGRADED";
    case NodeStatus::kDown: return "DOWN";
  }
  return "UNKNOWN";
}

struct Aggregator::Impl {
  AggregatorConfig config;
  std::map<std::string, Node, std::less<>> nodes;
  std::vector<StatusChange> changes;
  std::int64_t now = 0;
  std::uint64_t dropped = 0;
  std::size_t targets = 0;
  Node* last_node = nullptr;  // node_for()'s cache
  std::optional<std::int64_t> deaf_since;  // the gateway lost the broker then (broker_lost())

  void advance_now(std::int64_t t) { now = std::max(now, t); }

  std::int64_t stale_after(const Node& n) const {
    if (config.stale_after_ms > 0) return config.stale_after_ms;
    std::int64_t interval = config.assumed_interval_ms;
    if (n.gap_count > 0) {
      std::array<std::uint32_t, 8> g = n.gaps;
      const auto end = g.begin() + static_cast<std::ptrdiff_t>(n.gap_count);
      const auto mid = g.begin() + static_cast<std::ptrdiff_t>(n.gap_count / 2);
      std::nth_element(g.begin(), mid, end);
      interval = *mid;
    }
    return std::max<std::int64_t>(config.min_stale_after_ms,
                                  std::llround(config.stale_factor * static_cast<double>(interval)));
  }

  bool active(const Target& t) const {
    return t.last_seen != kNever && now - t.last_seen <= config.target_retire_ms;
  }

  Node* node_for(const std::string& key, std::int64_t t) {
    // A message calls in here two or three times for its node: remember the last one (nodes are
    // never removed, so the pointer stays valid).
    if (last_node != nullptr && last_node->key == key) return last_node;
    auto it = nodes.find(key);
    if (it != nodes.end()) {
      last_node = &it->second;
      return last_node;
    }
    if (nodes.size() >= config.max_nodes) {
      ++dropped;
      return nullptr;
    }
    Node& n = nodes[key];
    n.key = key;
    n.known_since = t;
    return &n;
  }

  Target* target_for(Node& n, const MetricKey& key) { return target_for(n, key.family(), key.target(), key.target_id()); }

  Target* target_for(Node& n, Family family, std::string_view name, std::string_view id) {
    auto it = n.targets.find(id);
    if (it != n.targets.end()) return &it->second;
    if (n.targets.size() >= config.max_targets_per_node || targets >= config.max_targets_total) {
      ++dropped;
      return nullptr;
    }
    Target& t = n.targets[std::string(id)];
    t.family = family;
    t.name = name;
    ++targets;
    return &t;
  }

  NodeStatus compute_status(const Node& n) const {
    if (deaf_since) return NodeStatus::kUnknown;  // the gateway cannot know
    if (!n.accruing) return NodeStatus::kUnknown;
    if (!n.online || n.stale) return NodeStatus::kDown;
    if (n.alerts > 0) return NodeStatus::kDegraded;
    for (const auto& [key, t] : n.targets) {
      if (!active(t)) continue;
      if ((t.up && *t.up == 0) || (t.state && (*t.state == 2 || *t.state == 3))) return NodeStatus::kDegraded;
    }
    return NodeStatus::kHealthy;
  }

  std::string reason(const Node& n, NodeStatus s) const {
    switch (s) {
      case NodeStatus::kUnknown:
        return deaf_since ? "gateway disconnected from the broker since " + iso_utc(*deaf_since) : "no message yet";
      case NodeStatus::kHealthy: return "";
      case NodeStatus::kDown:
        if (!n.heard) return "not heard from since " + iso_utc(n.known_since);
        if (!n.online) return "offline since " + iso_utc(n.offline_since);
        return "no data since " + iso_utc(n.last_seen);
      case NodeStatus::kDegraded: break;
    }
    std::string first_down, first_degraded;
    std::size_t downs = 0, degraded = 0;
    for (const auto& [key, t] : n.targets) {
      if (!active(t)) continue;
      if ((t.up && *t.up == 0) || (t.state && *t.state == 3)) {
        if (downs++ == 0) first_down = t.name;
      } else if (t.state && *t.state == 2) {
        if (degraded++ == 0) first_degraded = t.name;
      }
    }
    std::string out;
    const auto add = [&out](const std::string& part) {
      if (!out.empty()) out += "; ";
      out += part;
    };
    if (downs > 0) {
      add("target " + first_down + " down" + (downs > 1 ? " (+" + std::to_string(downs - 1) + " more)" : ""));
    }
    if (degraded > 0) {
      add("target " + first_degraded + " degraded" +
          (degraded > 1 ? " (+" + std::to_string(degraded - 1) + " more)" : ""));
    }
    if (n.alerts > 0) add(std::to_string(n.alerts) + (n.alerts == 1 ? " alert firing" : " alerts firing"));
    return out;
  }

  void refresh(Node& n, std::int64_t at) {
    const NodeStatus s = compute_status(n);
    if (s == n.status) return;
    if (changes.size() >= kMaxStatusChanges) changes.erase(changes.begin());
    changes.push_back(StatusChange{n.key, n.status, s, at, reason(n, s)});
    n.status = s;
  }

  // Brings a node's accounting up to `t` under its current state: a seeded node's grace period,
  // staleness (at last seen + stale_after), then ms online / observed.
  void catch_up(Node& n, std::int64_t t) {
    if (deaf_since) return;  // unobserved: neither up nor down, and nothing goes stale
    if (!n.accruing) {
      const std::int64_t grace_end = n.known_since + stale_after(n);
      if (n.heard || t < grace_end) return;
      n.accruing = true;  // never heard from: down since we knew it
      n.accrued_to = n.known_since;
      refresh(n, grace_end);
    }
    if (n.online && !n.stale) {
      const std::int64_t stale_at = n.last_seen + stale_after(n);
      if (stale_at <= t) {
        if (stale_at > n.accrued_to) {
          n.uptime.add_span(n.accrued_to, stale_at, true);
          n.accrued_to = stale_at;
        }
        n.stale = true;
        refresh(n, stale_at);
      }
    }
    if (t > n.accrued_to) {
      n.uptime.add_span(n.accrued_to, t, n.online && !n.stale);
      n.accrued_to = t;
    }
  }

  // Common start of every node event: returns the node, accounted up to `t`, or null (capped).
  Node* begin_event(const std::string& key, std::int64_t t) {
    advance_now(t);
    Node* n = node_for(key, t);
    if (n == nullptr) return nullptr;
    catch_up(*n, t);
    if (!n->accruing) {
      n->accruing = true;
      n->accrued_to = t;
    }
    n->heard = true;
    return n;
  }

  void heard_from(Node& n, std::int64_t t, bool live) {
    if (live) {
      const bool was_up = n.online && !n.stale;
      if (was_up && n.last_live != kNever && t > n.last_live) {
        const std::int64_t gap = std::min<std::int64_t>(t - n.last_live, std::numeric_limits<std::uint32_t>::max());
        n.gaps[n.gap_pos] = static_cast<std::uint32_t>(gap);
        n.gap_pos = (n.gap_pos + 1) % n.gaps.size();
        n.gap_count = std::min(n.gap_count + 1, n.gaps.size());
      }
      n.last_live = t;
    }
    n.online = true;
    n.stale = false;
    if (n.first_heard == kNever) n.first_heard = t;
    n.last_seen = t;
  }
};

Aggregator::Aggregator(AggregatorConfig config) : impl_(std::make_unique<Impl>()) { impl_->config = config; }
Aggregator::~Aggregator() = default;
Aggregator::Aggregator(Aggregator&&) noexcept = default;
Aggregator& Aggregator::operator=(Aggregator&&) noexcept = default;

void Aggregator::observe(const std::string& node_key, std::span<const Observation> metrics, bool live,
                         std::int64_t now_ms) {
  Impl& I = *impl_;
  Node* np = I.begin_event(node_key, now_ms);
  if (np == nullptr) return;
  Node& n = *np;
  I.heard_from(n, now_ms, live);
  MinuteSlot& slot = n.slot(now_ms);
  ++slot.messages;

  std::int64_t msg_ts = kNever;
  // A target's leaves arrive one after the other ("ping/x/rtt", "ping/x/rtt_min", ...): the last
  // target found is tried first, so most metrics need no map lookup.
  Target* last_target = nullptr;
  std::string_view last_id;
  for (const Observation& m : metrics) {
    msg_ts = std::max(msg_ts, m.ts_ms);
    const MetricKey& key = *m.key;
    if (!key.probe()) {
      if (live && m.value && key.family() == Family::kBoard && key.name() == kCpuTotal) {
        slot.cpu_max = slot.cpu_n == 0 ? *m.value : std::max(slot.cpu_max, *m.value);
        slot.cpu_sum += *m.value;
        ++slot.cpu_n;
      }
      continue;
    }
    Target* t = last_target != nullptr && key.target_id() == last_id ? last_target : I.target_for(n, key);
    if (t == nullptr) continue;
    last_target = t;
    last_id = key.target_id();
    if (!live) {
      if (key.leaf() == Leaf::kUp && m.value) t->replay_up = m.value;
      continue;
    }
    t->last_seen = now_ms;
    switch (key.leaf()) {
      case Leaf::kUp: t->up = m.value; break;
      case Leaf::kState: t->state = m.value; break;
      case Leaf::kRtt: t->rtt = m.value; break;
      case Leaf::kLoss: t->loss = m.value; break;
      default: break;
    }
  }

  if (live) {
    // One round for every active target, with its current values (not sent = unchanged).
    for (auto& [key, t] : n.targets) {
      if (!I.active(t) || !t.up) continue;
      const bool good = *t.up == 1;
      Round r;
      r.up = good ? 1 : 0;
      if (t.rtt) r.rtt = static_cast<float>(*t.rtt);
      if (t.loss) r.loss = static_cast<float>(*t.loss);
      t.push_round(r);
      t.uptime.add(now_ms, good ? 1 : 0, 1);
      if (good) t.last_up = now_ms;
    }
  } else if (msg_ts != kNever && msg_ts > 0) {
    // A replayed sample: one round per target in its own time, outside the current values.
    const std::int64_t ts = std::min(msg_ts, now_ms);
    for (auto& [key, t] : n.targets) {
      t.uptime.advance(now_ms);  // the window is relative to now, not to the sample
      const std::optional<double> up = t.replay_up ? t.replay_up : (I.active(t) ? t.up : std::nullopt);
      if (!up) continue;
      t.uptime.add(ts, *up == 1 ? 1 : 0, 1);
    }
  }
  I.refresh(n, now_ms);
}

void Aggregator::node_online(const std::string& node_key, std::int64_t now_ms) {
  Impl& I = *impl_;
  Node* n = I.begin_event(node_key, now_ms);
  if (n == nullptr) return;
  I.heard_from(*n, now_ms, false);
  for (auto& [key, t] : n->targets) t.replay_up.reset();  // a new session: replays follow the birth
  I.refresh(*n, now_ms);
}

void Aggregator::node_offline(const std::string& node_key, std::int64_t now_ms) {
  Impl& I = *impl_;
  Node* n = I.begin_event(node_key, now_ms);
  if (n == nullptr) return;
  if (n->online || n->offline_since == 0) n->offline_since = now_ms;
  n->online = false;
  n->stale = false;
  I.refresh(*n, now_ms);
}

void Aggregator::tick(std::int64_t now_ms) {
  Impl& I = *impl_;
  I.advance_now(now_ms);
  for (auto& [key, n] : I.nodes) {
    I.catch_up(n, now_ms);
    I.refresh(n, now_ms);  // targets retire with time
  }
}

void Aggregator::set_alerts(const std::string& node_key, std::size_t firing_warning_or_worse) {
  Impl& I = *impl_;
  auto it = I.nodes.find(node_key);
  if (it == I.nodes.end()) return;
  I.catch_up(it->second, I.now);
  it->second.alerts = firing_warning_or_worse;
  I.refresh(it->second, I.now);
}

std::vector<UptimeDelta> Aggregator::take_uptime_deltas() {
  std::vector<UptimeDelta> out;
  const auto take = [&out](const std::string& subject, Uptime& u) {
    std::sort(u.pending.begin(), u.pending.end(),
              [](const PendingDelta& a, const PendingDelta& b) { return a.hour_ms < b.hour_ms; });
    for (const PendingDelta& d : u.pending) out.push_back(UptimeDelta{subject, d.hour_ms, d.good, d.total});
    u.pending.clear();
  };
  for (auto& [key, n] : impl_->nodes) {
    take(key, n.uptime);
    for (auto& [tkey, t] : n.targets) take(key + "/" + tkey, t.uptime);
  }
  return out;
}

void Aggregator::seed(std::span<const UptimeDelta> rows, std::int64_t now_ms) {
  Impl& I = *impl_;
  I.advance_now(now_ms);
  for (const UptimeDelta& row : rows) {
    const std::string_view s = row.subject;
    const std::size_t a = s.find('/');
    if (a == 0 || a == std::string_view::npos || a + 1 >= s.size()) continue;
    const std::size_t b = s.find('/', a + 1);
    const std::string node_key(s.substr(0, b));
    if (b == a + 1) continue;
    Uptime* u = nullptr;
    if (b == std::string_view::npos) {
      Node* n = I.node_for(node_key, now_ms);
      if (n != nullptr) u = &n->uptime;
    } else {
      const std::string_view rest = s.substr(b + 1);
      const std::size_t c = rest.find('/');
      if (c == std::string_view::npos) continue;
      Family family = Family::kPing;
      const std::string_view target = rest.substr(c + 1);
      if (!probe_family_from(rest.substr(0, c), family) || target.empty() ||
          target.find('/') != std::string_view::npos) {
        continue;
      }
      Node* n = I.node_for(node_key, now_ms);
      if (n == nullptr) continue;
      Target* t = I.target_for(*n, family, target, rest);
      if (t != nullptr) u = &t->uptime;
    }
    if (u != nullptr) u->seed(row.hour_ms, row.good, row.total, now_ms);
  }
}

std::vector<StatusChange> Aggregator::take_status_changes() {
  std::vector<StatusChange> out;
  out.swap(impl_->changes);
  return out;
}

NodeStatusInfo Aggregator::status(std::string_view node_key) const {
  const auto it = impl_->nodes.find(node_key);
  if (it == impl_->nodes.end()) return {NodeStatus::kUnknown, "no message yet"};
  return {it->second.status, impl_->reason(it->second, it->second.status)};
}

UptimeCounts Aggregator::uptime_counts(const std::string& subject, UptimeWindow w) const {
  const Impl& I = *impl_;
  const std::size_t a = subject.find('/');
  if (a == std::string::npos) return {};
  const std::size_t b = subject.find('/', a + 1);
  const auto it = I.nodes.find(std::string_view(subject).substr(0, b));
  if (it == I.nodes.end()) return {};
  if (b == std::string::npos) return it->second.uptime.sum(w, I.now);
  const auto t = it->second.targets.find(std::string_view(subject).substr(b + 1));
  if (t == it->second.targets.end()) return {};
  return t->second.uptime.sum(w, I.now);
}

std::optional<double> Aggregator::uptime_pct(const std::string& subject, UptimeWindow w) const {
  const UptimeCounts c = uptime_counts(subject, w);
  if (c.total == 0) return std::nullopt;
  return 100.0 * static_cast<double>(c.good) / static_cast<double>(c.total);
}

namespace {
UptimePct uptime_pct_of(const Uptime& u, std::int64_t now) {
  return {pct(u.sum(UptimeWindow::k1h, now)), pct(u.sum(UptimeWindow::k24h, now)),
          pct(u.sum(UptimeWindow::k7d, now)), pct(u.sum(UptimeWindow::k30d, now))};
}
}  // namespace

std::optional<NodeSummary> Aggregator::node_summary(std::string_view node_key) const {
  const Impl& I = *impl_;
  const auto it = I.nodes.find(node_key);
  if (it == I.nodes.end()) return std::nullopt;
  const Node& n = it->second;
  const std::int64_t now = I.now;
  const std::int64_t qm = floor_div(now, kMinuteMs);

  NodeSummary out;
  out.key = n.key;
  out.status = n.status;
  out.status_reason = I.reason(n, n.status);
  out.last_seen = time_or_none(n.last_seen);
  out.uptime = uptime_pct_of(n.uptime, now);

  double cpu_sum = 0;
  double cpu_max = 0;
  std::uint64_t cpu_n = 0;
  std::uint64_t messages = 0;
  for (const MinuteSlot& s : n.slots) {
    if (s.minute == kNever || s.minute > qm || s.minute <= qm - static_cast<std::int64_t>(kCpuSlots)) continue;
    messages += s.messages;
    if (s.cpu_n == 0) continue;
    cpu_max = cpu_n == 0 ? s.cpu_max : std::max(cpu_max, s.cpu_max);
    cpu_sum += s.cpu_sum;
    cpu_n += s.cpu_n;
  }
  if (n.first_heard != kNever) {
    const std::int64_t window_start = (qm - static_cast<std::int64_t>(kCpuSlots) + 1) * kMinuteMs;
    const std::int64_t covered = std::max(kMinuteMs, now - std::max(window_start, n.first_heard));
    out.rate_per_min = static_cast<double>(messages) * static_cast<double>(kMinuteMs) / static_cast<double>(covered);
  }
  if (cpu_n > 0) {
    out.cpu_avg_5m = cpu_sum / static_cast<double>(cpu_n);
    out.cpu_max_5m = cpu_max;
  }

  out.targets.reserve(n.targets.size());
  for (const auto& [key, t] : n.targets) {
    double rtt_sum = 0, rtt_min = 0, rtt_max = 0, loss_sum = 0;
    std::size_t rtt_n = 0, loss_n = 0, up_n = 0, down_n = 0;
    for (std::size_t i = 0; i < t.window_count; ++i) {
      const Round& r = t.window[i];
      if (!std::isnan(r.rtt)) {
        const double v = r.rtt;
        rtt_min = rtt_n == 0 ? v : std::min(rtt_min, v);
        rtt_max = rtt_n == 0 ? v : std::max(rtt_max, v);
        rtt_sum += v;
        ++rtt_n;
      }
      if (!std::isnan(r.loss)) {
        loss_sum += r.loss;
        ++loss_n;
      }
      if (r.up >= 0) {
        ++up_n;
        if (r.up == 0) ++down_n;
      }
    }
    TargetSummary ts;
    ts.key = n.key + "/" + key;
    ts.family = t.family;
    ts.target = t.name;
    ts.active = I.active(t);
    ts.state = t.state;
    ts.up = t.up;
    if (loss_n > 0) {
      ts.loss_pct = loss_sum / static_cast<double>(loss_n);
    } else if (up_n > 0) {
      ts.loss_pct = 100.0 * static_cast<double>(down_n) / static_cast<double>(up_n);
    }
    if (rtt_n > 0) {
      ts.rtt_avg = rtt_sum / static_cast<double>(rtt_n);
      ts.rtt_min = rtt_min;
      ts.rtt_max = rtt_max;
    }
    ts.rounds = t.window_count;
    ts.last_seen = time_or_none(t.last_seen);
    ts.last_up = time_or_none(t.last_up);
    ts.uptime = uptime_pct_of(t.uptime, now);
    out.targets.push_back(std::move(ts));
  }
  return out;
}

FleetSummary Aggregator::fleet_summary() const {
  const Impl& I = *impl_;
  FleetSummary out;
  out.nodes.reserve(I.nodes.size());
  for (const auto& [key, n] : I.nodes) {
    ++out.counts[static_cast<std::size_t>(n.status)];
    out.nodes.push_back(FleetEntry{key, n.status, I.reason(n, n.status), time_or_none(n.last_seen)});
  }
  return out;
}

std::array<std::size_t, kNodeStatuses> Aggregator::status_counts() const {
  std::array<std::size_t, kNodeStatuses> counts{};
  for (const auto& [key, n] : impl_->nodes) ++counts[static_cast<std::size_t>(n.status)];
  return counts;
}

namespace {

// Moves every remembered time of a node by `delta_ms`.
void shift_node(Node& n, std::int64_t delta_ms) {
  n.known_since += delta_ms;
  shift(n.first_heard, delta_ms);
  shift(n.last_seen, delta_ms);
  shift(n.last_live, delta_ms);
  n.accrued_to += delta_ms;
  if (n.offline_since != 0) n.offline_since += delta_ms;
  for (auto& [tkey, t] : n.targets) {
    shift(t.last_seen, delta_ms);
    shift(t.last_up, delta_ms);
  }
}

}  // namespace

void Aggregator::clock_stepped(std::int64_t delta_ms) {
  Impl& I = *impl_;
  I.now += delta_ms;
  for (auto& [key, n] : I.nodes) shift_node(n, delta_ms);
}

void Aggregator::broker_lost(std::int64_t now_ms) {
  Impl& I = *impl_;
  if (I.deaf_since) return;
  I.advance_now(now_ms);
  for (auto& [key, n] : I.nodes) I.catch_up(n, I.now);  // accounted while the gateway could hear
  I.deaf_since = I.now;
  for (auto& [key, n] : I.nodes) I.refresh(n, I.now);
}

void Aggregator::broker_back(std::int64_t now_ms) {
  Impl& I = *impl_;
  if (!I.deaf_since) return;
  I.advance_now(now_ms);
  const std::int64_t deaf_ms = I.now - *I.deaf_since;
  I.deaf_since.reset();
  // The deaf interval never happened for the fleet: not observed for uptime, not silence.
  for (auto& [key, n] : I.nodes) {
    shift_node(n, deaf_ms);
    I.refresh(n, I.now);
  }
}

bool Aggregator::deaf() const { return impl_->deaf_since.has_value(); }

std::size_t Aggregator::node_count() const { return impl_->nodes.size(); }
std::size_t Aggregator::target_count() const { return impl_->targets; }
std::uint64_t Aggregator::dropped_subjects() const { return impl_->dropped; }

std::size_t Aggregator::memory_bytes() const {
  constexpr std::size_t kMapNodeOverhead = 4 * sizeof(void*);  // red-black tree node links + color
  std::size_t bytes = sizeof(Impl) + impl_->changes.capacity() * sizeof(StatusChange);
  const auto str = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  for (const auto& [key, n] : impl_->nodes) {
    bytes += kMapNodeOverhead + sizeof(std::pair<const std::string, Node>) + 2 * str(key) +
             n.uptime.pending.capacity() * sizeof(PendingDelta);
    for (const auto& [tkey, t] : n.targets) {
      bytes += kMapNodeOverhead + sizeof(std::pair<const std::string, Target>) + str(tkey) +
               str(t.name) + t.uptime.pending.capacity() * sizeof(PendingDelta);
    }
  }
  return bytes;
}

}  // namespace edgemon::gateway
