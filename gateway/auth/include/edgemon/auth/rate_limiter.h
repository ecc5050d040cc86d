// A sliding one-minute window per key: at most `limit` recorded events in any 60 s. Used for
// login attempts per client address and per user name. In memory only (a restart forgets it),
// bounded in keys. Single-threaded, time injected.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "edgemon/common/clock.h"

namespace edgemon::auth {

class RateLimiter {
 public:
  static constexpr std::chrono::seconds kWindow{60};

  explicit RateLimiter(int limit, std::size_t max_keys = 10'000);

  // Zero when one more event for `key` is allowed at `now`; otherwise how long until it is,
  // rounded up to whole seconds (what a Retry-After header carries).
  std::chrono::seconds retry_after(std::string_view key, MonoTime now) const;

  // Records one event. When the table is full, keys with no event left in the window go first;
  // if none has expired, an arbitrary key is forgotten (memory stays bounded under a flood from
  // many addresses, at the price of limiting them less).
  void record(std::string_view key, MonoTime now);

  std::size_t keys() const { return events_.size(); }

 private:
  void prune(MonoTime now);

  int limit_;
  std::size_t max_keys_;
  std::unordered_map<std::string, std::deque<MonoTime>> events_;
};

}  // namespace edgemon::auth
