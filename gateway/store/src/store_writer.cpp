// StoreWriter: see the header. One mutex guards the queue, the fences and the stats; the Store is
// touched only by the writer thread, with the mutex released, so submit() never waits for SQLite.
#include "edgemon/gateway/store/store_writer.h"

#include <algorithm>
#include <utility>

#include "edgemon/common/log.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "store";
constexpr auto kDropLogInterval = std::chrono::seconds(10);
// Waits are cut into slices of at most this much real time, so the writer also notices time moving
// on a clock that does not wake anyone (tests step a manual clock).
constexpr auto kMaxWaitSlice = std::chrono::milliseconds(100);

// Appends `from` to `into`, keeping submission order; a later alert_state replaces an earlier one.
void merge_into(WriteBatch& into, WriteBatch&& from) {
  auto append = [](auto& dst, auto& src) {
    if (dst.empty()) {
      dst = std::move(src);
    } else {
      dst.insert(dst.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end()));
    }
  };
  append(into.samples, from.samples);
  append(into.events, from.events);
  append(into.incidents, from.incidents);
  append(into.uptime, from.uptime);
  append(into.node_configs, from.node_configs);
  append(into.rules, from.rules);
  append(into.progress, from.progress);
  if (from.alert_state) into.alert_state = std::move(from.alert_state);
}

}  // namespace

StoreWriter::StoreWriter(std::unique_ptr<Store> store, StoreWriterOptions options, const Clock& clock)
    : store_(std::move(store)), options_(options), clock_(clock) {}

StoreWriter::~StoreWriter() { stop(); }

Status StoreWriter::start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_ || stopped_) return make_error(ErrorCode::kInvalidArgument, "store writer already started or stopped");
  if (!store_) return make_error(ErrorCode::kInvalidArgument, "store writer has no store");
  started_ = true;
  next_maintenance_ = clock_.mono() + options_.maintenance_interval;  // here, not on the thread: no race with the clock
  thread_ = std::thread([this] { run(); });
  return Status::Ok();
}

void StoreWriter::stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
    stop_deadline_ = MonoClock::now() + deadline;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (queued_rows_ > 0) {  // never started
    log::error(kLog, "history rows not written: the writer never started", {{"rows", queued_rows_}});
    stats_.dropped_rows += queued_rows_;
  }
  queue_.clear();
  queued_rows_ = 0;
  fences_.clear();
  stopped_ = true;
}

void StoreWriter::submit(WriteBatch part) {
  const std::size_t rows = part.rows();
  if (rows == 0) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || stopped_) {
      stats_.dropped_rows += rows;
      return;
    }
    wake = queue_.empty();  // the writer may be sleeping until its next maintenance
    queue_.push_back(Part{std::move(part), ++next_seq_, rows, clock_.mono()});
    queued_rows_ += rows;
    if (queued_rows_ >= options_.max_batch_rows) wake = true;
    enforce_limit_locked();
  }
  if (wake) wake_.notify_one();
}

void StoreWriter::after_commit(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || stopped_) return;
    fences_.push_back(Fence{next_seq_, std::move(done)});
  }
  wake_.notify_one();
}

void StoreWriter::on_status(std::function<void(bool, const std::string&)> callback) {
  std::lock_guard lock(mutex_);
  status_callback_ = std::move(callback);
}

StoreWriterStats StoreWriter::stats() const {
  std::lock_guard lock(mutex_);
  StoreWriterStats s = stats_;
  s.pending_rows = queued_rows_ + inflight_rows_;
  return s;
}

// Drops the oldest sample metrics, front of the queue first, until the pending rows are within
// max_pending_rows or no queued samples are left. A batch being written is not touched (it is back
// in the queue, and subject to this, if its write fails).
void StoreWriter::enforce_limit_locked() {
  const std::size_t pending = queued_rows_ + inflight_rows_;
  if (pending <= options_.max_pending_rows) return;
  std::size_t excess = pending - options_.max_pending_rows;
  std::size_t dropped = 0;
  for (Part& part : queue_) {
    if (excess == 0) break;
    for (NodeSamples& ns : part.batch.samples) {
      if (excess == 0) break;
      const auto drop_front = [&](auto& list) {
        const std::size_t k = std::min(excess, list.size());
        list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(k));
        excess -= k;
        dropped += k;
        part.rows -= k;
      };
      drop_front(ns.values);
      drop_front(ns.metrics);
    }
    std::erase_if(part.batch.samples, [](const NodeSamples& ns) { return ns.size() == 0; });
  }
  std::erase_if(queue_, [](const Part& p) { return p.rows == 0; });
  queued_rows_ -= dropped;
  stats_.dropped_rows += dropped;
  drops_since_log_ += dropped;
  const MonoTime now = clock_.mono();
  if (drops_since_log_ > 0 && (!drop_logged_ || now - last_drop_log_ >= kDropLogInterval)) {
    log::warn(kLog, "history queue full, oldest samples dropped",
              {{"dropped", drops_since_log_}, {"dropped_total", stats_.dropped_rows},
               {"pending_rows", queued_rows_ + inflight_rows_}, {"max_pending_rows", options_.max_pending_rows}});
    last_drop_log_ = now;
    drop_logged_ = true;
    drops_since_log_ = 0;
  }
}

// Runs, in order, the fences whose parts are all committed (all of them when nothing is pending).
void StoreWriter::run_due_fences(std::unique_lock<std::mutex>& lock) {
  const bool all = queue_.empty() && inflight_rows_ == 0;
  while (!fences_.empty() && (all || fences_.front().after_seq <= committed_seq_)) {
    std::function<void()> done = std::move(fences_.front().done);
    fences_.pop_front();
    lock.unlock();
    if (done) done();
    lock.lock();
  }
}

void StoreWriter::set_status(std::unique_lock<std::mutex>& lock, bool ok, const std::string& error) {
  if (stats_.storage_ok == ok) return;
  stats_.storage_ok = ok;
  if (ok) {
    log::info(kLog, "history writes recovered", {{"pending_rows", queued_rows_}, {"dropped_rows", stats_.dropped_rows}});
  } else {
    log::error(kLog, "history write failed, keeping rows and retrying",
               {{"error", error}, {"pending_rows", queued_rows_}, {"retry_ms", options_.retry_interval.count()}});
  }
  auto callback = status_callback_;
  if (!callback) return;
  lock.unlock();
  callback(ok, error);
  lock.lock();
}

void StoreWriter::run() {
  std::unique_lock lock(mutex_);
  bool maintenance_more = false;
  for (;;) {
    run_due_fences(lock);
    const MonoTime now = clock_.mono();
    const bool draining = stopping_;

    // 1. A batch, when one is due: full, old enough, a retry after a failure, or shutting down.
    if (!queue_.empty()) {
      const bool due = draining ? true
                       : stats_.storage_ok
                           ? queued_rows_ >= options_.max_batch_rows || now - queue_.front().queued_at >= options_.max_delay
                           : now >= next_retry_;
      if (due) {
        Part batch;
        while (!queue_.empty() &&
               (batch.rows == 0 || batch.rows + queue_.front().rows <= options_.max_batch_rows)) {
          Part& p = queue_.front();
          if (batch.rows == 0) batch.queued_at = p.queued_at;
          merge_into(batch.batch, std::move(p.batch));
          batch.rows += p.rows;
          batch.seq = p.seq;
          queue_.pop_front();
        }
        queued_rows_ -= batch.rows;
        inflight_rows_ = batch.rows;
        lock.unlock();
        const Status s = store_->write(batch.batch);
        lock.lock();
        inflight_rows_ = 0;
        if (s) {
          stats_.committed_rows += batch.rows;
          ++stats_.committed_batches;
          committed_seq_ = batch.seq;
          set_status(lock, true, "");
          continue;
        }
        ++stats_.write_failures;
        stats_.last_error = s.error().message;
        next_retry_ = clock_.mono() + options_.retry_interval;
        // Back to the head of the queue, as one part: it commits whole or not at all.
        queued_rows_ += batch.rows;
        queue_.push_front(std::move(batch));
        enforce_limit_locked();
        set_status(lock, false, s.error().message);
        if (draining) {
          if (MonoClock::now() >= stop_deadline_) {
            log::error(kLog, "history rows not written at shutdown",
                       {{"rows", queued_rows_}, {"error", stats_.last_error}});
            stats_.dropped_rows += queued_rows_;
            queue_.clear();
            queued_rows_ = 0;
            fences_.clear();
            return;
          }
          wake_.wait_until(lock, std::min(MonoClock::now() + options_.retry_interval, stop_deadline_));
        }
        continue;
      }
    }
    if (draining && queue_.empty()) {
      run_due_fences(lock);
      return;
    }

    // 2. Maintenance, while storage is ok.
    if (stats_.storage_ok && (maintenance_more || now >= next_maintenance_)) {
      lock.unlock();
      const auto report = store_->maintain(to_unix_ms(clock_.wall()));
      lock.lock();
      ++stats_.maintenance_runs;
      next_maintenance_ = clock_.mono() + options_.maintenance_interval;
      maintenance_more = false;
      if (!report) {
        ++stats_.maintenance_failures;
        stats_.last_error = report.error().message;
        log::warn(kLog, "history maintenance failed", {{"error", report.error().message}});
      } else {
        maintenance_more = report->more;
        const MaintenanceReport& r = *report;
        if (r.minutes_rolled_up + r.samples_deleted + r.minute_rows_deleted + r.hour_rows_deleted + r.events_deleted +
                r.incidents_deleted + r.uptime_rows_deleted + r.reports_built >
            0) {
          log::debug(kLog, "history maintenance",
                     {{"minutes", r.minutes_rolled_up}, {"hours", r.hours_rolled_up},
                      {"samples_deleted", r.samples_deleted}, {"minute_rows_deleted", r.minute_rows_deleted},
                      {"hour_rows_deleted", r.hour_rows_deleted}, {"events_deleted", r.events_deleted},
                      {"reports_built", r.reports_built}, {"more", r.more}});
        }
      }
      continue;
    }

    // 3. Sleep until the next thing is due, a submission, or a slice has passed.
    MonoTime wake_at = now + kMaxWaitSlice;
    if (stats_.storage_ok) wake_at = std::min(wake_at, next_maintenance_);
    if (!queue_.empty()) {
      wake_at = std::min(wake_at, stats_.storage_ok ? queue_.front().queued_at + options_.max_delay : next_retry_);
    }
    const auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now),
                                 std::chrono::milliseconds(1), std::chrono::milliseconds(kMaxWaitSlice));
    wake_.wait_for(lock, wait);
  }
}

}  // namespace edgemon::gateway
