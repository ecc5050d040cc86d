#include "edgemon/notify/dispatcher.h"

#include <algorithm>

#include "edgemon/common/log.h"

namespace edgemon::notify {
namespace {

constexpr std::string_view kLog = "notify";

}  // namespace

std::chrono::milliseconds retry_delay(int failures, const RetryPolicy& policy) {
  auto d = policy.initial_backoff;
  for (int i = 1; i < failures && d < policy.max_backoff; ++i) d *= 2;
  return std::min(d, policy.max_backoff);
}

Dispatcher::Dispatcher(std::vector<std::unique_ptr<Channel>> channels, DispatcherOptions options)
    : options_(options) {
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
  if (options_.queue_capacity < 1) options_.queue_capacity = 1;
  for (auto& c : channels) {
    if (!c) continue;
    Lane lane;
    lane.stats.channel = c->name();
    lane.channel = std::move(c);
    lanes_.push_back(std::move(lane));
  }
}

Dispatcher::~Dispatcher() { stop(std::chrono::milliseconds(0)); }

Status Dispatcher::start() {
  std::lock_guard lock(mutex_);
  if (started_) return make_error(ErrorCode::kInvalidArgument, "dispatcher already started");
  started_ = true;
  accepting_ = true;
  for (Lane& lane : lanes_) {
    lane.worker = std::jthread([this, &lane](std::stop_token st) { run(lane, st); });
  }
  return Status::Ok();
}

Status Dispatcher::submit(Notification n) {
  auto shared = std::make_shared<const Notification>(std::move(n));
  std::string full;
  {
    std::lock_guard lock(mutex_);
    if (!accepting_) return make_error(ErrorCode::kUnavailable, "notification dispatcher is not running");
    for (Lane& lane : lanes_) {
      if (lane.queue.size() >= options_.queue_capacity) {
        ++lane.stats.dropped;
        full += (full.empty() ? "" : ",") + lane.stats.channel;
        continue;
      }
      lane.queue.push_back(Job{shared, 0, MonoClock::now()});
    }
    ++generation_;
  }
  wake_.notify_all();
  if (!full.empty()) {
    log::warn(kLog, "queue full, notification dropped",
              {{"channels", full}, {"alert", shared->alert}, {"node", shared->node}});
    return make_error(ErrorCode::kResourceExhausted, "notification queue full for " + full);
  }
  return Status::Ok();
}

void Dispatcher::stop(std::chrono::milliseconds deadline) {
  {
    std::unique_lock lock(mutex_);
    accepting_ = false;
    if (!started_ || stopped_) return;
    stopped_ = true;
    draining_ = true;
    drain_deadline_ = MonoClock::now() + deadline;
    ++generation_;
    wake_.notify_all();
    // Workers stop on their own once drained or at the deadline between sends; a send still in
    // flight at the deadline is cancelled through its stop token below.
    wake_.wait_until(lock, drain_deadline_, [this] { return lanes_done_ == lanes_.size(); });
  }
  for (Lane& lane : lanes_) lane.worker.request_stop();
  for (Lane& lane : lanes_) {
    if (lane.worker.joinable()) lane.worker.join();
  }
}

void Dispatcher::abandon_locked(Lane& lane, const char* why) {
  if (lane.queue.empty()) return;
  log::error(kLog, "notifications abandoned",
             {{"channel", lane.stats.channel}, {"count", lane.queue.size()}, {"reason", why}});
  lane.stats.failed += lane.queue.size();
  lane.queue.clear();
}

void Dispatcher::run(Lane& lane, std::stop_token cancel) {
  std::unique_lock lock(mutex_);
  for (;;) {
    const MonoTime now = MonoClock::now();
    if (lane.queue.empty()) {
      if (draining_ || cancel.stop_requested()) break;  // drained
      wake_.wait(lock, cancel, [&] { return draining_ || !lane.queue.empty(); });
      continue;
    }
    const MonoTime due = lane.queue.front().next_attempt;
    if (draining_ && (cancel.stop_requested() || now >= drain_deadline_ || due > drain_deadline_)) {
      abandon_locked(lane, "shutdown deadline");
      break;
    }
    if (cancel.stop_requested()) break;
    if (due > now) {
      // Woken early by stop() so a backoff beyond the drain deadline ends at once.
      const std::uint64_t seen = generation_;
      wake_.wait_until(lock, cancel, due, [this, seen] { return generation_ != seen && draining_; });
      continue;
    }

    const std::shared_ptr<const Notification> n = lane.queue.front().n;
    lock.unlock();
    const Status s = lane.channel->send(*n, cancel);
    lock.lock();

    Job& job = lane.queue.front();  // only this lane's worker pops, so the head is still ours
    ++job.attempts;
    if (s) {
      ++lane.stats.sent;
      log::info(kLog, "notification sent",
                {{"channel", lane.stats.channel}, {"alert", n->alert}, {"node", n->node},
                 {"state", to_string(n->state)}, {"attempts", job.attempts}});
      lane.queue.pop_front();
      continue;
    }
    if (is_retryable(s.error()) && job.attempts < options_.retry.max_attempts) {
      ++lane.stats.retries;
      const auto delay = retry_delay(job.attempts, options_.retry);
      job.next_attempt = MonoClock::now() + delay;
      log::warn(kLog, "notification send failed, will retry",
                {{"channel", lane.stats.channel}, {"alert", n->alert}, {"node", n->node},
                 {"attempt", job.attempts}, {"retry_in_ms", delay.count()}, {"error", s.error().message}});
    } else {
      ++lane.stats.failed;
      log::error(kLog, "notification failed",
                 {{"channel", lane.stats.channel}, {"alert", n->alert}, {"node", n->node},
                  {"attempts", job.attempts}, {"error", s.error().message}});
      lane.queue.pop_front();
    }
  }
  ++lanes_done_;
  lock.unlock();
  wake_.notify_all();
}

std::vector<ChannelStats> Dispatcher::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<ChannelStats> out;
  for (const Lane& lane : lanes_) {
    ChannelStats s = lane.stats;
    s.queued = lane.queue.size();
    out.push_back(s);
  }
  return out;
}

}  // namespace edgemon::notify
