#include "curl_transfer.h"

#include <mutex>

namespace edgemon::notify::detail {
namespace {

void curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { (void)curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int on_progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<const CurlTransfer*>(clientp);
  return t->cancel.stop_requested() ? 1 : 0;  // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

}  // namespace

CurlTransfer::CurlTransfer(const TransferLimits& limits, std::stop_token cancel_token)
    : cancel(std::move(cancel_token)) {
  curl_global();
  h_ = curl_easy_init();
  if (h_ == nullptr) return;
  curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  // A redirect could point anywhere; proxies from the environment would bypass the guard (it
  // would only see the proxy's address). Both off: notification URLs are explicit.
  curl_easy_setopt(h_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h_, CURLOPT_PROXY, "");
  guard_.install(h_, limits.allow_link_local, limits.allow_key + " = true");
  curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(h_, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L);
}

CurlTransfer::~CurlTransfer() {
  if (h_ != nullptr) curl_easy_cleanup(h_);
}

Status CurlTransfer::perform(const std::string& what) {
  if (h_ == nullptr) return make_error(ErrorCode::kInternal, what + ": curl_easy_init failed");
  const CURLcode rc = curl_easy_perform(h_);
  if (rc == CURLE_OK) return Status::Ok();
  // A refused address fails the transfer (unless another address of the same name connected,
  // in which case rc is CURLE_OK above). Permanent: the configuration has to change.
  if (guard_.refused()) {
    return make_error(ErrorCode::kPermissionDenied, what + ": " + guard_.message());
  }
  const std::string msg = what + ": " + curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_LOGIN_DENIED:
      return make_error(ErrorCode::kInvalidArgument, msg);
    default:
      return make_error(ErrorCode::kUnavailable, msg);
  }
}

}  // namespace edgemon::notify::detail
