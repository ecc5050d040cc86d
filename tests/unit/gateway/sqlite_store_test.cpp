#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgemon/gateway/store/store.h"
#include "temp_dir.h"

namespace edgemon::gateway {
namespace {

using ::testing::HasSubstr;
using testing_support::TempDir;

// Opens the file with sqlite3 directly, to check what the store wrote rather than what it says.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path;
    }
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::string text(const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      if (t != nullptr) out = reinterpret_cast<const char*>(t);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(st);
    return out;
  }
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open() {
    auto s = open_sqlite_store(path_);
    if (!s) {
      ADD_FAILURE() << s.error().message;
      return nullptr;
    }
    return std::move(s).value();
  }

  TempDir dir_;
  std::string path_ = dir_.file("edgemon.db");
};

Metric mk(std::string name, std::string unit, std::optional<double> value, std::int64_t ts) {
  Metric m;
  m.name = std::move(name);
  m.unit = std::move(unit);
  m.value = value;
  m.ts_ms = ts;
  return m;
}

std::vector<std::int64_t> times(const std::vector<SeriesPoint>& pts) {
  std::vector<std::int64_t> out;
  for (const SeriesPoint& p : pts) out.push_back(p.ts_ms);
  return out;
}

TEST_F(SqliteStoreTest, NewDatabaseIsAtTheLatestSchemaVersion) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 7);
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "7");
}

TEST_F(SqliteStoreTest, SampleProgressIsUpsertedByNodeAndSurvivesReopen) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.progress.push_back(SampleProgress{"plant/pi-1", 41, 40, 3, 2, 1, 0, 1, 7, std::nullopt, 1000});
    b.progress.push_back(SampleProgress{"plant/pi-2", std::nullopt, 10, 0, 0, 0, 1, 0, std::nullopt, 4, 1000});
    ASSERT_TRUE(store->write(b).ok());
    WriteBatch later;
    later.progress.push_back(SampleProgress{"plant/pi-1", 99, 98, 3, 2, 1, 0, 1, 8, 0, 2000});
    ASSERT_TRUE(store->write(later).ok());
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto rows = store->sample_progress();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  const SampleProgress& a = (*rows)[0];
  EXPECT_EQ(a.node, "plant/pi-1");
  EXPECT_EQ(a.high, std::optional<std::uint64_t>(99));
  EXPECT_EQ(a.received, 98u);
  EXPECT_EQ(a.duplicates, 3u);
  EXPECT_EQ(a.missing, 2u);
  EXPECT_EQ(a.dropped, std::optional<std::uint64_t>(8));
  EXPECT_EQ(a.damaged, std::optional<std::uint64_t>(0));
  EXPECT_EQ(a.updated_ms, 2000);
  const SampleProgress& b = (*rows)[1];
  EXPECT_EQ(b.node, "plant/pi-2");
  EXPECT_FALSE(b.high);
  EXPECT_EQ(b.resets, 1u);
  EXPECT_FALSE(b.dropped);
  EXPECT_EQ(b.damaged, std::optional<std::uint64_t>(4));
}

TEST_F(SqliteStoreTest, DatabaseIsInWalMode) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, AppendThenQueryRoundTripsValuesAndNulls) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::vector<Metric> metrics = {
      mk("cpu/total", "%", 12.5, 1000),
      mk("ping/10.0.0.1/rtt", "ms", std::nullopt, 1000),
  };
  ASSERT_TRUE(store->append("plant", "pi-1", metrics).ok());

  auto cpu = store->query("plant", "pi-1", "cpu/total", 0, 2000, 100);
  ASSERT_TRUE(cpu.ok()) << cpu.error().message;
  ASSERT_EQ(cpu->size(), 1u);
  EXPECT_EQ((*cpu)[0].ts_ms, 1000);
  EXPECT_EQ((*cpu)[0].value, 12.5);

  auto ping = store->query("plant", "pi-1", "ping/10.0.0.1/rtt", 0, 2000, 100);
  ASSERT_TRUE(ping.ok()) << ping.error().message;
  ASSERT_EQ(ping->size(), 1u);
  EXPECT_FALSE((*ping)[0].value.has_value()) << "a timeout stays a gap, not a zero";
}

TEST_F(SqliteStoreTest, QueryReturnsOldestFirstWithinInclusiveRange) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (std::int64_t ts : {300, 100, 500, 200, 400}) {
    const Metric m = mk("m", "", static_cast<double>(ts), ts);
    ASSERT_TRUE(store->append("g", "n", std::span(&m, 1)).ok());
  }
  auto all = store->query("g", "n", "m", 0, 1000, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(times(*all), (std::vector<std::int64_t>{100, 200, 300, 400, 500}));
  EXPECT_EQ((*all)[2].value, 300.0);

  auto range = store->query("g", "n", "m", 200, 400, 100);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(times(*range), (std::vector<std::int64_t>{200, 300, 400}));
}

TEST_F(SqliteStoreTest, LimitKeepsTheOldestPoints) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (std::int64_t ts = 1; ts <= 10; ++ts) {
    const Metric m = mk("m", "", 1.0, ts);
    ASSERT_TRUE(store->append("g", "n", std::span(&m, 1)).ok());
  }
  auto r = store->query("g", "n", "m", 0, 100, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(times(*r), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(SqliteStoreTest, SeriesAreKeptApartByGroupNodeAndMetric) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const Metric a = mk("cpu/total", "%", 1.0, 10);
  const Metric b = mk("cpu/total", "%", 2.0, 10);
  const Metric c = mk("cpu/total", "%", 3.0, 10);
  const Metric d = mk("cpu/core0", "%", 4.0, 10);
  ASSERT_TRUE(store->append("g1", "n1", std::span(&a, 1)).ok());
  ASSERT_TRUE(store->append("g1", "n2", std::span(&b, 1)).ok());
  ASSERT_TRUE(store->append("g2", "n1", std::span(&c, 1)).ok());
  ASSERT_TRUE(store->append("g1", "n1", std::span(&d, 1)).ok());
  auto r = store->query("g1", "n1", "cpu/total", 0, 100, 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].value, 1.0);
  auto none = store->query("g1", "n1", "mem/used", 0, 100, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto unknown_node = store->query("g9", "n9", "cpu/total", 0, 100, 10);
  ASSERT_TRUE(unknown_node.ok());
  EXPECT_TRUE(unknown_node->empty());
}

TEST_F(SqliteStoreTest, SameTimestampTwiceKeepsTheLatestValue) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const Metric first = mk("m", "", 1.0, 10);
  const Metric again = mk("m", "", 2.0, 10);
  ASSERT_TRUE(store->append("g", "n", std::span(&first, 1)).ok());
  ASSERT_TRUE(store->append("g", "n", std::span(&again, 1)).ok());
  auto r = store->query("g", "n", "m", 0, 100, 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].value, 2.0);
}

TEST_F(SqliteStoreTest, OneBatchOfManySeriesOutOfOrderKeepsEverySampleAndTheLatestDuplicate) {
  // write() inserts a batch's samples sorted by (series, ts): the result must be the same as in
  // submission order, including which of two samples with the same key wins (the later one).
  auto store = open();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.samples.push_back({"g", "n2", {mk("b", "", 1.0, 30), mk("a", "", 2.0, 20)}});
  batch.samples.push_back({"g", "n1", {mk("a", "", 3.0, 10), mk("a", "", 4.0, 5)}});
  batch.samples.push_back({"g", "n2", {mk("b", "", 5.0, 10), mk("b", "", 6.0, 30)}});
  batch.samples.push_back({"g", "n1", {mk("a", "", 7.0, 10)}});
  ASSERT_TRUE(store->write(batch).ok());
  const auto values = [&](const std::string& node, const std::string& metric) {
    std::vector<std::pair<std::int64_t, std::optional<double>>> out;
    auto r = store->query("g", node, metric, 0, 100, 10);
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      for (const SeriesPoint& p : *r) out.emplace_back(p.ts_ms, p.value);
    }
    return out;
  };
  using V = std::vector<std::pair<std::int64_t, std::optional<double>>>;
  EXPECT_EQ(values("n1", "a"), (V{{5, 4.0}, {10, 7.0}}));
  EXPECT_EQ(values("n2", "a"), (V{{20, 2.0}}));
  EXPECT_EQ(values("n2", "b"), (V{{10, 5.0}, {30, 6.0}}));
}

TEST_F(SqliteStoreTest, ReopenKeepsDataAndVersion) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const std::vector<Metric> metrics = {mk("a", "V", 3.25, 50), mk("b", "", std::nullopt, 50)};
    ASSERT_TRUE(store->append("g", "n", metrics).ok());
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 7);
  auto a = store->query("g", "n", "a", 0, 100, 10);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].value, 3.25);
  auto b = store->query("g", "n", "b", 0, 100, 10);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_FALSE((*b)[0].value.has_value());
  // New points after reopening land in the same series.
  const Metric more = mk("a", "V", 4.0, 60);
  ASSERT_TRUE(store->append("g", "n", std::span(&more, 1)).ok());
  auto a2 = store->query("g", "n", "a", 0, 100, 10);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(times(*a2), (std::vector<std::int64_t>{50, 60}));
  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM series"), "2");
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefusedWithAClearMessage) {
  {
    RawDb raw(path_);
    raw.exec("CREATE TABLE future (x); PRAGMA user_version = 99;");
  }
  auto s = open_sqlite_store(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr(path_));
  EXPECT_THAT(s.error().message, HasSubstr("schema version 99 is newer than this gateway (7)"));
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "99") << "a refused database is not migrated";
}

TEST_F(SqliteStoreTest, UnopenablePathIsAnIoErrorNamingThePath) {
  const std::string bad = dir_.file("no/such/dir/edgemon.db");
  auto s = open_sqlite_store(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_THAT(s.error().message, HasSubstr(bad));
}

}  // namespace
}  // namespace edgemon::gateway

namespace edgemon::gateway {
namespace {

TEST_F(SqliteStoreTest, EventsAndIncidentsRoundTripAndAnIncidentCloses) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  StoredEvent e{1000, "edgemon/pi-01/cpu/total", "high_cpu", "HIGH_CPU", "pending", "firing", "cpu/total = 91 > 85", "warning", false};
  ASSERT_TRUE(store->append_event(e).ok());
  e.at_ms = 2000;
  e.from = "firing";
  e.to = "ok";
  e.suppressed = true;
  ASSERT_TRUE(store->append_event(e).ok());
  auto events = store->events(10, 0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].at_ms, 2000);  // newest first
  EXPECT_EQ((*events)[0].to, "ok");
  EXPECT_TRUE((*events)[0].suppressed);
  EXPECT_EQ((*events)[1].reason, "cpu/total = 91 > 85");
  auto page = store->events(1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].at_ms, 1000);

  StoredIncident i{"edgemon/pi-01", "node_down", "NODE_DOWN", "critical", 5000, std::nullopt};
  ASSERT_TRUE(store->upsert_incident(i).ok());
  auto open_now = store->incidents(10, 0);
  ASSERT_TRUE(open_now.ok());
  ASSERT_EQ(open_now->size(), 1u);
  EXPECT_FALSE((*open_now)[0].end_ms.has_value());
  i.end_ms = 9000;
  ASSERT_TRUE(store->upsert_incident(i).ok());  // the same incident closes, no duplicate
  auto closed = store->incidents(10, 0);
  ASSERT_TRUE(closed.ok());
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0].end_ms, 9000);
}

}  // namespace
}  // namespace edgemon::gateway

// ---- schema v3: batched writes, rollups, retention, uptime, daily reports, readers ----------

namespace edgemon::gateway {
namespace {

constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kDayStart = 1'710'028'800'000;  // 2024-03-10T00:00:00Z
constexpr std::int64_t kGraceMs = 5'000;                 // a minute is rolled up this long after it ends

class SqliteStoreV3Test : public SqliteStoreTest {
 protected:
  std::unique_ptr<Store> open_with(const SqliteOptions& options) {
    auto s = open_sqlite_store(path_, options);
    if (!s) {
      ADD_FAILURE() << s.error().message;
      return nullptr;
    }
    return std::move(s).value();
  }

  // Runs maintain() until it reports no more work (at most 1000 calls).
  static MaintenanceReport maintain_all(Store& store, std::int64_t now_ms) {
    MaintenanceReport total;
    for (int i = 0; i < 1000; ++i) {
      auto r = store.maintain(now_ms);
      if (!r) {
        ADD_FAILURE() << r.error().message;
        return total;
      }
      total.minutes_rolled_up += r->minutes_rolled_up;
      total.hours_rolled_up += r->hours_rolled_up;
      total.late_buckets_discarded += r->late_buckets_discarded;
      total.samples_deleted += r->samples_deleted;
      total.minute_rows_deleted += r->minute_rows_deleted;
      total.hour_rows_deleted += r->hour_rows_deleted;
      total.uptime_rows_deleted += r->uptime_rows_deleted;
      total.events_deleted += r->events_deleted;
      total.incidents_deleted += r->incidents_deleted;
      total.reports_deleted += r->reports_deleted;
      total.reports_built += r->reports_built;
      if (!r->more) return total;
    }
    ADD_FAILURE() << "maintain() kept reporting more work";
    return total;
  }

  static WriteBatch samples(const std::string& node, std::vector<Metric> metrics) {
    WriteBatch b;
    b.samples.push_back(NodeSamples{"plant", node, std::move(metrics)});
    return b;
  }

  std::vector<Rollup> rollups_of(Store& store, const std::string& metric, Resolution res, std::int64_t from,
                                 std::int64_t to, const std::string& node = "pi-1") {
    auto r = store.rollups("plant", node, metric, res, from, to, 100000);
    if (!r) {
      ADD_FAILURE() << r.error().message;
      return {};
    }
    return std::move(r).value();
  }
};

// The v1 + v2 schema exactly as released, to build a database an older gateway left behind.
constexpr const char* kV2Schema = R"sql(
    CREATE TABLE nodes (id INTEGER PRIMARY KEY, grp TEXT NOT NULL, node TEXT NOT NULL, UNIQUE (grp, node));
    CREATE TABLE series (id INTEGER PRIMARY KEY, node_id INTEGER NOT NULL REFERENCES nodes(id), metric TEXT NOT NULL,
                         unit TEXT NOT NULL, UNIQUE (node_id, metric));
    CREATE TABLE samples (series_id INTEGER NOT NULL REFERENCES series(id), ts_ms INTEGER NOT NULL, value REAL,
                          PRIMARY KEY (series_id, ts_ms)) WITHOUT ROWID;
    CREATE TABLE events (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, subject TEXT NOT NULL, rule TEXT NOT NULL,
                         type TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, reason TEXT NOT NULL,
                         severity TEXT NOT NULL, suppressed INTEGER NOT NULL);
    CREATE INDEX events_at ON events(at_ms);
    CREATE TABLE incidents (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, rule TEXT NOT NULL, type TEXT NOT NULL,
                            severity TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER,
                            UNIQUE (subject, rule, start_ms));
    PRAGMA user_version = 2;
)sql";

TEST_F(SqliteStoreV3Test, MigratesAVersion2DatabaseKeepingItsDataAndRollsItUp) {
  {
    RawDb raw(path_);
    raw.exec(kV2Schema);
    raw.exec("INSERT INTO nodes(id, grp, node) VALUES (1, 'plant', 'pi-1');"
             "INSERT INTO series(id, node_id, metric, unit) VALUES (1, 1, 'ping/gw/rtt', 'ms');"
             "INSERT INTO samples VALUES (1, 1710028800000, 2.0), (1, 1710028830000, 4.0), (1, 1710028860000, NULL);"
             "INSERT INTO events(at_ms, subject, rule, type, from_state, to_state, reason, severity, suppressed) "
             "  VALUES (5, 'plant/pi-1', 'down', 'NODE_DOWN', 'ok', 'firing', 'gone', 'critical', 0);"
             "INSERT INTO incidents(subject, rule, type, severity, start_ms, end_ms) "
             "  VALUES ('plant/pi-1', 'down', 'NODE_DOWN', 'critical', 5, NULL);");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 7);
  auto pts = store->query("plant", "pi-1", "ping/gw/rtt", 0, kDayStart + kDay, 10);
  ASSERT_TRUE(pts.ok());
  EXPECT_EQ(times(*pts), (std::vector<std::int64_t>{kDayStart, kDayStart + 30'000, kDayStart + 60'000}));
  auto ev = store->events(10, 0);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].type, "NODE_DOWN");
  auto inc = store->incidents(10, 0);
  ASSERT_TRUE(inc.ok());
  ASSERT_EQ(inc->size(), 1u);
  // Samples stored by v2 are rolled up by the first maintenance.
  maintain_all(*store, kDayStart + kHour);
  auto minutes = rollups_of(*store, "ping/gw/rtt", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(minutes.size(), 2u);
  EXPECT_EQ(minutes[0].ts_ms, kDayStart);
  EXPECT_EQ(minutes[0].count, 2u);
  EXPECT_DOUBLE_EQ(minutes[0].avg, 3.0);
  EXPECT_EQ(minutes[1].count, 0u);
  EXPECT_EQ(minutes[1].nulls, 1u);
  EXPECT_TRUE(std::isnan(minutes[1].avg));
  auto hours = rollups_of(*store, "ping/gw/rtt", Resolution::kHour, 0, kDayStart + kDay);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].count, 2u);
  EXPECT_EQ(hours[0].nulls, 1u);
}

TEST_F(SqliteStoreV3Test, BatchWriteIsAllOrNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  {
    RawDb raw(path_);
    raw.exec("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.subject = 'boom' "
             "BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
  }
  WriteBatch b = samples("pi-1", {mk("cpu/total", "%", 10.0, kDayStart), mk("mem/used", "%", 20.0, kDayStart)});
  b.samples.push_back(NodeSamples{"plant", "pi-2", {mk("cpu/total", "%", 30.0, kDayStart)}});
  b.uptime.push_back(UptimeDelta{"plant/pi-1", kDayStart, 10, 10});
  b.incidents.push_back(StoredIncident{"plant/pi-1", "r", "T", "warning", kDayStart, std::nullopt});
  b.alert_state = std::string("{\"v\":1}");
  b.node_configs.push_back(NodeConfig{"plant/pi-1", std::vector<std::string>{"10.0.0.1"}, "api-1", kDayStart});
  b.events.push_back(StoredEvent{kDayStart, "plant/pi-1", "r", "T", "ok", "firing", "x", "warning", false});
  b.events.push_back(StoredEvent{kDayStart, "boom", "r", "T", "ok", "firing", "x", "warning", false});
  EXPECT_EQ(b.rows(), 9u);

  Status s = store->write(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_THAT(s.error().message, HasSubstr("refused by test"));
  {
    RawDb raw(path_);
    for (const char* table : {"nodes", "series", "sample_blocks", "block_dirty", "events", "incidents", "uptime",
                              "report_dirty", "alert_state", "node_config"}) {
      EXPECT_EQ(raw.text((std::string("SELECT count(*) FROM ") + table).c_str()), "0") << table;
    }
  }
  // Without the refused event the same batch commits whole, series created afresh.
  b.events.pop_back();
  ASSERT_TRUE(store->write(b).ok());
  auto cpu2 = store->query("plant", "pi-2", "cpu/total", 0, kDayStart, 10);
  ASSERT_TRUE(cpu2.ok());
  ASSERT_EQ(cpu2->size(), 1u);
  EXPECT_EQ((*cpu2)[0].value, 30.0);
  auto state = store->alert_state();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, std::optional<std::string>("{\"v\":1}"));
  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM sample_blocks"), "2") << "one block per (node, sample time)";
  EXPECT_EQ(raw.text("SELECT count(*) FROM block_dirty"), "2") << "one dirty row per (node, minute)";
  EXPECT_EQ(raw.text("SELECT count(*) FROM events"), "1");
}

TEST_F(SqliteStoreV3Test, NodeConfigsAreUpsertedByNodeAndKeptAcrossReopen) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.node_configs.push_back(NodeConfig{"plant/pi-2", std::vector<std::string>{}, "api-1", 10});
    b.node_configs.push_back(NodeConfig{"plant/pi-1", std::vector<std::string>{"a"}, "api-2", 20});
    b.node_configs.push_back(NodeConfig{"plant/pi-1", std::vector<std::string>{"a", "b"}, "api-3", 30});  // later wins
    ASSERT_TRUE(store->write(b).ok());
  }
  {
    // The stored form (schema v4) is what older gateways wrote and read: {"ping_hosts":[...]}.
    RawDb raw(path_);
    EXPECT_EQ(raw.text("SELECT config FROM node_config WHERE node = 'plant/pi-1'"), R"({"ping_hosts":["a","b"]})");
    EXPECT_EQ(raw.text("SELECT config FROM node_config WHERE node = 'plant/pi-2'"), R"({"ping_hosts":[]})");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto all = store->node_configs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].node, "plant/pi-1");
  EXPECT_EQ((*all)[0].ping_hosts, (std::optional<std::vector<std::string>>(std::vector<std::string>{"a", "b"})));
  EXPECT_EQ((*all)[0].version, "api-3");
  EXPECT_EQ((*all)[0].updated_ms, 30);
  EXPECT_EQ((*all)[1].node, "plant/pi-2");
  EXPECT_EQ((*all)[1].ping_hosts, (std::optional<std::vector<std::string>>(std::vector<std::string>{})))
      << "an empty list is a list, not an unreadable row";
}

TEST_F(SqliteStoreV3Test, UnreadableNodeConfigRowsComeBackWithoutHosts) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.node_configs.push_back(NodeConfig{"plant/ok", std::vector<std::string>{"10.0.0.1"}, "api-1", 10});
    ASSERT_TRUE(store->write(b).ok());
  }
  {
    // Rows no gateway would write: damaged text, the wrong shape, a non-string host.
    RawDb raw(path_);
    raw.exec("INSERT INTO node_config(node, config, version, updated_ms) VALUES "
             "('plant/a-garbage', 'not json', 'api-2', 20), "
             "('plant/b-object', '{}', 'api-3', 30), "
             "('plant/c-not-array', '{\"ping_hosts\":\"10.0.0.1\"}', 'api-4', 40), "
             "('plant/d-number', '{\"ping_hosts\":[\"a\",7]}', 'api-5', 50), "
             "('plant/e-array', '[\"10.0.0.1\"]', 'api-6', 60)");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto all = store->node_configs();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 6u);
  const char* unreadable[] = {"plant/a-garbage", "plant/b-object", "plant/c-not-array", "plant/d-number", "plant/e-array"};
  for (std::size_t i = 0; i < std::size(unreadable); ++i) {
    EXPECT_EQ((*all)[i].node, unreadable[i]);
    EXPECT_EQ((*all)[i].ping_hosts, std::nullopt) << unreadable[i];
  }
  // The rest of an unreadable row is still read, and a readable row next to them is intact.
  EXPECT_EQ((*all)[0].version, "api-2");
  EXPECT_EQ((*all)[0].updated_ms, 20);
  EXPECT_EQ((*all)[5].node, "plant/ok");
  EXPECT_EQ((*all)[5].ping_hosts, (std::optional<std::vector<std::string>>(std::vector<std::string>{"10.0.0.1"})));
}

TEST_F(SqliteStoreV3Test, ApiRulesAreUpsertedAndRemovedInOrderAndKeptAcrossReopen) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.rules.push_back(StoredRule{"hot", R"({"name":"hot","threshold":80})", 10, false});
    b.rules.push_back(StoredRule{"gone", R"({"name":"gone"})", 11, false});
    b.rules.push_back(StoredRule{"hot", R"({"name":"hot","threshold":85})", 12, false});  // later wins
    b.rules.push_back(StoredRule{"gone", "", 13, true});
    ASSERT_TRUE(store->write(b).ok());
    WriteBatch again;
    again.rules.push_back(StoredRule{"gone", R"({"name":"gone","kind":"node_down"})", 14, false});  // re-added
    ASSERT_TRUE(store->write(again).ok());
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto all = store->rules();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "gone");
  EXPECT_EQ((*all)[0].body, R"({"name":"gone","kind":"node_down"})");
  EXPECT_EQ((*all)[1].name, "hot");
  EXPECT_EQ((*all)[1].body, R"({"name":"hot","threshold":85})");
  EXPECT_EQ((*all)[1].updated_ms, 12);
}

TEST_F(SqliteStoreV3Test, AlertStateIsReplacedAndKeptByteForByte) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto none = store->alert_state();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  WriteBatch b;
  b.alert_state = std::string("first");
  ASSERT_TRUE(store->write(b).ok());
  b.alert_state = std::string("{\"rules\":[]}\0tail", 17);
  ASSERT_TRUE(store->write(b).ok());
  auto got = store->alert_state();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::optional<std::string>(std::string("{\"rules\":[]}\0tail", 17)));
  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM alert_state"), "1");
}

TEST_F(SqliteStoreV3Test, MinuteRollupValuesAreExactAndQuantilesWithinBucketError) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::vector<Metric> ms, pct;
  for (int v = 1; v <= 100; ++v) {  // 1..100 ms, shuffled in time
    const std::int64_t ts = kDayStart + ((v * 37) % 100) * 500;
    ms.push_back(mk("ping/gw/rtt", "ms", static_cast<double>(v), ts));
    pct.push_back(mk("cpu/total", "%", static_cast<double>(v), ts));
  }
  ms.push_back(mk("ping/gw/rtt", "ms", std::nullopt, kDayStart + 59'999));
  ASSERT_TRUE(store->write(samples("pi-1", ms)).ok());
  ASSERT_TRUE(store->write(samples("pi-1", pct)).ok());

  // Not before the minute is closed (its end plus the grace).
  auto early = store->maintain(kDayStart + kMin + kGraceMs - 1);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->minutes_rolled_up, 0u);
  EXPECT_TRUE(rollups_of(*store, "ping/gw/rtt", Resolution::kMinute, 0, kDayStart + kDay).empty());

  auto done = store->maintain(kDayStart + kMin + kGraceMs);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->minutes_rolled_up, 2u);
  EXPECT_EQ(done->hours_rolled_up, 2u);
  EXPECT_FALSE(done->more);

  const auto rtt = rollups_of(*store, "ping/gw/rtt", Resolution::kMinute, kDayStart, kDayStart);
  ASSERT_EQ(rtt.size(), 1u);
  EXPECT_EQ(rtt[0].ts_ms, kDayStart);
  EXPECT_EQ(rtt[0].min, 1.0);
  EXPECT_EQ(rtt[0].max, 100.0);
  EXPECT_DOUBLE_EQ(rtt[0].avg, 50.5);
  EXPECT_EQ(rtt[0].count, 100u);
  EXPECT_EQ(rtt[0].nulls, 1u) << "a sample without a value is counted apart, not as zero";
  ASSERT_EQ(rtt[0].quantiles.size(), 5u);
  const double exact[] = {10, 25, 50, 75, 90};  // nearest rank of 1..100
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(rtt[0].quantiles[i], exact[i], exact[i] * 0.0906) << "quantile " << i;

  const auto cpu = rollups_of(*store, "cpu/total", Resolution::kMinute, kDayStart, kDayStart);
  ASSERT_EQ(cpu.size(), 1u);
  EXPECT_DOUBLE_EQ(cpu[0].avg, 50.5);
  EXPECT_EQ(cpu[0].nulls, 0u);
  EXPECT_TRUE(cpu[0].quantiles.empty()) << "no distribution for a series that is not in ms";

  // Raw resolution: one bucket per sample.
  const auto raw = rollups_of(*store, "ping/gw/rtt", Resolution::kRaw, kDayStart, kDayStart + 999);
  ASSERT_EQ(raw.size(), 2u);  // ts +0 and +500
  EXPECT_EQ(raw[0].count, 1u);
  EXPECT_EQ(raw[0].min, raw[0].max);
}

TEST_F(SqliteStoreV3Test, QuantilesStayWithinTenPercentOverAWideRange) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  // One minute per value, so each quantile is that value.
  std::vector<Metric> ms;
  const std::vector<double> values = {0.02, 0.137, 0.9, 1.0, 3.3, 17.0, 99.9, 250.0, 1234.5, 59999.0};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto minute = kDayStart + static_cast<std::int64_t>(i) * kMin;
    ms.push_back(mk("rtt", "ms", values[i], minute));
    ms.push_back(mk("rtt", "ms", values[i] * 1.0001, minute + 1));  // a spread, so min != max
  }
  ASSERT_TRUE(store->write(samples("pi-1", ms)).ok());
  maintain_all(*store, kDayStart + kHour);
  const auto rows = rollups_of(*store, "rtt", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(rows.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(rows[i].quantiles.size(), 5u);
    EXPECT_NEAR(rows[i].quantiles[2], values[i], values[i] * 0.1) << values[i];
  }
}

TEST_F(SqliteStoreV3Test, LateSamplesUpdateAnAlreadyRolledUpMinuteAndItsHour) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->write(samples("pi-1", {mk("rtt", "ms", 10.0, kDayStart + 1000)})).ok());
  maintain_all(*store, kDayStart + 2 * kMin);
  auto before = rollups_of(*store, "rtt", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].count, 1u);

  // Store-and-forward replay, hours later.
  ASSERT_TRUE(store->write(samples("pi-1", {mk("rtt", "ms", 30.0, kDayStart + 2000), mk("rtt", "ms", 20.0, kDayStart + 3000)})).ok());
  const auto r = maintain_all(*store, kDayStart + 5 * kHour);
  EXPECT_EQ(r.minutes_rolled_up, 1u);
  auto after = rollups_of(*store, "rtt", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].count, 3u);
  EXPECT_EQ(after[0].min, 10.0);
  EXPECT_EQ(after[0].max, 30.0);
  EXPECT_DOUBLE_EQ(after[0].avg, 20.0);
  auto hour = rollups_of(*store, "rtt", Resolution::kHour, 0, kDayStart + kDay);
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_EQ(hour[0].count, 3u);
  EXPECT_DOUBLE_EQ(hour[0].avg, 20.0);
}

TEST_F(SqliteStoreV3Test, DirtyBucketsSurviveACloseWithoutMaintenance) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->write(samples("pi-1", {mk("rtt", "ms", 4.0, kDayStart), mk("rtt", "ms", 8.0, kDayStart + kMin)})).ok());
    // Gone without maintain(), as after a kill -9.
  }
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.text("SELECT count(*) FROM block_dirty"), "2");
    EXPECT_EQ(raw.text("SELECT count(*) FROM rollups_1m"), "0");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  maintain_all(*store, kDayStart + kHour);
  auto minutes = rollups_of(*store, "rtt", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(minutes.size(), 2u);
  EXPECT_EQ(minutes[0].avg, 4.0);
  EXPECT_EQ(minutes[1].avg, 8.0);
  auto hour = rollups_of(*store, "rtt", Resolution::kHour, 0, kDayStart + kDay);
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_DOUBLE_EQ(hour[0].avg, 6.0);
  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM block_dirty"), "0");
}

TEST_F(SqliteStoreV3Test, HourRollupMergesMinuteRowsAndHistograms) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::vector<Metric> ms;
  for (int m = 0; m < 60; ++m) {  // one hour: minute m holds m+1 and 2(m+1)
    ms.push_back(mk("rtt", "ms", m + 1.0, kDayStart + m * kMin));
    ms.push_back(mk("rtt", "ms", 2 * (m + 1.0), kDayStart + m * kMin + 30'000));
  }
  ms.push_back(mk("rtt", "ms", std::nullopt, kDayStart + 5 * kMin + 1));
  ms.push_back(mk("rtt", "ms", 1000.0, kDayStart + kHour));  // next hour
  ASSERT_TRUE(store->write(samples("pi-1", ms)).ok());
  SqliteOptions small;
  small.maintenance_chunk = 7;  // several chunks, each recomputing the hour from what is rolled up
  auto chunked = open_with(small);
  ASSERT_NE(chunked, nullptr);
  const auto r = maintain_all(*chunked, kDayStart + 2 * kHour);
  EXPECT_EQ(r.minutes_rolled_up, 61u);
  auto hours = rollups_of(*chunked, "rtt", Resolution::kHour, 0, kDayStart + kDay);
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0].ts_ms, kDayStart);
  EXPECT_EQ(hours[0].count, 120u);
  EXPECT_EQ(hours[0].nulls, 1u);
  EXPECT_EQ(hours[0].min, 1.0);
  EXPECT_EQ(hours[0].max, 120.0);
  EXPECT_DOUBLE_EQ(hours[0].avg, (1830.0 + 3660.0) / 120.0);
  // Values 1..60 and 2..120 (even): p50 by nearest rank is the 60th smallest = 40.
  ASSERT_EQ(hours[0].quantiles.size(), 5u);
  EXPECT_NEAR(hours[0].quantiles[2], 40.0, 40.0 * 0.0906);
  EXPECT_EQ(hours[1].ts_ms, kDayStart + kHour);
  EXPECT_EQ(hours[1].count, 1u);
  EXPECT_EQ(hours[1].quantiles, std::vector<double>(5, 1000.0)) << "clamped to the row's [min, max]";
}

TEST_F(SqliteStoreV3Test, RetentionDeletesExactlyWhatIsOld) {
  SqliteOptions o;
  o.raw_retention = std::chrono::minutes(10);
  o.minute_retention = std::chrono::hours(2);
  o.hour_retention = std::chrono::hours(48);
  o.event_retention = std::chrono::hours(24);
  o.maintenance_chunk = 3;  // many small steps
  auto store = open_with(o);
  ASSERT_NE(store, nullptr);
  const std::int64_t now = kDayStart + 10 * kDay;
  std::vector<Metric> ms;
  for (std::int64_t t = now - 3 * kDay; t < now; t += 20 * kMin) ms.push_back(mk("cpu", "%", 1.0, t));  // 216 points
  ms.push_back(mk("cpu", "%", 1.0, now - 10 * kMin - 1));  // just too old
  ms.push_back(mk("cpu", "%", 1.0, now - 10 * kMin));      // just young enough
  WriteBatch b = samples("pi-1", ms);
  b.samples.push_back(NodeSamples{"plant", "pi-2", {mk("cpu", "%", 2.0, now - 11 * kMin), mk("cpu", "%", 2.0, now - kMin)}});
  b.events.push_back(StoredEvent{now - kDay - 1, "plant/pi-1", "r", "T", "ok", "firing", "old", "warning", false});
  b.events.push_back(StoredEvent{now - kDay, "plant/pi-1", "r", "T", "firing", "ok", "kept", "warning", false});
  b.incidents.push_back(StoredIncident{"plant/pi-1", "r", "T", "warning", now - 3 * kDay, now - kDay - 1});  // closed, old
  b.incidents.push_back(StoredIncident{"plant/pi-1", "q", "T", "warning", now - 3 * kDay, std::nullopt});    // open: kept
  b.incidents.push_back(StoredIncident{"plant/pi-1", "s", "T", "warning", now - 3 * kDay, now - kDay});      // kept
  b.uptime.push_back(UptimeDelta{"plant/pi-1", now - 49 * kHour, 1, 1});
  b.uptime.push_back(UptimeDelta{"plant/pi-1", now - 48 * kHour, 1, 1});
  ASSERT_TRUE(store->write(b).ok());

  const auto r = maintain_all(*store, now);
  // Raw: kept from now - 10 min on (the cut-off is exclusive), for every series.
  auto raw1 = store->query("plant", "pi-1", "cpu", 0, now, 1000);
  ASSERT_TRUE(raw1.ok());
  EXPECT_EQ(times(*raw1), (std::vector<std::int64_t>{now - 10 * kMin}));
  auto raw2 = store->query("plant", "pi-2", "cpu", 0, now, 1000);
  ASSERT_TRUE(raw2.ok());
  EXPECT_EQ(times(*raw2), (std::vector<std::int64_t>{now - kMin}));
  EXPECT_EQ(r.samples_deleted, 216u + 1u + 1u);
  // Minute rows from now - 2 h on: grid points -120..-20 min (6), minutes -11 and -10.
  const auto minutes = rollups_of(*store, "cpu", Resolution::kMinute, 0, now);
  ASSERT_EQ(minutes.size(), 8u);
  EXPECT_EQ(minutes.front().ts_ms, now - 2 * kHour);
  EXPECT_EQ(r.minute_rows_deleted, 218u - 8u);
  // Hour rows from now - 48 h on, each still complete (rolled up before the raw data went).
  const auto hours = rollups_of(*store, "cpu", Resolution::kHour, 0, now);
  ASSERT_EQ(hours.size(), 48u);
  EXPECT_EQ(hours.front().ts_ms, now - 48 * kHour);
  EXPECT_EQ(hours.front().count, 3u);
  EXPECT_EQ(r.hour_rows_deleted, 72u - 48u);
  auto ev = store->events(10, 0);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].reason, "kept");
  EXPECT_EQ(r.events_deleted, 1u);
  auto inc = store->incidents(10, 0);
  ASSERT_TRUE(inc.ok());
  ASSERT_EQ(inc->size(), 2u);
  for (const StoredIncident& i : *inc) EXPECT_NE(i.rule, "r");
  EXPECT_EQ(r.incidents_deleted, 1u);
  auto up = store->uptime_since(0);
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ((*up)[0].hour_ms, now - 48 * kHour);
  EXPECT_EQ(r.uptime_rows_deleted, 1u);
  // The minute of now - 1 min is not closed yet: still dirty, its raw sample kept (above).
  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM block_dirty"), "1");
}

TEST_F(SqliteStoreV3Test, RetentionWaitsForPendingRollupsAndLateOldSamplesDoNotClobberThem) {
  SqliteOptions o;
  o.raw_retention = std::chrono::minutes(10);
  o.maintenance_chunk = 1;
  auto store = open_with(o);
  ASSERT_NE(store, nullptr);
  const std::int64_t now = kDayStart + kDay;
  std::vector<Metric> ms;
  for (int m = 0; m < 5; ++m) {  // five old minutes, two samples each
    ms.push_back(mk("rtt", "ms", 1.0 + m, kDayStart + m * kMin));
    ms.push_back(mk("rtt", "ms", 3.0 + m, kDayStart + m * kMin + 1));
  }
  ASSERT_TRUE(store->write(samples("pi-1", ms)).ok());
  // One call rolls up one minute; the raw samples of the four still dirty minutes must stay.
  auto first = store->maintain(now);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->minutes_rolled_up, 1u);
  EXPECT_TRUE(first->more);
  EXPECT_GE(first->samples_deleted, 1u);
  auto pending = store->query("plant", "pi-1", "rtt", kDayStart + kMin, now, 100);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 8u) << "only the rolled-up minute's raw samples may go";
  maintain_all(*store, now);
  auto raw = store->query("plant", "pi-1", "rtt", 0, now, 100);
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(raw->empty());
  auto minutes = rollups_of(*store, "rtt", Resolution::kMinute, 0, now);
  ASSERT_EQ(minutes.size(), 5u);
  for (std::size_t m = 0; m < 5; ++m) {
    EXPECT_EQ(minutes[m].count, 2u);
    EXPECT_DOUBLE_EQ(minutes[m].avg, 2.0 + static_cast<double>(m));
  }
  // An agent replays a sample of minute 2, long after raw retention cut it: recomputing the
  // minute from what is left would replace 2 samples by 1, so the late bucket is dropped.
  ASSERT_TRUE(store->write(samples("pi-1", {mk("rtt", "ms", 100.0, kDayStart + 2 * kMin + 7)})).ok());
  const auto late = maintain_all(*store, now + kMin);
  EXPECT_EQ(late.late_buckets_discarded, 1u);
  EXPECT_EQ(late.minutes_rolled_up, 0u);
  minutes = rollups_of(*store, "rtt", Resolution::kMinute, 0, now);
  ASSERT_EQ(minutes.size(), 5u);
  EXPECT_EQ(minutes[2].count, 2u);
  EXPECT_DOUBLE_EQ(minutes[2].avg, 4.0);
}

TEST_F(SqliteStoreV3Test, UptimeDeltasAccumulatePerSubjectAndHour) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.uptime = {UptimeDelta{"plant/pi-1", kDayStart, 1000, 2000}, UptimeDelta{"plant/pi-1", kDayStart + kHour, 5, 5},
              UptimeDelta{"plant/pi-1/ping/10.0.0.1", kDayStart, 3, 4}};
  ASSERT_TRUE(store->write(b).ok());
  b.uptime = {UptimeDelta{"plant/pi-1", kDayStart, 500, 1000}, UptimeDelta{"plant/pi-1", kDayStart, 1, 1}};
  ASSERT_TRUE(store->write(b).ok());
  auto all = store->uptime_since(kDayStart);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].subject, "plant/pi-1");
  EXPECT_EQ((*all)[0].hour_ms, kDayStart);
  EXPECT_EQ((*all)[0].good, 1501u);
  EXPECT_EQ((*all)[0].total, 3001u);
  EXPECT_EQ((*all)[1].hour_ms, kDayStart + kHour);
  EXPECT_EQ((*all)[2].subject, "plant/pi-1/ping/10.0.0.1");
  auto later = store->uptime_since(kDayStart + 1);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].good, 5u);
}

TEST_F(SqliteStoreV3Test, DailyReportOfASyntheticDay) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string node = "plant/pi-1";
  const std::string target = "plant/pi-1/ping/10.0.0.1";
  WriteBatch b;
  for (int h = 0; h < 24; ++h) {
    const std::int64_t hour = kDayStart + h * kHour;
    b.uptime.push_back(UptimeDelta{node, hour, h == 3 ? 1'800'000u : 3'600'000u, 3'600'000u});  // 30 min down
    b.uptime.push_back(UptimeDelta{target, hour, h == 5 ? 324u : 360u, 360u});                      // 36 rounds lost
  }
  b.uptime.push_back(UptimeDelta{node, kDayStart + kDay, 7, 7});  // the next day: not complete
  // rtt 10 ms most of the day, 40 ms for one sample; loss 0 % except 10 %.
  std::vector<Metric> ms;
  for (int h = 0; h < 24; ++h) {
    ms.push_back(mk("ping/10.0.0.1/rtt", "ms", h == 12 ? 40.0 : 10.0, kDayStart + h * kHour + 17 * kMin));
    ms.push_back(mk("ping/10.0.0.1/loss", "%", h == 5 ? 10.0 : 0.0, kDayStart + h * kHour + 17 * kMin));
  }
  b.samples.push_back(NodeSamples{"plant", "pi-1", ms});
  b.incidents = {
      StoredIncident{node, "down", "NODE_DOWN", "critical", kDayStart + 3 * kHour, kDayStart + 3 * kHour + 1'800'000},
      StoredIncident{target, "ping", "TARGET_DOWN", "warning", kDayStart + 5 * kHour, kDayStart + 6 * kHour},
      StoredIncident{node + "/cpu/total", "cpu", "HIGH_CPU", "warning", kDayStart - kDay, std::nullopt},  // open across
      StoredIncident{node, "down", "NODE_DOWN", "critical", kDayStart - 2 * kHour, kDayStart},  // ended at midnight
      StoredIncident{"plant/pi-10", "down", "NODE_DOWN", "critical", kDayStart + kHour, kDayStart + 2 * kHour},
  };
  ASSERT_TRUE(store->write(b).ok());

  auto none = store->maintain(kDayStart + kDay - 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->reports_built, 0u) << "the day is not over";
  const auto r = maintain_all(*store, kDayStart + kDay + kMin);
  EXPECT_EQ(r.reports_built, 2u);

  auto reports = store->daily_reports("2024-03-10", "2024-03-10");
  ASSERT_TRUE(reports.ok()) << reports.error().message;
  ASSERT_EQ(reports->size(), 2u);
  const DailyReport& n = (*reports)[0];
  EXPECT_EQ(n.day, "2024-03-10");
  EXPECT_EQ(n.subject, node);
  EXPECT_EQ(n.total, 86'400'000u);
  EXPECT_EQ(n.good, 86'400'000u - 1'800'000u);
  EXPECT_DOUBLE_EQ(n.uptime_pct, 100.0 * 84'600'000.0 / 86'400'000.0);
  EXPECT_EQ(n.downtime_ms, 1'800'000);
  EXPECT_EQ(n.incidents, 3u) << "its own, its target's and its cpu's; not pi-10's, not one that ended at midnight";
  EXPECT_FALSE(n.avg_rtt_ms.has_value());
  EXPECT_FALSE(n.loss_pct.has_value());
  const DailyReport& t = (*reports)[1];
  EXPECT_EQ(t.subject, target);
  EXPECT_EQ(t.total, 24u * 360u);
  EXPECT_EQ(t.good, 24u * 360u - 36u);
  EXPECT_EQ(t.downtime_ms, 360'000) << "36 of 8640 rounds = 1/240 of a day";
  EXPECT_EQ(t.incidents, 1u);
  ASSERT_TRUE(t.avg_rtt_ms.has_value());
  EXPECT_DOUBLE_EQ(*t.avg_rtt_ms, (23 * 10.0 + 40.0) / 24);
  ASSERT_TRUE(t.loss_pct.has_value());
  EXPECT_DOUBLE_EQ(*t.loss_pct, 10.0 / 24);

  // Late uptime for that day (a gateway flushing after midnight): the day is rebuilt.
  WriteBatch late;
  late.uptime.push_back(UptimeDelta{node, kDayStart + 23 * kHour, 0, 1'000});
  ASSERT_TRUE(store->write(late).ok());
  maintain_all(*store, kDayStart + kDay + 2 * kMin);
  reports = store->daily_reports("2024-03-10", "2024-03-10");
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].total, 86'401'000u);
  EXPECT_EQ((*reports)[0].downtime_ms, 1'801'000);
  auto none_yet = store->daily_reports("2024-03-11", "2024-03-31");
  ASSERT_TRUE(none_yet.ok());
  EXPECT_TRUE(none_yet->empty());
}

TEST_F(SqliteStoreV3Test, ReaderConnectionSeesTheWritersDataAndCannotWrite) {
  auto writer = open();
  ASSERT_NE(writer, nullptr);
  SqliteOptions ro;
  ro.read_only = true;
  auto reader = open_with(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->schema_version(), 7);
  WriteBatch b = samples("pi-1", {mk("rtt", "ms", 5.0, kDayStart)});
  b.events.push_back(StoredEvent{kDayStart, "plant/pi-1", "r", "T", "ok", "firing", "x", "warning", false});
  b.alert_state = std::string("s");
  ASSERT_TRUE(writer->write(b).ok());
  ASSERT_TRUE(writer->maintain(kDayStart + kHour).ok());
  auto pts = reader->query("plant", "pi-1", "rtt", 0, kDayStart, 10);
  ASSERT_TRUE(pts.ok());
  EXPECT_EQ(pts->size(), 1u);
  auto ev = reader->events(10, 0);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->size(), 1u);
  auto minutes = rollups_of(*reader, "rtt", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(minutes.size(), 1u);
  EXPECT_EQ(minutes[0].avg, 5.0);
  auto state = reader->alert_state();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, std::optional<std::string>("s"));
  // Later writes are visible to the same reader (no snapshot is held between calls).
  ASSERT_TRUE(writer->write(samples("pi-1", {mk("rtt", "ms", 6.0, kDayStart + 1)})).ok());
  pts = reader->query("plant", "pi-1", "rtt", 0, kDayStart + 1, 10);
  ASSERT_TRUE(pts.ok());
  EXPECT_EQ(pts->size(), 2u);

  Status s = reader->write(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  auto m = reader->maintain(kDayStart + kHour);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(SqliteStoreV3Test, ReaderNeedsAnExistingDatabaseAtThisVersion) {
  SqliteOptions ro;
  ro.read_only = true;
  auto missing = open_sqlite_store(path_, ro);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  {
    RawDb raw(path_);
    raw.exec(kV2Schema);
  }
  auto old = open_sqlite_store(path_, ro);
  ASSERT_FALSE(old.ok());
  EXPECT_THAT(old.error().message, HasSubstr("schema version 2"));
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "2") << "a reader never migrates";
}

}  // namespace
TEST_F(SqliteStoreV3Test, CompactSamplesAgainstSharedNamesAreOneBlockPerMessage) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto names = std::make_shared<SeriesNames>(SeriesNames{{"cpu/total", "%"}, {"ping/gw/rtt", "ms"}});
  WriteBatch b;
  for (int i = 0; i < 3; ++i) {
    NodeSamples ns("plant", "pi-1");
    ns.names = names;
    ns.values.push_back(SampleValue{0, true, 10.0 + i, kDayStart + i * 1000});
    ns.values.push_back(SampleValue{1, i != 1, 2.5, kDayStart + i * 1000});
    b.samples.push_back(std::move(ns));
  }
  EXPECT_EQ(b.rows(), 6u);
  ASSERT_TRUE(store->write(b).ok());
  auto cpu = store->query("plant", "pi-1", "cpu/total", 0, kDayStart + kDay, 10);
  ASSERT_TRUE(cpu.ok());
  ASSERT_EQ(cpu->size(), 3u);
  EXPECT_EQ((*cpu)[2].value, 12.0);
  auto rtt = store->query("plant", "pi-1", "ping/gw/rtt", 0, kDayStart + kDay, 10);
  ASSERT_TRUE(rtt.ok());
  ASSERT_EQ(rtt->size(), 3u);
  EXPECT_FALSE((*rtt)[1].value.has_value()) << "a sample without a value is kept as such";
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.text("SELECT count(*) FROM sample_blocks"), "3");
    EXPECT_EQ(raw.text("SELECT count(*) FROM series"), "2");
  }
  // A new set of names (a rebirth with another metric) maps by name: old series keep their ids.
  auto renamed = std::make_shared<SeriesNames>(SeriesNames{{"mem/used", "%"}, {"cpu/total", "%"}});
  WriteBatch c;
  NodeSamples ns("plant", "pi-1");
  ns.names = renamed;
  ns.values.push_back(SampleValue{1, true, 99.0, kDayStart + 5000});
  ns.values.push_back(SampleValue{0, true, 42.0, kDayStart + 5000});
  c.samples.push_back(std::move(ns));
  ASSERT_TRUE(store->write(c).ok());
  auto cpu2 = store->query("plant", "pi-1", "cpu/total", 0, kDayStart + kDay, 10);
  ASSERT_TRUE(cpu2.ok());
  ASSERT_EQ(cpu2->size(), 4u);
  EXPECT_EQ(cpu2->back().value, 99.0);
  // A same-time block written later wins for the series both hold.
  WriteBatch d;
  NodeSamples again("plant", "pi-1");
  again.names = renamed;
  again.values.push_back(SampleValue{1, true, 7.0, kDayStart + 5000});
  d.samples.push_back(std::move(again));
  ASSERT_TRUE(store->write(d).ok());
  auto cpu3 = store->query("plant", "pi-1", "cpu/total", kDayStart + 5000, kDayStart + 5000, 10);
  ASSERT_TRUE(cpu3.ok());
  ASSERT_EQ(cpu3->size(), 1u);
  EXPECT_EQ((*cpu3)[0].value, 7.0);
  auto mem = store->query("plant", "pi-1", "mem/used", kDayStart + 5000, kDayStart + 5000, 10);
  ASSERT_TRUE(mem.ok());
  ASSERT_EQ(mem->size(), 1u);
  EXPECT_EQ((*mem)[0].value, 42.0) << "the earlier block still holds the other series";
  // Rollups read every block of the minute.
  maintain_all(*store, kDayStart + kHour);
  auto minute = rollups_of(*store, "cpu/total", Resolution::kMinute, 0, kDayStart + kDay);
  ASSERT_EQ(minute.size(), 1u);
  EXPECT_EQ(minute[0].count, 4u);
  EXPECT_DOUBLE_EQ(minute[0].avg, (10.0 + 11.0 + 12.0 + 7.0) / 4);
}

}  // namespace edgemon::gateway
