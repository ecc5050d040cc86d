#include "edgemon/probe/service_checks.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "curl_check.h"
#include "errno_text.h"

namespace edgemon::probe {
namespace {

double ms_since(const Clock& clock, MonoTime start) {
  return std::chrono::duration<double, std::milli>(clock.mono() - start).count();
}

}  // namespace

CheckResult run_tcp_check(const TcpCheckSpec& spec, const Clock& clock) {
  CheckResult r;
  const MonoTime start = clock.mono();
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(spec.port);
  if (const int rc = ::getaddrinfo(spec.host.c_str(), port.c_str(), &hints, &res);
      rc != 0 || !res) {
    r.detail = std::string("cannot resolve: ") + ::gai_strerror(rc);
    r.duration_ms = ms_since(clock, start);
    return r;
  }
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.detail = std::string("socket: ") + errno_text(errno);
    ::freeaddrinfo(res);
    return r;
  }
  int err = 0;
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    err = errno;
  }
  ::freeaddrinfo(res);
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    const auto left =
        spec.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(clock.mono() - start);
    const int rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (rc == 0) {
      err = ETIMEDOUT;
    } else if (rc < 0) {
      err = errno;
    } else {
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
    }
  }
  ::close(fd);
  r.duration_ms = ms_since(clock, start);
  r.ok = err == 0;
  r.detail = err == 0 ? "connected" : err == ETIMEDOUT ? "timeout" : errno_text(err);
  if (err == ECONNREFUSED) {
    r.detail = "connection refused";
  }
  return r;
}

std::string grpc_health_request(const std::string& service) {
  std::string msg;
  if (!service.empty()) {  // field 1 (string): tag 0x0a, varint length, bytes
    msg.push_back('\x0a');
    std::size_t n = service.size();
    while (n >= 0x80) {
      msg.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    msg.push_back(static_cast<char>(n));
    msg += service;
  }
  std::string framed(5, '\0');  // not compressed, 4-byte big-endian length
  const auto len = static_cast<std::uint32_t>(msg.size());
  framed[1] = static_cast<char>(len >> 24);
  framed[2] = static_cast<char>((len >> 16) & 0xff);
  framed[3] = static_cast<char>((len >> 8) & 0xff);
  framed[4] = static_cast<char>(len & 0xff);
  return framed + msg;
}

int grpc_health_status(const std::string& f) {
  if (f.size() < 5 || f[0] != 0) {
    return -1;
  }
  const auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(f[i]));
  };
  const std::uint32_t len = b(1) << 24 | b(2) << 16 | b(3) << 8 | b(4);
  if (len != f.size() - 5) {
    return -1;
  }
  int status = 0;  // proto3 default: UNKNOWN (0) when the field is absent
  std::size_t i = 5;
  while (i < f.size()) {
    const unsigned char tag = static_cast<unsigned char>(f[i++]);
    if ((tag & 0x07) != 0) {
      return -1;  // only varints expected in HealthCheckResponse
    }
    std::uint64_t v = 0;
    int shift = 0;
    for (;;) {
      if (i >= f.size() || shift > 63) {
        return -1;
      }
      const unsigned char byte = static_cast<unsigned char>(f[i++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        break;
      }
      shift += 7;
    }
    if ((tag >> 3) == 1) {
      status = v > 1000 ? -1 : static_cast<int>(v);
    }
  }
  return status;
}

CheckResult run_http_check(const HttpCheckSpec& spec, const Clock& clock) {
  CurlCheck c;
  const MonoTime start = clock.mono();
  if (!c.prepare_http(spec)) {
    return c.finish(CURLE_FAILED_INIT, 0.0);
  }
  const CURLcode rc = curl_easy_perform(c.easy());
  return c.finish(rc, ms_since(clock, start));
}

CheckResult run_grpc_health_check(const GrpcHealthSpec& spec, const Clock& clock) {
  CurlCheck c;
  const MonoTime start = clock.mono();
  if (!c.prepare_grpc(spec)) {
    return c.finish(CURLE_FAILED_INIT, 0.0);
  }
  const CURLcode rc = curl_easy_perform(c.easy());
  return c.finish(rc, ms_since(clock, start));
}

}  // namespace edgemon::probe
