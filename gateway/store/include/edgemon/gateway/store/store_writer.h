// StoreWriter: the one thread that writes history, so the gateway's io thread never waits on
// SQLite (a commit, a checkpoint, a full disk).
//
// submit() merges its rows into a queue under a short lock and returns. The writer thread commits
// the queue in batches of up to max_batch_rows, at the latest max_delay after the first row of a
// batch was queued, one Store::write() (one transaction) per batch. Between batches, every
// maintenance_interval, it runs Store::maintain() (rollups, retention, daily reports); when that
// reports more work it is called again right after the next batch, so neither starves the other.
//
// A failed write (disk full or any other error) loses nothing: the batch goes back to the head of
// the queue and is retried every retry_interval, while submissions keep queueing. Storage is then
// reported failing (on_status, stats); the first successful write reports it ok again. While the
// queue holds more than max_pending_rows, the oldest raw samples are dropped (counted, logged at
// most every 10 s); events, incidents, uptime deltas and alert state are never dropped.
//
// after_commit() is the durability fence: the gateway hands notifications on only after the alert
// state that announced them is committed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

struct StoreWriterOptions {
  std::size_t max_batch_rows = 1000000;            // a batch closes at this many samples (rows)...
  std::chrono::milliseconds max_delay{200};        // ...or this long after its first row was queued
  std::size_t max_pending_rows = 1'000'000;        // beyond this, the oldest raw samples are dropped
  std::chrono::milliseconds retry_interval{1000};  // after a failed write
  std::chrono::milliseconds maintenance_interval{10000};
};

struct StoreWriterStats {
  std::uint64_t committed_rows = 0;
  std::uint64_t committed_batches = 0;
  std::uint64_t write_failures = 0;        // failed Store::write() calls (each retry counts)
  std::uint64_t dropped_rows = 0;          // samples dropped over max_pending_rows, rows submitted
                                           // after stop(), and rows abandoned by stop()'s deadline
  std::uint64_t pending_rows = 0;          // queued or being written
  std::uint64_t maintenance_runs = 0;
  std::uint64_t maintenance_failures = 0;
  bool storage_ok = true;
  std::string last_error;                  // of the last failed write or maintenance, kept after recovery
};

class StoreWriter {
 public:
  // `clock` decides batching, retry and maintenance times (mono) and maintain()'s now (wall); it
  // must outlive the writer.
  StoreWriter(std::unique_ptr<Store> store, StoreWriterOptions options, const Clock& clock);
  ~StoreWriter();  // stop() if still running
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Starts the writer thread. Errors: kInvalidArgument (already started, or stopped).
  Status start();
  // Stops accepting, commits what is queued (retrying a failing store until `deadline` of real
  // time has passed; what is left then is logged and counted dropped, its after_commit callbacks
  // are discarded), joins the thread. Safe to call twice, and without start().
  void stop(std::chrono::milliseconds deadline = std::chrono::seconds(3));

  // Thread-safe; never blocks beyond a short mutex. Queues `part` for the next batch; parts are
  // committed in submission order (so an incident's open and close keep their order, and the
  // latest alert_state wins). An empty part is ignored.
  void submit(WriteBatch part);
  // Thread-safe. Runs `done` on the writer thread once everything submitted before this call is
  // committed (at once, on that thread, if nothing is pending). Callbacks run in call order.
  void after_commit(std::function<void()> done);
  // Called on the writer thread when storage turns failing or ok again (not for every failure).
  // Set before start().
  void on_status(std::function<void(bool storage_ok, const std::string& error)> callback);

  StoreWriterStats stats() const;  // thread-safe

 private:
  struct Part {
    WriteBatch batch;
    std::uint64_t seq = 0;  // submission number (of the last one merged into it)
    std::size_t rows = 0;
    MonoTime queued_at{};   // when it (the first one merged into it) was submitted
  };
  struct Fence {
    std::uint64_t after_seq;  // runs once every part with seq <= this is committed
    std::function<void()> done;
  };

  void run();
  void enforce_limit_locked();
  void run_due_fences(std::unique_lock<std::mutex>& lock);
  void set_status(std::unique_lock<std::mutex>& lock, bool ok, const std::string& error);

  std::unique_ptr<Store> store_;
  const StoreWriterOptions options_;
  const Clock& clock_;
  std::function<void(bool, const std::string&)> status_callback_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Part> queue_;
  std::size_t queued_rows_ = 0;
  std::size_t inflight_rows_ = 0;
  std::uint64_t next_seq_ = 0;     // seq of the last submitted part
  std::uint64_t committed_seq_ = 0;
  std::deque<Fence> fences_;
  StoreWriterStats stats_;
  MonoTime next_retry_{};
  MonoTime next_maintenance_{};
  MonoTime last_drop_log_{};
  bool drop_logged_ = false;
  std::uint64_t drops_since_log_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  MonoClock::time_point stop_deadline_{};  // real time: bounds how long shutdown may take
  std::thread thread_;
};

}  // namespace edgemon::gateway
