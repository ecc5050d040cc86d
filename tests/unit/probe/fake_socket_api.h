// FakeSocketApi: an in-memory SocketApi. Sent datagrams are recorded; the test queues what
// recvfrom() returns. Errors are injected per call kind.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "edgemon/probe/socket_api.h"

namespace edgemon::probe::testing {

// Set while the fake does its own bookkeeping, so allocation-counting tests see only the engine's.
inline thread_local bool g_in_fake = false;

struct Datagram {
  int fd = -1;
  std::vector<std::uint8_t> bytes;
  sockaddr_storage peer{};
};

class FakeSocketApi final : public SocketApi {
 public:
  bool allow_raw = true;
  bool allow_dgram = true;
  bool allow_v6 = true;
  int send_errno = 0;  // when non-zero, sendto fails with it
  std::vector<Datagram> sent;
  std::deque<Datagram> inbox;
  std::vector<int> open_fds;
  std::vector<int> types;  // type per opened fd (index fd - 100)

  int socket(int domain, int type, int) override {
    if (domain == AF_INET6 && !allow_v6) return fail(EAFNOSUPPORT);
    if (type == SOCK_RAW && !allow_raw) return fail(EPERM);
    if (type == SOCK_DGRAM && !allow_dgram) return fail(EACCES);
    const int fd = 100 + static_cast<int>(types.size());
    types.push_back(type);
    open_fds.push_back(fd);
    return fd;
  }
  ssize_t sendto(int fd, const void* buf, std::size_t len, int, const sockaddr* to,
                 socklen_t to_len) override {
    if (send_errno != 0) return fail(send_errno);
    g_in_fake = true;
    Datagram d;
    d.fd = fd;
    d.bytes.assign(static_cast<const std::uint8_t*>(buf),
                   static_cast<const std::uint8_t*>(buf) + len);
    std::memcpy(&d.peer, to, to_len);
    sent.push_back(std::move(d));
    g_in_fake = false;
    return static_cast<ssize_t>(len);
  }
  ssize_t recvfrom(int fd, void* buf, std::size_t len, int, sockaddr* from,
                   socklen_t* from_len) override {
    for (auto it = inbox.begin(); it != inbox.end(); ++it) {
      if (it->fd != fd) continue;
      const std::size_t n = std::min(len, it->bytes.size());
      std::memcpy(buf, it->bytes.data(), n);
      std::memcpy(from, &it->peer, std::min<std::size_t>(*from_len, sizeof it->peer));
      g_in_fake = true;
      inbox.erase(it);
      g_in_fake = false;
      return static_cast<ssize_t>(n);
    }
    return fail(EAGAIN);
  }
  int poll(pollfd*, nfds_t, std::chrono::nanoseconds) override { return 0; }
  int setsockopt(int, int, int, const void*, socklen_t) override { return 0; }
  int close(int fd) override {
    std::erase(open_fds, fd);
    return 0;
  }
  int last_error() const override { return err_; }
  bool os_pollable() const override { return true; }
  const char* name() const override { return "fake"; }

 private:
  int fail(int e) {
    err_ = e;
    return -1;
  }
  int err_ = 0;
};

inline sockaddr_storage v4(const char* dotted) {
  sockaddr_storage ss{};
  auto& a = reinterpret_cast<sockaddr_in&>(ss);
  a.sin_family = AF_INET;
  inet_pton(AF_INET, dotted, &a.sin_addr);
  return ss;
}

}  // namespace edgemon::probe::testing
