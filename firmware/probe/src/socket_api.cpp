#include "edgemon/probe/socket_api.h"

#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace edgemon::probe {

PosixSocketApi& PosixSocketApi::instance() {
  static PosixSocketApi api;
  return api;
}

int PosixSocketApi::socket(int domain, int type, int protocol) {
  const int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
  errno_ = fd < 0 ? errno : 0;
  return fd;
}

ssize_t PosixSocketApi::sendto(int fd, const void* buf, std::size_t len, int flags,
                               const sockaddr* to, socklen_t to_len) {
  const ssize_t n = ::sendto(fd, buf, len, flags, to, to_len);
  errno_ = n < 0 ? errno : 0;
  return n;
}

ssize_t PosixSocketApi::recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from,
                                 socklen_t* from_len) {
  const ssize_t n = ::recvfrom(fd, buf, len, flags, from, from_len);
  errno_ = n < 0 ? errno : 0;
  return n;
}

int PosixSocketApi::poll(pollfd* fds, nfds_t n, std::chrono::nanoseconds timeout) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout.count() >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    tsp = &ts;
  }
  const int rc = ::ppoll(fds, n, tsp, nullptr);
  errno_ = rc < 0 ? errno : 0;
  return rc;
}

int PosixSocketApi::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  const int rc = ::setsockopt(fd, level, name, value, len);
  errno_ = rc < 0 ? errno : 0;
  return rc;
}

int PosixSocketApi::close(int fd) {
  const int rc = ::close(fd);
  errno_ = rc < 0 ? errno : 0;
  return rc;
}

}  // namespace edgemon::probe
