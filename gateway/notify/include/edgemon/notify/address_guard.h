// Which resolved addresses a user-configured URL may connect to. Cloud and hypervisor metadata
// services live on link-local addresses (169.254.169.254, fe80::/10); a webhook URL pointing there
// would let whoever edits the config read instance credentials through the gateway. The check runs
// on every address libcurl actually connects to (CURLOPT_OPENSOCKETFUNCTION), after DNS, so a
// hostname that resolves to a metadata address -- or rebinds to one -- is refused as well.
#pragma once

#include <sys/socket.h>

#include <string_view>

namespace edgemon::notify {

// True for 169.254.0.0/16, fe80::/10 and IPv4-mapped ::ffff:169.254.0.0/112.
bool is_link_local(const sockaddr* addr, socklen_t len);
// The same for a numeric address literal ("169.254.169.254", "fe80::1"); false if not numeric.
bool is_link_local(std::string_view ip_literal);

}  // namespace edgemon::notify
