// SQLite history: the write path (one transaction per WriteBatch), node and series ids. See
// sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "edgemon/common/log.h"

namespace edgemon::gateway::sqlite {

std::string ping_hosts_json(const std::vector<std::string>& hosts) { return nlohmann::json{{"ping_hosts", hosts}}.dump(); }

Status SqliteStore::write(const WriteBatch& batch) {
  if (options_.read_only) return read_only_error();
  if (batch.empty()) return Status::Ok();
  return transaction([&] { return write_rows(batch); });
}

Status SqliteStore::append(const std::string& group, const std::string& node, std::span<const Metric> metrics) {
  WriteBatch b;
  b.samples.push_back({group, node, std::vector<Metric>(metrics.begin(), metrics.end())});
  return write(b);
}

Status SqliteStore::append_event(const StoredEvent& event) {
  WriteBatch b;
  b.events.push_back(event);
  return write(b);
}

Status SqliteStore::upsert_incident(const StoredIncident& incident) {
  WriteBatch b;
  b.incidents.push_back(incident);
  return write(b);
}

Status SqliteStore::write_rows(const WriteBatch& batch) {
  std::set<std::int64_t> report_days;
  if (Status s = write_blocks(batch.samples); !s) return s;
  for (const StoredEvent& e : batch.events) {
    Query q(stmt("INSERT INTO events(at_ms, subject, rule, type, from_state, to_state, reason, severity, suppressed) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    if (!q) return error("prepare event");
    q.bind(1, e.at_ms).bind(2, e.subject).bind(3, e.rule).bind(4, e.type).bind(5, e.from).bind(6, e.to);
    q.bind(7, e.reason).bind(8, e.severity).bind(9, std::int64_t{e.suppressed ? 1 : 0});
    if (q.step() != SQLITE_DONE) return error("insert event");
  }
  for (const StoredIncident& i : batch.incidents) {
    Query q(stmt("INSERT INTO incidents(subject, rule, type, severity, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT(subject, rule, start_ms) DO UPDATE SET end_ms = excluded.end_ms, severity = excluded.severity"));
    if (!q) return error("prepare incident");
    q.bind(1, i.subject).bind(2, i.rule).bind(3, i.type).bind(4, i.severity).bind(5, i.start_ms);
    if (i.end_ms) {
      q.bind(6, *i.end_ms);
    } else {
      q.bind_null(6);
    }
    if (q.step() != SQLITE_DONE) return error("upsert incident");
    // The incident counts of the days it starts and ends in may change.
    report_days.insert(floor_to(i.start_ms, kDayMs));
    if (i.end_ms) report_days.insert(floor_to(*i.end_ms, kDayMs));
  }
  for (const UptimeDelta& u : batch.uptime) {
    Query q(stmt("INSERT INTO uptime(subject, hour_ms, good, total) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(subject, hour_ms) DO UPDATE SET good = good + excluded.good, total = total + excluded.total"));
    if (!q) return error("prepare uptime");
    q.bind(1, u.subject).bind(2, u.hour_ms).bind(3, u.good).bind(4, u.total);
    if (q.step() != SQLITE_DONE) return error("upsert uptime");
    report_days.insert(floor_to(u.hour_ms, kDayMs));
  }
  for (const std::int64_t day : report_days) {
    Query q(stmt("INSERT OR IGNORE INTO report_dirty(day_ms) VALUES (?)"));
    if (!q) return error("prepare report dirty");
    q.bind(1, day);
    if (q.step() != SQLITE_DONE) return error("mark report dirty");
  }
  if (batch.alert_state) {
    // updated_ms is informational (when the gateway last saved its rules state), not a decision.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
    Query q(stmt("INSERT INTO alert_state(id, blob, updated_ms) VALUES (1, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET blob = excluded.blob, updated_ms = excluded.updated_ms"));
    if (!q) return error("prepare alert state");
    q.bind_blob(1, *batch.alert_state).bind(2, now);
    if (q.step() != SQLITE_DONE) return error("save alert state");
  }
  for (const NodeConfig& c : batch.node_configs) {
    // A configuration without hosts is one that could not be read back: never store it as an
    // empty list (that would leave the node without targets).
    if (!c.ping_hosts) {
      log::warn(kLog, "node configuration without hosts not stored", {{"node", c.node}});
      continue;
    }
    Query q(stmt("INSERT INTO node_config(node, config, version, updated_ms) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(node) DO UPDATE SET config = excluded.config, version = excluded.version, "
                 "updated_ms = excluded.updated_ms"));
    if (!q) return error("prepare node config");
    q.bind(1, c.node).bind(2, ping_hosts_json(*c.ping_hosts)).bind(3, c.version).bind(4, c.updated_ms);
    if (q.step() != SQLITE_DONE) return error("save node config");
  }
  for (const StoredRule& r : batch.rules) {
    Query q(stmt(r.removed ? "DELETE FROM api_rules WHERE name = ?"
                           : "INSERT INTO api_rules(name, body, updated_ms) VALUES (?, ?, ?) "
                             "ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms"));
    if (!q) return error("prepare rule");
    q.bind(1, r.name);
    if (!r.removed) q.bind(2, r.body).bind(3, r.updated_ms);
    if (q.step() != SQLITE_DONE) return error("save rule");
  }
  for (const SampleProgress& p : batch.progress) {
    Query q(stmt("INSERT INTO sample_progress(node, high, received, duplicates, missing, late, resets, losses, dropped, "
                 "damaged, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(node) DO UPDATE SET "
                 "high = excluded.high, received = excluded.received, duplicates = excluded.duplicates, "
                 "missing = excluded.missing, late = excluded.late, resets = excluded.resets, losses = excluded.losses, "
                 "dropped = excluded.dropped, damaged = excluded.damaged, updated_ms = excluded.updated_ms"));
    if (!q) return error("prepare sample progress");
    q.bind(1, p.node).bind(3, p.received).bind(4, p.duplicates).bind(5, p.missing).bind(6, p.late);
    q.bind(7, p.resets).bind(8, p.losses).bind(11, p.updated_ms);
    if (p.high) q.bind(2, *p.high); else q.bind_null(2);
    if (p.dropped) q.bind(9, *p.dropped); else q.bind_null(9);
    if (p.damaged) q.bind(10, *p.damaged); else q.bind_null(10);
    if (q.step() != SQLITE_DONE) return error("save sample progress");
  }
  return Status::Ok();
}

// One block per (node, sample time) of each NodeSamples; inserted in key order (a batch holds
// blocks of many nodes: in key order each leaf page of sample_blocks is visited once). The seq
// is assigned in submission order before sorting, so a later sample still wins.
Status SqliteStore::write_blocks(const std::vector<NodeSamples>& samples) {
  std::vector<Block> blocks;
  for (const NodeSamples& ns : samples) {
    if (ns.size() == 0) continue;
    auto node = node_ids(ns.group, ns.node);
    if (!node) return node.error();
    const std::size_t first = blocks.size();
    // A message's metrics nearly always share one time: look back over this message's blocks.
    const auto block_for = [&](std::int64_t ts) -> Block& {
      for (std::size_t i = blocks.size(); i > first; --i) {
        if (blocks[i - 1].ts_ms == ts) return blocks[i - 1];
      }
      blocks.push_back(Block{(*node)->id, ts, next_seq_++, {}});
      blocks.back().data.reserve(ns.size() * 12);
      return blocks.back();
    };
    for (const Metric& m : ns.metrics) {
      auto id = series_id(**node, m.name, m.unit);
      if (!id) return id.error();
      append_block_entry(block_for(m.ts_ms).data, *id, m.value);
    }
    if (!ns.values.empty()) {
      if (ns.names == nullptr) return make_error(ErrorCode::kInternal, "samples without their names");
      auto ids = series_ids(**node, ns.names);
      if (!ids) return ids.error();
      for (const SampleValue& v : ns.values) {
        if (v.series >= (*ids)->size()) return make_error(ErrorCode::kInternal, "sample of an unknown series");
        append_block_entry(block_for(v.ts_ms).data, (**ids)[v.series], v.opt());
      }
    }
  }
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    return std::tie(a.node_id, a.ts_ms, a.seq) < std::tie(b.node_id, b.ts_ms, b.seq);
  });
  for (const Block& b : blocks) {
    Query q(stmt("INSERT INTO sample_blocks(node_id, ts_ms, seq, data) VALUES (?, ?, ?, ?)"));
    if (!q) return error("prepare block");
    q.bind(1, b.node_id).bind(2, b.ts_ms).bind(3, b.seq).bind_blob(4, b.data);
    if (q.step() != SQLITE_DONE) return error("insert block");
    const std::int64_t minute = floor_to(b.ts_ms, kMinuteMs);
    const auto [marked, fresh] = marked_.try_emplace(b.node_id, kNoTime);
    if (!fresh && marked->second == minute) continue;  // already in block_dirty: nodes send several times a minute
    Query d(stmt("INSERT OR IGNORE INTO block_dirty(node_id, minute_ms) VALUES (?, ?)"));
    if (!d) return error("prepare dirty");
    d.bind(1, b.node_id).bind(2, minute);
    if (d.step() != SQLITE_DONE) return error("mark rollup dirty");
    marked->second = minute;
  }
  return Status::Ok();
}

Result<SqliteStore::NodeIds*> SqliteStore::node_ids(const std::string& group, const std::string& node) {
  std::string key;
  key.reserve(group.size() + node.size() + 1);
  key.append(group).push_back('\x1f');
  key.append(node);
  if (const auto it = ids_.find(key); it != ids_.end()) return &it->second;
  Query q(stmt("INSERT INTO nodes(grp, node) VALUES (?, ?) ON CONFLICT(grp, node) DO UPDATE SET grp=grp RETURNING id"));
  if (!q) return error("prepare node").error();
  q.bind(1, group).bind(2, node);
  if (q.step() != SQLITE_ROW) return error("upsert node").error();
  NodeIds& ids = ids_[std::move(key)];
  ids.id = q.i64(0);
  return &ids;
}

Result<std::int64_t> SqliteStore::series_id(NodeIds& node, const std::string& metric, const std::string& unit) {
  if (const auto it = node.series.find(metric); it != node.series.end()) return it->second;
  Query q(stmt("INSERT INTO series(node_id, metric, unit) VALUES (?, ?, ?) "
               "ON CONFLICT(node_id, metric) DO UPDATE SET unit=excluded.unit RETURNING id"));
  if (!q) return error("prepare series").error();
  q.bind(1, node.id).bind(2, metric).bind(3, unit);
  if (q.step() != SQLITE_ROW) return error("upsert series").error();
  const std::int64_t id = q.i64(0);
  node.series.emplace(metric, id);
  series_ms_.erase(id);  // the unit may have changed
  return id;
}

Result<const std::vector<std::int64_t>*> SqliteStore::series_ids(NodeIds& node, const std::shared_ptr<const SeriesNames>& names) {
  if (node.names != names) {
    std::vector<std::int64_t> ids;
    ids.reserve(names->size());
    for (const SeriesName& n : *names) {
      auto id = series_id(node, n.metric, n.unit);
      if (!id) return id.error();
      ids.push_back(*id);
    }
    node.names = names;
    node.name_ids = std::move(ids);
  }
  return &node.name_ids;
}

}  // namespace edgemon::gateway::sqlite
