#include "edgemon/notify/dispatcher.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include <gtest/gtest.h>

namespace edgemon::notify {
namespace {

using namespace std::chrono_literals;

// A channel whose answers are scripted: `results` is consumed in order, then Ok for ever.
class FakeChannel final : public Channel {
 public:
  explicit FakeChannel(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Status send(const Notification& n, std::stop_token cancel) override {
    std::unique_lock lock(m);
    if (block) {
      cv.wait(lock, cancel, [this] { return !block; });
      if (cancel.stop_requested()) return make_error(ErrorCode::kUnavailable, "cancelled");
    }
    ++calls;
    if (!script.empty()) {
      Status s = script.front();
      script.erase(script.begin());
      if (!s) return s;
    }
    delivered.push_back(n.alert + ":" + to_string(n.state));
    cv.notify_all();
    return Status::Ok();
  }
  void release() {
    std::lock_guard lock(m);
    block = false;
    cv.notify_all();
  }
  bool wait_delivered(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return delivered.size() >= count; });
  }

  std::mutex m;
  std::condition_variable_any cv;
  bool block = false;
  int calls = 0;
  std::vector<Status> script;
  std::vector<std::string> delivered;

 private:
  std::string name_;
};

Notification make(const std::string& alert, AlertState state = AlertState::kFiring) {
  Notification n;
  n.alert = alert;
  n.node = "pi-01";
  n.state = state;
  return n;
}

Status unavailable() { return make_error(ErrorCode::kUnavailable, "receiver down"); }

DispatcherOptions fast() {
  DispatcherOptions o;
  o.retry = {4, 5ms, 20ms};
  return o;
}

TEST(RetryDelay, DoublesAndCaps) {
  const RetryPolicy p{10, 100ms, 1000ms};
  EXPECT_EQ(retry_delay(1, p), 100ms);
  EXPECT_EQ(retry_delay(2, p), 200ms);
  EXPECT_EQ(retry_delay(4, p), 800ms);
  EXPECT_EQ(retry_delay(5, p), 1000ms);
  EXPECT_EQ(retry_delay(60, p), 1000ms);
}

TEST(Dispatcher, DeliversFiringThenResolvedInOrderOnEveryChannel) {
  auto a = std::make_unique<FakeChannel>("a");
  auto b = std::make_unique<FakeChannel>("b");
  FakeChannel* pa = a.get();
  FakeChannel* pb = b.get();
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(a));
  chans.push_back(std::move(b));
  pa->script = {unavailable()};  // firing fails once on a; resolved must still come after it
  Dispatcher d(std::move(chans), fast());
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.submit(make("HIGH_CPU")));
  ASSERT_TRUE(d.submit(make("HIGH_CPU", AlertState::kResolved)));
  ASSERT_TRUE(pa->wait_delivered(2, 5s));
  ASSERT_TRUE(pb->wait_delivered(2, 5s));
  d.stop(1s);
  const std::vector<std::string> want{"HIGH_CPU:firing", "HIGH_CPU:resolved"};
  EXPECT_EQ(pa->delivered, want);
  EXPECT_EQ(pb->delivered, want);
  const auto st = d.stats();
  EXPECT_EQ(st[0].sent, 2u);
  EXPECT_EQ(st[0].retries, 1u);
  EXPECT_EQ(st[1].retries, 0u);
}

TEST(Dispatcher, GivesUpAfterMaxAttemptsAndCountsFailed) {
  auto a = std::make_unique<FakeChannel>("a");
  FakeChannel* pa = a.get();
  pa->script = {unavailable(), unavailable(), unavailable(), unavailable(), unavailable()};
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(a));
  Dispatcher d(std::move(chans), fast());
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.submit(make("LOST")));
  ASSERT_TRUE(d.submit(make("NEXT")));
  ASSERT_TRUE(pa->wait_delivered(1, 5s));
  d.stop(1s);
  EXPECT_EQ(pa->delivered, std::vector<std::string>{"NEXT:firing"});
  const auto st = d.stats();
  EXPECT_EQ(st[0].failed, 1u);
  EXPECT_EQ(st[0].retries, 4u);  // LOST: 4 attempts = 3 retries; the 5th scripted failure hits NEXT once
  EXPECT_EQ(st[0].sent, 1u);
}

TEST(Dispatcher, PermanentErrorsAreNotRetried) {
  auto a = std::make_unique<FakeChannel>("a");
  FakeChannel* pa = a.get();
  pa->script = {Status(make_error(ErrorCode::kPermissionDenied, "link-local"))};
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(a));
  Dispatcher d(std::move(chans), fast());
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.submit(make("X")));
  ASSERT_TRUE(d.submit(make("Y")));
  ASSERT_TRUE(pa->wait_delivered(1, 5s));
  d.stop(1s);
  EXPECT_EQ(pa->calls, 2);
  EXPECT_EQ(d.stats()[0].failed, 1u);
  EXPECT_EQ(d.stats()[0].retries, 0u);
}

TEST(Dispatcher, SubmitNeverWaitsForABlockedChannelAndAFullQueueOnlyDropsThere) {
  auto slow = std::make_unique<FakeChannel>("slow");
  auto fine = std::make_unique<FakeChannel>("fine");
  FakeChannel* ps = slow.get();
  FakeChannel* pf = fine.get();
  ps->block = true;
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(slow));
  chans.push_back(std::move(fine));
  DispatcherOptions o = fast();
  o.queue_capacity = 4;
  Dispatcher d(std::move(chans), o);
  ASSERT_TRUE(d.start());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(d.submit(make("A" + std::to_string(i))));
  ASSERT_TRUE(pf->wait_delivered(4, 5s)) << "the healthy channel is not held up by the stuck one";
  while (d.stats()[1].sent < 4) std::this_thread::sleep_for(1ms);  // popped from its queue too
  for (int i = 4; i < 10; ++i) {
    const Status s = d.submit(make("A" + std::to_string(i)));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kResourceExhausted);
    EXPECT_NE(s.error().message.find("slow"), std::string::npos);
    EXPECT_EQ(s.error().message.find("fine"), std::string::npos) << s.error().message;
    // Let the healthy channel catch up so only the stuck one is ever full.
    while (d.stats()[1].sent < static_cast<std::uint64_t>(i + 1)) std::this_thread::sleep_for(1ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ASSERT_TRUE(pf->wait_delivered(10, 5s)) << "the healthy channel got everything";
  ps->release();
  d.stop(2s);
  const auto st = d.stats();
  EXPECT_EQ(st[0].dropped, 6u);
  EXPECT_EQ(st[0].sent, 4u);
  EXPECT_EQ(st[1].sent, 10u);
  EXPECT_EQ(st[1].dropped, 0u);
}

TEST(Dispatcher, StopDrainsAndThenRefuses) {
  auto a = std::make_unique<FakeChannel>("a");
  FakeChannel* pa = a.get();
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(a));
  Dispatcher d(std::move(chans), fast());
  ASSERT_TRUE(d.start());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(d.submit(make("N" + std::to_string(i))));
  d.stop(5s);
  EXPECT_EQ(pa->delivered.size(), 20u);
  const Status s = d.submit(make("late"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

TEST(Dispatcher, StopDeadlineCancelsAStuckSendAndCountsTheRest) {
  auto a = std::make_unique<FakeChannel>("a");
  FakeChannel* pa = a.get();
  pa->block = true;  // never released: only cancellation gets it out
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(a));
  Dispatcher d(std::move(chans), fast());
  ASSERT_TRUE(d.start());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d.submit(make("S" + std::to_string(i))));
  const auto t0 = std::chrono::steady_clock::now();
  d.stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  const auto st = d.stats();
  EXPECT_EQ(st[0].sent, 0u);
  EXPECT_EQ(st[0].failed, 3u);
  EXPECT_EQ(st[0].queued, 0u);
}

TEST(Dispatcher, StopWithPendingBackoffBeyondTheDeadlineReturnsAtOnce) {
  auto a = std::make_unique<FakeChannel>("a");
  FakeChannel* pa = a.get();
  pa->script = {unavailable()};
  std::vector<std::unique_ptr<Channel>> chans;
  chans.push_back(std::move(a));
  DispatcherOptions o;
  o.retry = {5, 10s, 60s};
  Dispatcher d(std::move(chans), o);
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(d.submit(make("Z")));
  while (d.stats()[0].retries == 0) std::this_thread::sleep_for(1ms);
  const auto t0 = std::chrono::steady_clock::now();
  d.stop(1s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
  EXPECT_EQ(d.stats()[0].failed, 1u);
}

}  // namespace
}  // namespace edgemon::notify
