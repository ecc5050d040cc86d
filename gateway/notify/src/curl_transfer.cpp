#include "curl_transfer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>

#include "edgemon/notify/address_guard.h"

namespace edgemon::notify::detail {
namespace {

void curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { (void)curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string numeric(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    ::inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof in6);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf);
  }
  return buf;
}

curl_socket_t open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<CurlTransfer*>(clientp);
  if (purpose == CURLSOCKTYPE_IPCXN && !t->allow_link_local &&
      is_link_local(&address->addr, address->addrlen)) {
    t->blocked = true;
    t->blocked_address = numeric(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

int on_progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<const CurlTransfer*>(clientp);
  return t->cancel.stop_requested() ? 1 : 0;  // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

}  // namespace

CurlTransfer::CurlTransfer(const TransferLimits& limits, std::stop_token cancel_token)
    : allow_link_local(limits.allow_link_local), cancel(std::move(cancel_token)) {
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
  curl_easy_setopt(h_, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
  curl_easy_setopt(h_, CURLOPT_OPENSOCKETDATA, this);
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
  if (blocked) {
    return make_error(ErrorCode::kPermissionDenied,
                      what + ": address " + blocked_address +
                          " is link-local (cloud metadata range); set allow_link_local = true to permit");
  }
  if (rc == CURLE_OK) return Status::Ok();
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
