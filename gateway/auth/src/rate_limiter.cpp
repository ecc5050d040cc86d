#include "edgemon/auth/rate_limiter.h"

#include <algorithm>

namespace edgemon::auth {

RateLimiter::RateLimiter(int limit, std::size_t max_keys) : limit_(std::max(limit, 1)), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

std::chrono::seconds RateLimiter::retry_after(std::string_view key, MonoTime now) const {
  const auto it = events_.find(std::string(key));
  if (it == events_.end()) return std::chrono::seconds(0);
  const std::deque<MonoTime>& q = it->second;
  // Events still inside the window ending at `now`.
  const auto first_live = std::find_if(q.begin(), q.end(), [&](MonoTime t) { return t > now - kWindow; });
  const auto live = static_cast<std::size_t>(q.end() - first_live);
  if (live < static_cast<std::size_t>(limit_)) return std::chrono::seconds(0);
  // The (live - limit + 1)-th oldest live event must leave the window.
  const MonoTime frees = *(first_live + static_cast<std::ptrdiff_t>(live - static_cast<std::size_t>(limit_))) + kWindow;
  const auto wait = std::chrono::ceil<std::chrono::seconds>(frees - now);
  return std::max(wait, std::chrono::seconds(1));
}

void RateLimiter::record(std::string_view key, MonoTime now) {
  auto it = events_.find(std::string(key));
  if (it == events_.end()) {
    if (events_.size() >= max_keys_) prune(now);
    if (events_.size() >= max_keys_) events_.erase(events_.begin());
    it = events_.emplace(std::string(key), std::deque<MonoTime>{}).first;
  }
  std::deque<MonoTime>& q = it->second;
  while (!q.empty() && q.front() <= now - kWindow) q.pop_front();
  q.push_back(now);
  while (q.size() > static_cast<std::size_t>(limit_)) q.pop_front();
}

void RateLimiter::prune(MonoTime now) {
  for (auto it = events_.begin(); it != events_.end();) {
    if (it->second.empty() || it->second.back() <= now - kWindow) {
      it = events_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace edgemon::auth
