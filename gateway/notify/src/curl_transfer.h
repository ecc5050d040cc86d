// Internal: one libcurl easy handle set up the way every notify channel needs it -- bounded in
// time, cancellable, no proxy from the environment, no redirects, and every socket checked by the
// address guard before it is opened.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <stop_token>
#include <string>

#include "edgemon/common/result.h"

namespace edgemon::notify::detail {

struct TransferLimits {
  std::chrono::milliseconds timeout{5000};
  bool allow_link_local = false;
};

class CurlTransfer {
 public:
  CurlTransfer(const TransferLimits& limits, std::stop_token cancel);
  ~CurlTransfer();
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;

  CURL* handle() const { return h_; }
  // Runs the transfer. Errors: kPermissionDenied (address refused by the guard), kUnavailable
  // (connect/timeout/transfer failure or cancelled: worth retrying), kInvalidArgument (bad URL or
  // unsupported protocol: retrying will not help), kInternal (no handle).
  Status perform(const std::string& what);

  // Read by the C callbacks.
  bool allow_link_local = false;
  bool blocked = false;
  std::string blocked_address;
  std::stop_token cancel;

 private:
  CURL* h_ = nullptr;
};

}  // namespace edgemon::notify::detail
