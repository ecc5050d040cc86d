// Internal: one libcurl easy handle set up the way every notify channel needs it -- bounded in
// time, cancellable, no proxy from the environment, no redirects, and every socket checked by the
// link-local guard (edgemon/common/curl_address_guard.h) before it is opened.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <stop_token>
#include <string>

#include "edgemon/common/curl_address_guard.h"
#include "edgemon/common/result.h"

namespace edgemon::notify::detail {

struct TransferLimits {
  std::chrono::milliseconds timeout{5000};
  bool allow_link_local = false;
  // The key named in a refusal, e.g. "notify.webhook.allow_link_local".
  std::string allow_key = "allow_link_local";
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

  // Read by the C callback.
  std::stop_token cancel;

 private:
  CURL* h_ = nullptr;
  net::CurlAddressGuard guard_;
};

}  // namespace edgemon::notify::detail
