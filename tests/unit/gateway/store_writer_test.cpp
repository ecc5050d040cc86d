// StoreWriter against a scripted Store: batching, commit fences, failure and recovery, dropping.
// Time comes from a manual clock the test steps; the only waits are bounded polls for the writer
// thread to reach a state (it notices clock steps within 100 ms of real time).
#include "edgemon/gateway/store/store_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace edgemon::gateway {
namespace {

using namespace std::chrono_literals;

// A manual clock safe to read from the writer thread while the test steps it.
class SteppedClock final : public Clock {
 public:
  MonoTime mono() const override { return MonoTime(std::chrono::nanoseconds(ns_.load())); }
  WallTime wall() const override {
    return WallTime(std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(kWallStartNs + ns_.load())));
  }
  void advance(std::chrono::nanoseconds d) { ns_ += d.count(); }
  static constexpr std::int64_t kWallStartNs = 1'710'028'800'000'000'000;  // 2024-03-10T00:00:00Z

 private:
  std::atomic<std::int64_t> ns_{1'000'000'000};
};

// A Store that records what it is given and fails on demand (a test double of the interface).
class ScriptedStore final : public Store {
 public:
  struct Shared {
    std::mutex mutex;
    std::vector<WriteBatch> committed;
    std::vector<std::int64_t> maintained_at;
    std::atomic<bool> fail_writes{false};
    std::atomic<bool> fail_maintenance{false};
    std::atomic<int> write_calls{0};

    std::vector<std::size_t> batch_rows() {
      std::lock_guard lock(mutex);
      std::vector<std::size_t> out;
      for (const WriteBatch& b : committed) out.push_back(b.rows());
      return out;
    }
    std::vector<double> sample_values() {
      std::lock_guard lock(mutex);
      std::vector<double> out;
      for (const WriteBatch& b : committed)
        for (const NodeSamples& ns : b.samples)
          for (const Metric& m : ns.metrics) out.push_back(m.value.value_or(-1));
      return out;
    }
    std::vector<std::string> event_reasons() {
      std::lock_guard lock(mutex);
      std::vector<std::string> out;
      for (const WriteBatch& b : committed)
        for (const StoredEvent& e : b.events) out.push_back(e.reason);
      return out;
    }
  };

  explicit ScriptedStore(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  Status write(const WriteBatch& batch) override {
    ++shared_->write_calls;
    if (shared_->fail_writes) return make_error(ErrorCode::kResourceExhausted, "sqlite: database or disk is full");
    std::lock_guard lock(shared_->mutex);
    shared_->committed.push_back(batch);
    return Status::Ok();
  }
  Result<MaintenanceReport> maintain(std::int64_t now_ms) override {
    if (shared_->fail_maintenance) return make_error(ErrorCode::kIo, "sqlite: maintenance broke");
    std::lock_guard lock(shared_->mutex);
    shared_->maintained_at.push_back(now_ms);
    return MaintenanceReport{};
  }
  Status append(const std::string&, const std::string&, std::span<const Metric>) override { return unused(); }
  Status append_event(const StoredEvent&) override { return unused(); }
  Status upsert_incident(const StoredIncident&) override { return unused(); }
  Result<std::vector<SeriesPoint>> query(const std::string&, const std::string&, const std::string&, std::int64_t,
                                         std::int64_t, std::size_t) override {
    return unused().error();
  }
  Result<std::vector<Rollup>> rollups(const std::string&, const std::string&, const std::string&, Resolution,
                                      std::int64_t, std::int64_t, std::size_t) override {
    return unused().error();
  }
  Result<std::vector<StoredEvent>> events(std::size_t, std::size_t) override { return unused().error(); }
  Result<std::vector<StoredIncident>> incidents(std::size_t, std::size_t) override { return unused().error(); }
  Result<std::optional<std::string>> alert_state() override { return unused().error(); }
  Result<std::vector<UptimeDelta>> uptime_since(std::int64_t) override { return unused().error(); }
  Result<std::vector<NodeConfig>> node_configs() override { return unused().error(); }
  Result<std::vector<StoredRule>> rules() override { return unused().error(); }
  Result<std::vector<SampleProgress>> sample_progress() override { return unused().error(); }
  Result<std::vector<DailyReport>> daily_reports(std::string_view, std::string_view) override {
    return unused().error();
  }
  int schema_version() const override { return 0; }

 private:
  static Status unused() { return make_error(ErrorCode::kInternal, "not used by the writer"); }
  std::shared_ptr<Shared> shared_;
};

// Polls `pred` until it holds or 5 s have passed.
bool eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

WriteBatch samples_part(std::initializer_list<double> values) {
  WriteBatch b;
  NodeSamples ns{"plant", "pi-1", {}};
  std::int64_t ts = 0;
  for (double v : values) ns.metrics.push_back(make_metric("cpu/total", "%", v, ++ts));
  b.samples.push_back(std::move(ns));
  return b;
}

WriteBatch event_part(std::string reason) {
  WriteBatch b;
  b.events.push_back(StoredEvent{1, "plant/pi-1", "r", "T", "ok", "firing", std::move(reason), "warning", false});
  return b;
}

class StoreWriterTest : public ::testing::Test {
 protected:
  void make(StoreWriterOptions options) {
    writer_ = std::make_unique<StoreWriter>(std::make_unique<ScriptedStore>(shared_), options, clock_);
    writer_->on_status([this](bool ok, const std::string& error) {
      std::lock_guard lock(status_mutex_);
      statuses_.emplace_back(ok, error);
    });
    ASSERT_TRUE(writer_->start().ok());
  }
  std::vector<std::pair<bool, std::string>> statuses() {
    std::lock_guard lock(status_mutex_);
    return statuses_;
  }
  static StoreWriterOptions slow_maintenance(StoreWriterOptions o) {
    o.maintenance_interval = std::chrono::hours(24);
    return o;
  }

  SteppedClock clock_;
  std::shared_ptr<ScriptedStore::Shared> shared_ = std::make_shared<ScriptedStore::Shared>();
  std::mutex status_mutex_;
  std::vector<std::pair<bool, std::string>> statuses_;
  std::unique_ptr<StoreWriter> writer_;
};

TEST_F(StoreWriterTest, MergesSubmissionsIntoOneWriteAfterMaxDelay) {
  StoreWriterOptions o;
  o.max_delay = 200ms;
  make(slow_maintenance(o));
  writer_->submit(samples_part({1, 2}));
  writer_->submit(event_part("e1"));
  WriteBatch state;
  state.alert_state = std::string("old");
  writer_->submit(state);
  writer_->submit(samples_part({3}));
  state.alert_state = std::string("new");
  writer_->submit(state);
  writer_->submit(WriteBatch{});  // empty: ignored
  EXPECT_EQ(writer_->stats().pending_rows, 6u);
  clock_.advance(200ms);
  ASSERT_TRUE(eventually([&] { return writer_->stats().committed_batches == 1; }));
  ASSERT_EQ(shared_->batch_rows(), (std::vector<std::size_t>{5}))  // 3 samples, 1 event, 1 alert state
      << "one write, the latest alert state only";
  EXPECT_EQ(shared_->sample_values(), (std::vector<double>{1, 2, 3}));
  {
    std::lock_guard lock(shared_->mutex);
    EXPECT_EQ(shared_->committed[0].alert_state, std::optional<std::string>("new"));
  }
  const StoreWriterStats s = writer_->stats();
  EXPECT_EQ(s.committed_rows, 6u) << "counted as submitted";
  EXPECT_EQ(s.pending_rows, 0u);
  EXPECT_TRUE(s.storage_ok);
}

TEST_F(StoreWriterTest, ABatchClosesAtMaxBatchRowsWithoutWaiting) {
  StoreWriterOptions o;
  o.max_batch_rows = 10;
  o.max_delay = std::chrono::hours(1);
  make(slow_maintenance(o));
  for (int i = 0; i < 25; ++i) writer_->submit(samples_part({static_cast<double>(i)}));
  ASSERT_TRUE(eventually([&] { return writer_->stats().committed_batches == 2; }));
  EXPECT_EQ(writer_->stats().pending_rows, 5u) << "the rest waits for max_delay";
  clock_.advance(std::chrono::hours(1));
  ASSERT_TRUE(eventually([&] { return writer_->stats().committed_batches == 3; }));
  EXPECT_EQ(shared_->batch_rows(), (std::vector<std::size_t>{10, 10, 5}));
  std::vector<double> expected;
  for (int i = 0; i < 25; ++i) expected.push_back(i);
  EXPECT_EQ(shared_->sample_values(), expected);
}

TEST_F(StoreWriterTest, AfterCommitRunsOnlyOnceEverythingBeforeItIsCommitted) {
  StoreWriterOptions o;
  o.max_delay = 100ms;
  o.retry_interval = 1s;
  make(slow_maintenance(o));
  std::mutex m;
  std::vector<std::string> ran;
  auto fence = [&](std::string name, std::size_t expect_events) {
    return [&, name, expect_events] {
      // Runs on the writer thread, after the store holds what was submitted before the fence.
      const std::size_t events = shared_->event_reasons().size();
      std::lock_guard lock(m);
      ran.push_back(name + (events >= expect_events ? "" : " too early"));
    };
  };
  auto ran_now = [&] {
    std::lock_guard lock(m);
    return ran;
  };

  // Nothing pending: runs at once.
  writer_->after_commit(fence("idle", 0));
  ASSERT_TRUE(eventually([&] { return ran_now().size() == 1; }));

  shared_->fail_writes = true;
  writer_->submit(event_part("a"));
  writer_->after_commit(fence("after a", 1));
  writer_->submit(event_part("b"));
  writer_->after_commit(fence("after b", 2));
  clock_.advance(100ms);
  ASSERT_TRUE(eventually([&] { return writer_->stats().write_failures >= 1; }));
  EXPECT_EQ(ran_now().size(), 1u) << "nothing is committed, no fence may run";

  shared_->fail_writes = false;
  clock_.advance(1s);
  ASSERT_TRUE(eventually([&] { return ran_now().size() == 3; }));
  EXPECT_EQ(ran_now(), (std::vector<std::string>{"idle", "after a", "after b"}));
  EXPECT_EQ(shared_->event_reasons(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(StoreWriterTest, AFailingStoreKeepsEverythingAndDeliversItAllAfterRecovery) {
  StoreWriterOptions o;
  o.max_batch_rows = 7;
  o.max_delay = 50ms;
  o.retry_interval = 1s;
  make(slow_maintenance(o));
  shared_->fail_writes = true;
  std::size_t submitted = 0;
  std::vector<double> values;
  std::vector<std::string> reasons;
  for (int i = 0; i < 40; ++i) {
    WriteBatch b = samples_part({i * 10.0, i * 10.0 + 1});
    values.push_back(i * 10.0);
    values.push_back(i * 10.0 + 1);
    if (i % 3 == 0) {
      b.events.push_back(event_part("e" + std::to_string(i)).events[0]);
      reasons.push_back("e" + std::to_string(i));
    }
    if (i % 5 == 0) b.uptime.push_back(UptimeDelta{"plant/pi-1", 0, 1, 1});
    if (i % 10 == 0) b.incidents.push_back(StoredIncident{"plant/pi-1", "r", "T", "w", i, std::nullopt});
    submitted += b.rows();
    writer_->submit(std::move(b));
    if (i == 20) clock_.advance(50ms);  // the first attempt happens meanwhile
  }
  clock_.advance(50ms);
  ASSERT_TRUE(eventually([&] { return writer_->stats().write_failures >= 1; }));
  for (int i = 0; i < 3; ++i) {  // retries, each retry_interval apart, all failing
    const auto failures = writer_->stats().write_failures;
    clock_.advance(1s);
    ASSERT_TRUE(eventually([&] { return writer_->stats().write_failures > failures; }));
  }
  StoreWriterStats s = writer_->stats();
  EXPECT_FALSE(s.storage_ok);
  EXPECT_EQ(s.pending_rows, submitted);
  EXPECT_EQ(s.committed_rows, 0u);
  EXPECT_EQ(s.dropped_rows, 0u);
  EXPECT_EQ(s.last_error, "sqlite: database or disk is full");
  ASSERT_EQ(statuses().size(), 1u) << "on_status fires on the change, not on every failure";
  EXPECT_FALSE(statuses()[0].first);

  shared_->fail_writes = false;
  clock_.advance(1s);
  ASSERT_TRUE(eventually([&] { return writer_->stats().pending_rows == 0; }));
  s = writer_->stats();
  EXPECT_TRUE(s.storage_ok);
  EXPECT_EQ(s.committed_rows, submitted);
  EXPECT_EQ(shared_->sample_values(), values) << "every sample, in order";
  EXPECT_EQ(shared_->event_reasons(), reasons);
  ASSERT_EQ(statuses().size(), 2u);
  EXPECT_TRUE(statuses()[1].first);
}

TEST_F(StoreWriterTest, BeyondMaxPendingRowsTheOldestSamplesAreDroppedButNeverEvents) {
  StoreWriterOptions o;
  o.max_pending_rows = 100;
  o.max_delay = 50ms;
  o.retry_interval = 1s;
  make(slow_maintenance(o));
  shared_->fail_writes = true;
  for (int i = 0; i < 30; ++i) {  // 30 x (10 samples + 1 event) = 330 rows
    WriteBatch b;
    NodeSamples ns{"plant", "pi-1", {}};
    for (int k = 0; k < 10; ++k) ns.metrics.push_back(make_metric("cpu/total", "%", i * 10 + k, i * 10 + k));
    b.samples.push_back(std::move(ns));
    b.events.push_back(event_part("e" + std::to_string(i)).events[0]);
    writer_->submit(std::move(b));
  }
  StoreWriterStats s = writer_->stats();
  EXPECT_EQ(s.pending_rows, 100u);
  EXPECT_EQ(s.dropped_rows, 230u);
  clock_.advance(50ms);
  ASSERT_TRUE(eventually([&] { return writer_->stats().write_failures >= 1; }));
  EXPECT_EQ(writer_->stats().pending_rows, 100u) << "a failed batch is kept, nothing more dropped";

  shared_->fail_writes = false;
  clock_.advance(1s);
  ASSERT_TRUE(eventually([&] { return writer_->stats().pending_rows == 0; }));
  s = writer_->stats();
  EXPECT_EQ(s.committed_rows, 100u);
  EXPECT_EQ(s.dropped_rows, 230u);
  EXPECT_EQ(shared_->event_reasons().size(), 30u) << "events are never dropped";
  std::vector<double> newest;
  for (int v = 230; v < 300; ++v) newest.push_back(v);
  EXPECT_EQ(shared_->sample_values(), newest) << "the oldest samples went first";
}

TEST_F(StoreWriterTest, MaintenanceRunsEveryIntervalOnlyWhileStorageIsOkAndItsFailureIsNotFatal) {
  StoreWriterOptions o;
  o.maintenance_interval = 10s;
  o.max_delay = 10ms;
  o.retry_interval = 1s;
  make(o);
  auto runs = [&] {
    std::lock_guard lock(shared_->mutex);
    return shared_->maintained_at.size();
  };
  clock_.advance(10s);
  ASSERT_TRUE(eventually([&] { return runs() == 1; }));
  {
    std::lock_guard lock(shared_->mutex);
    EXPECT_EQ(shared_->maintained_at[0], to_unix_ms(clock_.wall())) << "maintain() gets the wall clock";
  }
  shared_->fail_maintenance = true;
  clock_.advance(10s);
  ASSERT_TRUE(eventually([&] { return writer_->stats().maintenance_failures == 1; }));
  EXPECT_TRUE(writer_->stats().storage_ok) << "a failed maintenance does not mark storage failing";
  shared_->fail_maintenance = false;

  shared_->fail_writes = true;
  writer_->submit(samples_part({1}));
  clock_.advance(10ms);
  ASSERT_TRUE(eventually([&] { return !writer_->stats().storage_ok; }));
  clock_.advance(10s);  // due, but storage is failing
  const auto failures = writer_->stats().write_failures;
  ASSERT_TRUE(eventually([&] { return writer_->stats().write_failures > failures; }));  // the retry ran
  EXPECT_EQ(runs(), 1u);
  EXPECT_EQ(writer_->stats().maintenance_runs, 2u);

  shared_->fail_writes = false;
  clock_.advance(1s);
  ASSERT_TRUE(eventually([&] { return writer_->stats().storage_ok; }));
  ASSERT_TRUE(eventually([&] { return runs() == 2; }));
}

TEST_F(StoreWriterTest, StopFlushesWhatIsPending) {
  StoreWriterOptions o;
  o.max_delay = std::chrono::hours(1);
  make(slow_maintenance(o));
  writer_->submit(samples_part({1, 2, 3}));
  bool fenced = false;
  writer_->after_commit([&] { fenced = true; });
  writer_->stop();
  EXPECT_EQ(shared_->sample_values(), (std::vector<double>{1, 2, 3}));
  EXPECT_TRUE(fenced);
  EXPECT_EQ(writer_->stats().committed_rows, 3u);
  writer_->submit(samples_part({4}));
  EXPECT_EQ(writer_->stats().dropped_rows, 1u) << "nothing is accepted after stop()";
  writer_->stop();  // twice is fine
}

TEST_F(StoreWriterTest, StopGivesUpOnAFailingStoreAfterItsDeadline) {
  StoreWriterOptions o;
  o.max_delay = std::chrono::hours(1);
  o.retry_interval = 20ms;
  make(slow_maintenance(o));
  shared_->fail_writes = true;
  writer_->submit(samples_part({1, 2}));
  bool fenced = false;
  writer_->after_commit([&] { fenced = true; });
  const auto started = std::chrono::steady_clock::now();
  writer_->stop(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_GE(shared_->write_calls.load(), 2) << "retried until the deadline";
  const StoreWriterStats s = writer_->stats();
  EXPECT_EQ(s.dropped_rows, 2u);
  EXPECT_EQ(s.pending_rows, 0u);
  EXPECT_FALSE(fenced) << "a fence over rows that were never committed does not run";
}

}  // namespace
}  // namespace edgemon::gateway
