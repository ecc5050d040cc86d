// Dispatcher: takes notifications from the rules thread and delivers them on its own worker
// thread, so a slow or dead receiver never blocks ingest.
//
// Each channel has its own bounded FIFO and its own worker thread (there are at most a handful of
// channels), so a receiver that hangs until its timeout delays only its own channel. submit() only
// copies the notification into every channel's queue under a short lock and returns; it never
// waits for I/O. A worker sends the head of its queue; a transient failure (Channel::send's kUnavailable) keeps
// that notification at the head and retries it after an exponential backoff, up to max_attempts,
// then counts it failed and moves on. Only the failing channel waits: the others keep delivering.
// Order per channel is preserved, so a "resolved" notice never overtakes its "firing" one.
//
// Cooldown, repeat and grouping are the rules engine's business; the dispatcher sends what it is
// given, firing and resolved alike.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"
#include "edgemon/notify/channel.h"
#include "edgemon/notify/notification.h"

namespace edgemon::notify {

struct RetryPolicy {
  int max_attempts = 5;                                 // first try included
  std::chrono::milliseconds initial_backoff{1000};      // wait after the first failure
  std::chrono::milliseconds max_backoff{60000};         // cap of the doubling
};

// The wait after `failures` consecutive failures (1 -> initial, doubling, capped at max_backoff).
std::chrono::milliseconds retry_delay(int failures, const RetryPolicy& policy);

struct DispatcherOptions {
  std::size_t queue_capacity = 256;  // per channel
  RetryPolicy retry;
};

struct ChannelStats {
  std::string channel;
  std::uint64_t sent = 0;       // delivered
  std::uint64_t failed = 0;     // gave up: attempts exhausted, permanent error, or shutdown deadline
  std::uint64_t retries = 0;    // transient failures that were retried
  std::uint64_t dropped = 0;    // refused by submit() because this channel's queue was full
  std::size_t queued = 0;       // waiting now (including one being retried)
};

class Dispatcher {
 public:
  Dispatcher(std::vector<std::unique_ptr<Channel>> channels, DispatcherOptions options);
  // Stopping is required before the channels go away: the destructor calls stop(0 ms).
  ~Dispatcher();  // stop(0 ms) if still running
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts one worker thread per channel. Errors: kInvalidArgument (already started or stopped).
  Status start();

  // Never blocks on I/O. Queues `n` on every channel. Errors: kResourceExhausted when at least one
  // channel's queue was full (that channel drops it and counts it; the others still queue it),
  // kUnavailable after stop() began.
  Status submit(Notification n);

  // Stops accepting, then keeps delivering until every queue is empty or `deadline` has passed;
  // a send in flight at the deadline is cancelled, and what is left is counted failed. Joins the
  // workers. Safe to call twice.
  void stop(std::chrono::milliseconds deadline);

  std::vector<ChannelStats> stats() const;
  std::size_t channel_count() const { return lanes_.size(); }

 private:
  struct Job {
    std::shared_ptr<const Notification> n;
    int attempts = 0;
    MonoTime next_attempt{};
  };
  struct Lane {
    std::unique_ptr<Channel> channel;
    std::deque<Job> queue;
    ChannelStats stats;
    std::jthread worker;
  };

  void run(Lane& lane, std::stop_token cancel);
  static void abandon_locked(Lane& lane, const char* why);

  DispatcherOptions options_;
  std::vector<Lane> lanes_;

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  bool started_ = false;
  bool accepting_ = false;
  bool draining_ = false;
  bool stopped_ = false;
  std::size_t lanes_done_ = 0;
  MonoTime drain_deadline_{};
  std::uint64_t generation_ = 0;  // bumped by submit() and stop() to wake the workers
};

}  // namespace edgemon::notify
