// The libcurl side of address_policy.h: a CURLOPT_OPENSOCKETFUNCTION hook that looks at every
// address curl is about to connect to -- after DNS, for each address it tries, and for any later
// connection of the same handle (redirects, reconnects) -- and refuses link-local and metadata
// addresses before a socket exists, so not one packet is sent to them.
//
// Library edgemon_net_policy (links libcurl); edgemon_common itself does not depend on curl.
// Used by the gateway's notifications (gateway/notify) and the agent's HTTP/gRPC checks
// (firmware/probe).
#pragma once

#include <curl/curl.h>

#include <string>

#include "edgemon/common/address_policy.h"

namespace edgemon::net {

class CurlAddressGuard {
 public:
  CurlAddressGuard() = default;
  CurlAddressGuard(const CurlAddressGuard&) = delete;
  CurlAddressGuard& operator=(const CurlAddressGuard&) = delete;

  // Sets CURLOPT_OPENSOCKETFUNCTION/DATA on `easy` (replacing any earlier hook). This object must
  // stay where it is for as long as the handle may connect. `allow_link_local` turns the check
  // off; `how_to_allow` completes the refusal text ("notify.webhook.allow_link_local = true").
  void install(CURL* easy, bool allow_link_local, std::string how_to_allow);

  // Whether a connection was refused since install(), and the text to report, e.g.
  //   refused: 169.254.169.254 is link-local (set notify.webhook.allow_link_local = true to allow)
  // A refused attempt makes curl fail with CURLE_COULDNT_CONNECT unless another address of the
  // same name connected; callers report message() when the transfer failed and refused() is set.
  bool refused() const { return refused_; }
  const std::string& message() const { return message_; }

 private:
  static curl_socket_t open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address);

  bool allow_ = false;
  bool refused_ = false;
  std::string how_to_allow_;
  std::string message_;
};

}  // namespace edgemon::net
