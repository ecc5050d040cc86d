#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "edgemon/gateway/store.h"
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
  EXPECT_EQ(store->schema_version(), 2);
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "2");
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

TEST_F(SqliteStoreTest, ReopenKeepsDataAndVersion) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const std::vector<Metric> metrics = {mk("a", "V", 3.25, 50), mk("b", "", std::nullopt, 50)};
    ASSERT_TRUE(store->append("g", "n", metrics).ok());
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 2);
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
  EXPECT_THAT(s.error().message, HasSubstr("schema version 99 is newer than this gateway (2)"));
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
