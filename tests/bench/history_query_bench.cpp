// History store figures: how long the dashboard's chart queries take on a month of minute rollups,
// and what Store::write() costs per sample against a bare INSERT loop on the same machine, same run.
//
//   build/release/tests/bench/history_bench                 # 30 days, 200 series, 1,000-node batches
//   build/release/tests/bench/history_bench --days 1 --series 5 --nodes 50 --batches 1 --repeat 1   # smoke
//
// Setup: the measured series ("ping/10.0.0.1/rtt", ms, so rows carry a latency histogram) gets
// two raw samples a minute for --days days through Store::write(), rolled up by Store::maintain()
// (timed too); the other series get --days of minute rows through a bulk INSERT straight into
// rollups_1m, so the table is the size it would be without taking minutes to build.
// Timing is wall time (std::chrono::steady_clock), median of --repeat runs.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "edgemon/common/log.h"
#include "edgemon/gateway/store/store.h"

namespace {

using edgemon::Metric;
using edgemon::gateway::NodeSamples;
using edgemon::gateway::Resolution;
using edgemon::gateway::Store;
using edgemon::gateway::WriteBatch;
using Steady = std::chrono::steady_clock;

constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kStart = 1'709'251'200'000;  // 2024-03-01T00:00:00Z

struct Args {
  int days = 30;
  int series = 200;       // including the measured one
  int nodes = 1000;       // per write batch
  int metrics = 10;       // per node per batch
  int batches = 10;
  int repeat = 5;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "history_bench: %s\n", what.c_str());
  std::exit(1);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> int {
      if (i + 1 >= argc) die(std::string("missing value after ") + argv[i]);
      return std::atoi(argv[++i]);
    };
    const std::string flag = argv[i];
    if (flag == "--days") a.days = next();
    else if (flag == "--series") a.series = next();
    else if (flag == "--nodes") a.nodes = next();
    else if (flag == "--metrics") a.metrics = next();
    else if (flag == "--batches") a.batches = next();
    else if (flag == "--repeat") a.repeat = next();
    else die("unknown flag " + flag + " (see the comment at the top of history_query_bench.cpp)");
  }
  if (a.days < 1 || a.series < 1 || a.nodes < 1 || a.metrics < 1 || a.batches < 1 || a.repeat < 1) die("values must be >= 1");
  return a;
}

double ms_since(Steady::time_point t) { return std::chrono::duration<double, std::milli>(Steady::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::unique_ptr<Store> open_store(const std::string& path) {
  auto s = edgemon::gateway::open_sqlite_store(path);
  if (!s) die(s.error().message);
  return std::move(s).value();
}

void check(edgemon::Status s) {
  if (!s) die(s.error().message);
}

void maintain_all(Store& store, std::int64_t now) {
  for (;;) {
    auto r = store.maintain(now);
    if (!r) die(r.error().message);
    if (!r->more) return;
  }
}

// A bare sqlite3 handle for the bulk path and the baseline.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) die("cannot open " + path);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  }
  ~Db() { sqlite3_close(db_); }
  void exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) die(std::string(sql) + ": " + (msg ? msg : "?"));
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) die(std::string(sql) + ": " + sqlite3_errmsg(db_));
    return st;
  }
  void step_done(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) die(std::string("step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(st);
  }

 private:
  sqlite3* db_ = nullptr;
};

void bench_queries(const Args& a, const std::string& dir) {
  const std::string path = dir + "/query.db";
  const std::int64_t end = kStart + a.days * kDay;
  std::printf("history_bench: %d days of minute rollups, %d series, median of %d runs\n", a.days, a.series, a.repeat);

  auto store = open_store(path);
  // The measured series: two samples a minute through the real write path.
  auto t = Steady::now();
  std::size_t samples = 0;
  for (int d = 0; d < a.days; ++d) {
    WriteBatch b;
    b.samples.push_back(NodeSamples{"plant", "pi-0", {}});
    auto& ms = b.samples[0].metrics;
    for (std::int64_t m = 0; m < 1440; ++m) {
      const std::int64_t ts = kStart + d * kDay + m * kMin;
      const double rtt = 5.0 + static_cast<double>((m * 7919) % 200) / 10.0;
      ms.push_back(edgemon::make_metric("ping/10.0.0.1/rtt", "ms", rtt, ts + 1000));
      ms.push_back(edgemon::make_metric("ping/10.0.0.1/rtt", "ms", rtt * 1.5, ts + 31000));
    }
    samples += ms.size();
    check(store->write(b));
  }
  // The other series: one sample each, so nodes/series rows exist; their minute rows come in bulk.
  WriteBatch others;
  for (int s = 1; s < a.series; ++s) {
    others.samples.push_back(NodeSamples{"plant", "pi-" + std::to_string(s / 10), {}});
    others.samples.back().metrics.push_back(edgemon::make_metric("m" + std::to_string(s % 10), "%", 1.0, end - kMin));
  }
  check(store->write(others));
  const double write_ms = ms_since(t);
  t = Steady::now();
  maintain_all(*store, end + kHour);
  const double maintain_ms = ms_since(t);
  std::printf("  setup: %zu samples written in %.0f ms, rolled up (%d minutes) in %.0f ms = %.0f minutes/s\n", samples,
              write_ms, a.days * 1440, maintain_ms, a.days * 1440 / (maintain_ms / 1000.0));

  t = Steady::now();
  {
    Db db(path);
    db.exec("BEGIN");
    sqlite3_stmt* ins = db.prepare("INSERT OR REPLACE INTO rollups_1m(series_id, ts_ms, min, max, sum, count, nulls, dist) "
                                   "VALUES (?5, ?1, ?2, ?3, ?4, 12, 0, NULL)");
    sqlite3_stmt* ids = db.prepare("SELECT id FROM series WHERE metric NOT LIKE 'ping/%' ORDER BY id");
    std::vector<std::int64_t> other_ids;
    while (sqlite3_step(ids) == SQLITE_ROW) other_ids.push_back(sqlite3_column_int64(ids, 0));
    sqlite3_finalize(ids);
    for (const std::int64_t id : other_ids) {
      for (std::int64_t m = 0; m < a.days * 1440; ++m) {
        const double v = static_cast<double>((id * 31 + m) % 100);
        sqlite3_bind_int64(ins, 1, kStart + m * kMin);
        sqlite3_bind_double(ins, 2, v);
        sqlite3_bind_double(ins, 3, v + 10);
        sqlite3_bind_double(ins, 4, (v + 5) * 12);
        sqlite3_bind_int64(ins, 5, id);
        db.step_done(ins);
      }
    }
    sqlite3_finalize(ins);
    db.exec("COMMIT");
  }
  std::printf("  setup: %lld bulk minute rows for %d other series in %.0f ms\n",
              static_cast<long long>(a.series - 1) * a.days * 1440, a.series - 1, ms_since(t));

  struct Case {
    const char* name;
    Resolution res;
    std::int64_t from;
  };
  const Case cases[] = {
      {"minute rows over the whole range", Resolution::kMinute, kStart},
      {"hour rows over the whole range", Resolution::kHour, kStart},
      {"minute rows over the last 24 h", Resolution::kMinute, end - kDay},
  };
  for (const Case& c : cases) {
    std::vector<double> times;
    std::size_t rows = 0;
    for (int r = 0; r < a.repeat; ++r) {
      const auto q = Steady::now();
      auto got = store->rollups("plant", "pi-0", "ping/10.0.0.1/rtt", c.res, c.from, end - 1, 1'000'000);
      times.push_back(ms_since(q));
      if (!got) die(got.error().message);
      rows = got->size();
      if (rows > 0 && got->front().quantiles.size() != 5) die("rollups without quantiles");
    }
    const double m = median(times);
    std::printf("  rollups(): %-34s %6zu rows  %8.2f ms  (%.2f us/row)\n", c.name, rows, m, rows ? m * 1000.0 / static_cast<double>(rows) : 0.0);
  }
}

void bench_writes(const Args& a, const std::string& dir) {
  const std::size_t per_batch = static_cast<std::size_t>(a.nodes) * static_cast<std::size_t>(a.metrics);
  const std::size_t total = per_batch * static_cast<std::size_t>(a.batches);
  std::printf("history_bench: writes, %d batches of %d nodes x %d metrics (%zu samples each)\n", a.batches, a.nodes,
              a.metrics, per_batch);

  // The store: Store::write(), one transaction per batch, rollup_dirty bookkeeping included.
  double store_ms = 0;
  {
    auto store = open_store(dir + "/write.db");
    for (int b = 0; b < a.batches; ++b) {
      WriteBatch batch;
      batch.samples.reserve(static_cast<std::size_t>(a.nodes));
      const std::int64_t ts = kStart + b * 5000;
      for (int n = 0; n < a.nodes; ++n) {
        NodeSamples ns{"plant", "pi-" + std::to_string(n), {}};
        ns.metrics.reserve(static_cast<std::size_t>(a.metrics));
        for (int m = 0; m < a.metrics; ++m) {
          ns.metrics.push_back(edgemon::make_metric("metric/" + std::to_string(m), "%", n + m * 0.5, ts));
        }
        batch.samples.push_back(std::move(ns));
      }
      const auto t = Steady::now();  // building the batch is the caller's cost, not the store's
      check(store->write(batch));
      store_ms += ms_since(t);
    }
    const auto t = Steady::now();
    maintain_all(*store, kStart + kDay);
    std::printf("  maintain(): rolled up %zu samples in %.0f ms\n", total, ms_since(t));
  }

  // The baseline: the same rows through a bare prepared INSERT into the same table shape.
  double bare_ms = 0;
  {
    Db db(dir + "/bare.db");
    db.exec("CREATE TABLE samples (series_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL, value REAL, "
            "PRIMARY KEY (series_id, ts_ms)) WITHOUT ROWID;");
    sqlite3_stmt* ins = db.prepare("INSERT OR REPLACE INTO samples(series_id, ts_ms, value) VALUES (?, ?, ?)");
    for (int b = 0; b < a.batches; ++b) {
      const std::int64_t ts = kStart + b * 5000;
      const auto t = Steady::now();
      db.exec("BEGIN IMMEDIATE");
      for (int n = 0; n < a.nodes; ++n) {
        for (int m = 0; m < a.metrics; ++m) {
          sqlite3_bind_int64(ins, 1, static_cast<std::int64_t>(n) * a.metrics + m + 1);
          sqlite3_bind_int64(ins, 2, ts);
          sqlite3_bind_double(ins, 3, n + m * 0.5);
          db.step_done(ins);
        }
      }
      db.exec("COMMIT");
      bare_ms += ms_since(t);
    }
    sqlite3_finalize(ins);
  }
  const double store_rate = static_cast<double>(total) / (store_ms / 1000.0);
  const double bare_rate = static_cast<double>(total) / (bare_ms / 1000.0);
  std::printf("  Store::write():     %10.0f samples/s  (%.1f ms per batch)\n", store_rate, store_ms / a.batches);
  std::printf("  bare INSERT loop:   %10.0f samples/s  (%.1f ms per batch)\n", bare_rate, bare_ms / a.batches);
  std::printf("  ratio store/bare:   %10.2f x the bare loop's time per sample\n", bare_rate / store_rate);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  std::string dir = (std::filesystem::temp_directory_path() / "history_bench.XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) die("mkdtemp: " + std::string(std::strerror(errno)));
  edgemon::log::set_level(edgemon::log::Level::kWarn);
  bench_queries(a, dir);
  bench_writes(a, dir);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
