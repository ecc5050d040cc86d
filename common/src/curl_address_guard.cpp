#include "edgemon/common/curl_address_guard.h"

#include <sys/socket.h>

#include <utility>

namespace edgemon::net {

void CurlAddressGuard::install(CURL* easy, bool allow_link_local, std::string how_to_allow) {
  allow_ = allow_link_local;
  how_to_allow_ = std::move(how_to_allow);
  refused_ = false;
  message_.clear();
  if (easy == nullptr) return;
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlAddressGuard::open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
}

curl_socket_t CurlAddressGuard::open_socket(void* clientp, curlsocktype /*purpose*/,
                                            curl_sockaddr* address) {
  auto* g = static_cast<CurlAddressGuard*>(clientp);
  if (g != nullptr && !g->allow_) {
    // curl_sockaddr::addr is declared as a plain sockaddr but curl stores the whole address
    // (sockaddr_in6 included) there; addrlen says how much.
    const GuardedAddress kind = classify_address(&address->addr, address->addrlen);
    if (kind != GuardedAddress::kNone) {
      g->refused_ = true;
      g->message_ = link_local_refusal(numeric_address(&address->addr, address->addrlen), kind,
                                       g->how_to_allow_);
      return CURL_SOCKET_BAD;  // curl gives up on this address: no socket, no packet
    }
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

}  // namespace edgemon::net
