// Channel: one way of telling people (webhook, e-mail, MQTT). The Dispatcher calls send() from its
// worker thread, one call at a time per channel, so implementations need no locking of their own.
#pragma once

#include <stop_token>
#include <string>

#include "edgemon/common/result.h"
#include "edgemon/notify/notification.h"

namespace edgemon::notify {

class Channel {
 public:
  virtual ~Channel() = default;
  // A short stable name for logs and metrics: "webhook", "email", "mqtt".
  virtual const std::string& name() const = 0;
  // Delivers one notification, bounded by the channel's own timeout; returns early (kUnavailable)
  // once `cancel` is requested. Errors, and what the Dispatcher does with them:
  //   kUnavailable       receiver down, timed out, 5xx/429, cancelled  -> retried with backoff
  //   kPermissionDenied  address refused by the link-local guard       -> failed, not retried
  //   kInvalidArgument   receiver rejected it for good (4xx), bad URL  -> failed, not retried
  virtual Status send(const Notification& n, std::stop_token cancel) = 0;
};

// Whether the Dispatcher should try again after this error.
bool is_retryable(const Error& e);

}  // namespace edgemon::notify
