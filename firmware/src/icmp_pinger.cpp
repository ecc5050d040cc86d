#include "edgemon/firmware/icmp_pinger.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "edgemon/common/log.h"

namespace edgemon::firmware {
namespace {

constexpr const char* kLog = "ping";
constexpr std::size_t kEchoPayload = 16;

std::uint16_t checksum(const std::uint8_t* data, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (len % 2 != 0) sum += static_cast<std::uint32_t>(data[len - 1] << 8);
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

bool decode_echo_reply(const std::uint8_t* data, std::size_t len, bool ip_header_included, EchoReply& out) {
  std::size_t offset = 0;
  if (ip_header_included) {
    if (len < 20) return false;
    if ((data[0] >> 4) != 4) return false;
    const std::size_t ihl = static_cast<std::size_t>(data[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len) return false;
    offset = ihl;
  }
  if (len - offset < 8) return false;
  const std::uint8_t* icmp = data + offset;
  if (icmp[0] != ICMP_ECHOREPLY || icmp[1] != 0) return false;
  out.ident = static_cast<std::uint16_t>(icmp[4] << 8 | icmp[5]);
  out.sequence = static_cast<std::uint16_t>(icmp[6] << 8 | icmp[7]);
  return true;
}

Result<std::unique_ptr<IcmpPinger>> IcmpPinger::open() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  bool raw = false;
  if (fd < 0) {
    const int dgram_err = errno;
    fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) {
      return make_error(ErrorCode::kPermissionDenied,
                        std::string("cannot open an ICMP socket: unprivileged ICMP refused (") +
                            std::strerror(dgram_err) +
                            "; allow this group in sysctl net.ipv4.ping_group_range) and raw socket refused (" +
                            std::strerror(errno) + "; grant CAP_NET_RAW)");
    }
    raw = true;
  }
  auto pinger = std::unique_ptr<IcmpPinger>(new IcmpPinger(fd, raw));
  pinger->ident_ = static_cast<std::uint16_t>(::getpid() & 0xffff);
  log::info(kLog, "icmp socket open", {{"mode", raw ? "raw" : "unprivileged"}});
  return pinger;
}

IcmpPinger::~IcmpPinger() {
  if (fd_ >= 0) ::close(fd_);
}

void IcmpPinger::resolve(Target& t) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(t.host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    log::warn(kLog, "cannot resolve target", {{"host", t.host}, {"error", ::gai_strerror(rc)}});
    t.resolved = false;
    return;
  }
  std::memcpy(&t.addr, res->ai_addr, sizeof t.addr);
  ::freeaddrinfo(res);
  t.resolved = true;
}

void IcmpPinger::set_targets(const std::vector<std::string>& hosts) {
  targets_.clear();
  results_.clear();
  for (const std::string& h : hosts) {
    Target t;
    t.host = h;
    resolve(t);
    targets_.push_back(std::move(t));
    results_.push_back(PingResult{h, std::nullopt, targets_.back().resolved});
  }
  active_ = false;
}

void IcmpPinger::start_round(MonoTime now, std::chrono::milliseconds timeout) {
  ++round_;
  active_ = true;
  deadline_ = now + timeout;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    results_[i].rtt_ms.reset();
    t.waiting = false;
    if (!t.resolved) resolve(t);
    results_[i].resolved = t.resolved;
    if (!t.resolved) continue;

    std::uint8_t packet[8 + kEchoPayload] = {};
    const auto seq = static_cast<std::uint16_t>((round_ & 0xff) << 8 | (i & 0xff));
    packet[0] = ICMP_ECHO;
    packet[4] = static_cast<std::uint8_t>(ident_ >> 8);
    packet[5] = static_cast<std::uint8_t>(ident_ & 0xff);
    packet[6] = static_cast<std::uint8_t>(seq >> 8);
    packet[7] = static_cast<std::uint8_t>(seq & 0xff);
    std::memcpy(packet + 8, "edgemon-skeleton", kEchoPayload);
    const std::uint16_t sum = checksum(packet, sizeof packet);
    packet[2] = static_cast<std::uint8_t>(sum >> 8);
    packet[3] = static_cast<std::uint8_t>(sum & 0xff);

    t.sent_at = now;
    const ssize_t n = ::sendto(fd_, packet, sizeof packet, 0, reinterpret_cast<const sockaddr*>(&t.addr),
                               sizeof t.addr);
    if (n < 0) {
      log::warn(kLog, "send failed", {{"host", t.host}, {"error", std::strerror(errno)}});
      continue;
    }
    t.waiting = true;
  }
}

void IcmpPinger::on_readable(MonoTime now) {
  std::uint8_t buf[1500];
  for (;;) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    EchoReply reply;
    if (!decode_echo_reply(buf, static_cast<std::size_t>(n), raw_, reply)) continue;
    // Unprivileged sockets get only their own replies, with the kernel-chosen ident.
    if (raw_ && reply.ident != ident_) continue;
    if ((reply.sequence >> 8) != (round_ & 0xff)) continue;  // a late reply from an earlier round
    const std::size_t index = reply.sequence & 0xff;
    if (index >= targets_.size()) continue;
    Target& t = targets_[index];
    if (!t.waiting || from.sin_addr.s_addr != t.addr.sin_addr.s_addr) continue;
    t.waiting = false;
    results_[index].rtt_ms = std::chrono::duration<double, std::milli>(now - t.sent_at).count();
  }
}

bool IcmpPinger::round_done(MonoTime now) const {
  if (!active_) return true;
  if (now >= deadline_) return true;
  for (const Target& t : targets_) {
    if (t.waiting) return false;
  }
  return true;
}

void IcmpPinger::end_round() {
  active_ = false;
  for (Target& t : targets_) t.waiting = false;
}

std::optional<MonoTime> IcmpPinger::deadline() const {
  if (!active_) return std::nullopt;
  return deadline_;
}

}  // namespace edgemon::firmware
