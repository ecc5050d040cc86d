// SocketApi: exactly the BSD socket subset lwIP offers (socket, sendto, recvfrom, poll, setsockopt,
// close), so the ICMP engine runs unchanged on Linux (PosixSocketApi) and on lwIP (LwipSocketApi,
// built separately against Debian liblwip-dev). Nothing else may be called on a probe socket:
// non-blocking reads use MSG_DONTWAIT per call (lwIP has no SOCK_NONBLOCK), and there is no
// recvmsg, so TTL comes from the IPv4 header (raw sockets) and RTT from the monotonic clock.
//
// Every call returns what the BSD call returns (-1 on failure) and leaves the error code in
// last_error(), an errno value (EAGAIN/EWOULDBLOCK: nothing to read; EPERM/EACCES: not allowed).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>

namespace edgemon::probe {

class SocketApi {
 public:
  virtual ~SocketApi() = default;
  virtual int socket(int domain, int type, int protocol) = 0;
  virtual ssize_t sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                         socklen_t to_len) = 0;
  virtual ssize_t recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from,
                           socklen_t* from_len) = 0;
  // Waits up to `timeout` (negative: forever). Backends round up to their resolution.
  virtual int poll(pollfd* fds, nfds_t n, std::chrono::nanoseconds timeout) = 0;
  virtual int setsockopt(int fd, int level, int name, const void* value, socklen_t len) = 0;
  virtual int close(int fd) = 0;
  virtual int last_error() const = 0;
  // True when the descriptors are kernel fds another poll() loop (the agent's) can wait on.
  virtual bool os_pollable() const = 0;
  virtual const char* name() const = 0;
};

// Linux sockets; poll() is ppoll() with nanosecond timeouts.
class PosixSocketApi final : public SocketApi {
 public:
  int socket(int domain, int type, int protocol) override;
  ssize_t sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to,
                 socklen_t to_len) override;
  ssize_t recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from,
                   socklen_t* from_len) override;
  int poll(pollfd* fds, nfds_t n, std::chrono::nanoseconds timeout) override;
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len) override;
  int close(int fd) override;
  int last_error() const override { return errno_; }
  bool os_pollable() const override { return true; }
  const char* name() const override { return "posix"; }
  static PosixSocketApi& instance();

 private:
  int errno_ = 0;
};

}  // namespace edgemon::probe
