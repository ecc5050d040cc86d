#include "edgemon/probe/ping_engine.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "edgemon/common/log.h"
#include "errno_text.h"

namespace edgemon::probe {
namespace {

constexpr const char* kLog = "probe";
// How long a send refused with EAGAIN/ENOBUFS is retried before the probe counts as failed.
constexpr auto kSendRetry = std::chrono::milliseconds(1);
// Datagrams handled per socket per drain(), so a flood cannot starve timeouts and sends.
constexpr int kMaxReadsPerDrain = 4096;

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) {
    return false;
  }
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                     &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, 16) == 0;
}

bool quoted_is(const IcmpMessage& m, const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) {
    return std::memcmp(m.quoted_dst, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, 4) == 0;
  }
  return std::memcmp(m.quoted_dst, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, 16) == 0;
}

std::size_t seqmap_size_for(std::size_t probes_per_round) {
  std::size_t n = 64;
  while (n < 2 * probes_per_round && n < 65536) {
    n *= 2;
  }
  return n;
}

}  // namespace

void PingEngine::EventQueue::insert(Event* e) {
  Event* after = tail_;
  while (after != nullptr && after->at > e->at) {
    after = after->prev;
  }
  e->prev = after;
  e->next = after ? after->next : head_;
  if (e->next) {
    e->next->prev = e;
  } else {
    tail_ = e;
  }
  if (after) {
    after->next = e;
  } else {
    head_ = e;
  }
  e->queued = true;
}

void PingEngine::EventQueue::remove(Event* e) {
  if (!e->queued) {
    return;
  }
  if (e->prev) {
    e->prev->next = e->next;
  } else {
    head_ = e->next;
  }
  if (e->next) {
    e->next->prev = e->prev;
  } else {
    tail_ = e->prev;
  }
  e->prev = e->next = nullptr;
  e->queued = false;
}

Result<std::unique_ptr<PingEngine>> PingEngine::create(SocketApi& api, const Clock& clock,
                                                       EngineOptions options) {
  if (options.count == 0 || options.timeout.count() <= 0 || options.period.count() < 0 ||
      options.interval.count() < 0 || options.payload_bytes > 1400) {
    return make_error(ErrorCode::kInvalidArgument,
                      "ping options: count >= 1, timeout > 0, payload <= 1400 bytes");
  }
  auto engine = std::unique_ptr<PingEngine>(new PingEngine(api, clock, std::move(options)));
  const EngineOptions& o = engine->options_;
  if (o.family != AF_INET6) {
    auto s = IcmpSocket::open(api, AF_INET, o.mode);
    if (!s) {
      return s.error();
    }
    engine->v4_ = std::move(*s);
  }
  if (o.family != AF_INET) {
    auto s = IcmpSocket::open(api, AF_INET6, o.mode);
    if (s) {
      engine->v6_ = std::move(*s);
    } else if (o.family == AF_INET6) {
      return s.error();
    } else {
      log::warn(kLog, "no ICMPv6 socket; IPv6 targets will fail", {{"error", s.error().message}});
    }
  }
  if (api.os_pollable()) {
    if (engine->v4_) {
      engine->fds_.push_back(engine->v4_->fd());
    }
    if (engine->v6_) {
      engine->fds_.push_back(engine->v6_->fd());
    }
  }
  engine->ident_ = static_cast<std::uint16_t>(::getpid() & 0xffff);
  return engine;
}

PingEngine::~PingEngine() = default;

void PingEngine::resolve(Target& t) {
  if (!t.numeric && options_.resolver) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!options_.resolver(t.host, options_.family, ss, len)) {
      return;
    }
    if (!t.resolved || !same_address(ss, t.addr)) {
      reports_address_stale_ = true;
    }
    t.addr = ss;
    t.addr_len = len;
    t.resolved = true;
    return;
  }
  addrinfo hints{};
  hints.ai_family = options_.family;
  hints.ai_socktype = SOCK_RAW;
  hints.ai_flags = t.numeric ? AI_NUMERICHOST : 0;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(t.host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    if (t.resolved) {
      log::warn(kLog, "re-resolution failed, keeping address", {{"host", t.host}});
    } else {
      log::warn(kLog, "cannot resolve target", {{"host", t.host}, {"error", ::gai_strerror(rc)}});
    }
    if (res) {
      ::freeaddrinfo(res);
    }
    return;
  }
  // Prefer IPv4 when both exist and either is allowed (like fping's default).
  const addrinfo* pick = res;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  sockaddr_storage ss{};
  std::memcpy(&ss, pick->ai_addr, pick->ai_addrlen);
  if (!t.resolved || !same_address(ss, t.addr)) {
    reports_address_stale_ = true;
  }
  t.addr = ss;
  t.addr_len = static_cast<socklen_t>(pick->ai_addrlen);
  ::freeaddrinfo(res);
  t.resolved = true;
}

Status PingEngine::set_targets(std::span<const std::string> hosts) {
  finish_round();
  for (const std::string& h : hosts) {
    if (h.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "empty target name");
    }
  }
  const std::uint32_t count = options_.count;
  targets_.clear();
  targets_.resize(hosts.size());
  reports_.clear();
  reports_.resize(hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    Target& t = targets_[i];
    t.host = hosts[i];
    in6_addr probe{};
    t.numeric = ::inet_pton(AF_INET, t.host.c_str(), &probe) == 1 ||
                ::inet_pton(AF_INET6, t.host.c_str(), &probe) == 1;
    t.timeout_events.assign(count, Event{});
    t.records.assign(count, ProbeRecord{});
    t.sent_at.assign(count, MonoTime{});
    t.seq.assign(count, 0);
    t.send_event.target = static_cast<std::uint32_t>(i);
    for (std::uint32_t k = 0; k < count; ++k) {
      t.timeout_events[k].target = static_cast<std::uint32_t>(i);
      t.timeout_events[k].probe = k;
    }
    t.health = HealthTracker(options_.health);
    resolve(t);
    TargetReport& r = reports_[i];
    r.name = t.host;
    r.stats.rtt_ms.reserve(count);
  }
  scratch_.assign(count, 0.0);
  seqmap_.assign(seqmap_size_for(hosts.size() * count), SeqSlot{});
  next_seq_ = 0;
  return Status::Ok();
}

IcmpSocket* PingEngine::socket_for(const Target& t) const {
  return t.addr.ss_family == AF_INET6 ? v6_.get() : v4_.get();
}

void PingEngine::start_round(MonoTime now) {
  if (active_) {
    finish_round();
  }
  ++round_;
  round_start_ = now;
  pending_ = 0;
  std::uint32_t slot = 0;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    if (!t.resolved ||
        (!t.numeric && options_.reresolve_rounds > 0 && round_ % options_.reresolve_rounds == 0)) {
      resolve(t);
    }
    std::fill(t.records.begin(), t.records.end(), ProbeRecord{});
    t.next_probe = 0;
    if (!t.resolved) {
      continue;
    }
    t.base = now + options_.interval * slot++;
    t.send_event.at = t.base;
    sends_.insert(&t.send_event);
    pending_ += options_.count;
  }
  active_ = true;
  if (pending_ == 0) {
    complete_round();
  }
}

void PingEngine::finish_round() {
  if (!active_) {
    return;
  }
  while (Event* e = sends_.front()) {
    sends_.remove(e);
    Target& t = targets_[e->target];
    for (std::uint32_t k = t.next_probe; k < options_.count; ++k) {
      t.records[k].outcome = ProbeOutcome::kTimeout;
    }
  }
  while (Event* e = timeouts_.front()) {
    timeouts_.remove(e);
    Target& t = targets_[e->target];
    seqmap_[t.seq[e->probe] & (seqmap_.size() - 1)].active = false;
    t.records[e->probe].outcome = ProbeOutcome::kTimeout;
  }
  pending_ = 0;
  complete_round();
}

bool PingEngine::take_round_complete() {
  const bool c = complete_flag_;
  complete_flag_ = false;
  return c;
}

std::optional<MonoTime> PingEngine::next_deadline() const {
  std::optional<MonoTime> d;
  if (Event* e = sends_.front()) {
    d = e->at;
  }
  if (Event* e = timeouts_.front()) {
    d = d ? std::min(*d, e->at) : e->at;
  }
  return d;
}

void PingEngine::send_probe(Target& t, std::uint32_t k, MonoTime now) {
  IcmpSocket* sock = socket_for(t);
  const auto ti = static_cast<std::uint32_t>(&t - targets_.data());
  if (sock == nullptr) {
    ++counters_.send_failures;
    settle(ti, k, ProbeOutcome::kSendFailed, 0, -1);
    return;
  }
  const std::size_t mask = seqmap_.size() - 1;
  const auto seq = static_cast<std::uint16_t>(next_seq_ & mask);
  const std::size_t len =
      encode_echo_request(tx_, sock->family(), ident_, seq, options_.payload_bytes);
  const MonoTime sent = clock_.mono();
  const ssize_t n = api_.sendto(sock->fd(), tx_.data(), len, 0,
                                reinterpret_cast<const sockaddr*>(&t.addr), t.addr_len);
  if (n < 0) {
    const int err = api_.last_error();
    const MonoTime first_due = t.base + options_.period * k;
    if ((err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR) &&
        now - first_due < options_.timeout) {
      t.send_event.at = now + kSendRetry;  // the same probe again shortly
      sends_.insert(&t.send_event);
      return;
    }
    ++counters_.send_failures;
    t.next_probe = k + 1;
    settle(ti, k, ProbeOutcome::kSendFailed, 0, -1);
  } else {
    ++next_seq_;
    ++counters_.sent;
    SeqSlot& slot = seqmap_[seq];
    slot = SeqSlot{ti, k, true};
    t.seq[k] = seq;
    t.sent_at[k] = sent;
    t.next_probe = k + 1;
    Event& te = t.timeout_events[k];
    te.at = sent + options_.timeout;
    timeouts_.insert(&te);
  }
  if (t.next_probe < options_.count && !t.send_event.queued) {
    // Absolute schedule: the k-th request is due at start + offset + k * period, so a late turn
    // never shifts the ones after it (fping's -l drift).
    t.send_event.at = t.base + options_.period * t.next_probe;
    sends_.insert(&t.send_event);
  }
}

void PingEngine::settle(std::uint32_t target, std::uint32_t probe, ProbeOutcome outcome,
                        double rtt_ms, int ttl) {
  Target& t = targets_[target];
  ProbeRecord& r = t.records[probe];
  if (r.outcome != ProbeOutcome::kPending) {
    return;
  }
  r.outcome = outcome;
  r.rtt_ms = rtt_ms;
  r.ttl = ttl;
  timeouts_.remove(&t.timeout_events[probe]);
  if (pending_ > 0 && --pending_ == 0 && active_) {
    complete_round();
  }
}

void PingEngine::complete_round() {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    TargetReport& r = reports_[i];
    r.round = round_;
    r.resolved = t.resolved;
    if (t.resolved && (r.address.empty() || reports_address_stale_)) {
      char buf[INET6_ADDRSTRLEN] = {};
      const void* a =
          t.addr.ss_family == AF_INET6
              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(t.addr).sin6_addr)
              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(t.addr).sin_addr);
      ::inet_ntop(t.addr.ss_family, a, buf, sizeof buf);
      r.address = buf;  // once per resolution, not per round
    }
    compute_round_stats(t.records, scratch_, r.stats);
    if (!t.resolved) {
      r.stats.loss_pct = 100.0;
    }
    r.health = t.health.update(r.stats);
    r.failure = t.health.last_failure();
  }
  reports_address_stale_ = false;
  active_ = false;
  complete_flag_ = true;
}

void PingEngine::handle_datagram(IcmpSocket& sock, std::size_t len, const sockaddr_storage& from,
                                 MonoTime rx) {
  const DecodeResult d = decode_icmp(std::span<const std::uint8_t>(rx_.data(), len), sock.family(),
                                     sock.ip_header_included());
  if (d.status == DecodeStatus::kNotEcho) {
    ++counters_.foreign;
    return;
  }
  if (d.status != DecodeStatus::kOk) {
    ++counters_.malformed[static_cast<std::size_t>(d.status)];
    return;
  }
  const IcmpMessage& m = d.message;
  // A ping socket only ever sees its own traffic and the kernel owns the ident.
  if (sock.mode() == SocketMode::kRaw && m.ident != ident_) {
    ++counters_.foreign;
    return;
  }
  if (m.sequence >= seqmap_.size()) {
    ++counters_.foreign;
    return;
  }
  SeqSlot& slot = seqmap_[m.sequence];
  if (!slot.active || slot.target >= targets_.size()) {
    ++counters_.late;
    return;
  }
  Target& t = targets_[slot.target];
  if (m.kind == IcmpKind::kEchoReply) {
    if (!same_address(from, t.addr)) {
      ++counters_.foreign;
      return;
    }
    slot.active = false;
    ++counters_.replies;
    const double rtt =
        std::chrono::duration<double, std::milli>(rx - t.sent_at[slot.probe]).count();
    settle(slot.target, slot.probe, ProbeOutcome::kReply, rtt, m.ttl);
    return;
  }
  if (!quoted_is(m, t.addr)) {
    ++counters_.foreign;
    return;
  }
  slot.active = false;
  ++counters_.errors_matched;
  settle(slot.target, slot.probe,
         m.kind == IcmpKind::kDestUnreachable ? ProbeOutcome::kUnreachable
                                              : ProbeOutcome::kTimeExceeded,
         0, m.ttl);
}

void PingEngine::receive_all(IcmpSocket& sock) {
  for (int i = 0; i < kMaxReadsPerDrain; ++i) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = api_.recvfrom(sock.fd(), rx_.data(), rx_.size(), MSG_DONTWAIT,
                                    reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (api_.last_error() == EINTR) {
        continue;
      }
      return;  // EAGAIN: drained (or an error the next poll reports again)
    }
    const MonoTime rx = clock_.mono();
    if (!active_) {
      ++counters_.late;
      continue;
    }
    handle_datagram(sock, static_cast<std::size_t>(n), from, rx);
  }
}

void PingEngine::drain(MonoTime now) {
  if (v4_) {
    receive_all(*v4_);
  }
  if (v6_) {
    receive_all(*v6_);
  }
  if (!active_) {
    return;
  }
  while (Event* e = timeouts_.front()) {
    if (e->at > now) {
      break;
    }
    Target& t = targets_[e->target];
    seqmap_[t.seq[e->probe]].active = false;
    settle(e->target, e->probe, ProbeOutcome::kTimeout, 0, -1);  // removes e
    if (!active_) {
      return;
    }
  }
  while (Event* e = sends_.front()) {
    if (e->at > now) {
      break;
    }
    sends_.remove(e);
    Target& t = targets_[e->target];
    send_probe(t, t.next_probe, now);
    if (!active_) {
      return;
    }
  }
}

Status PingEngine::run_round() {
  start_round(clock_.mono());
  std::array<pollfd, 2> pfds{};
  nfds_t n = 0;
  if (v4_) {
    pfds[n++] = pollfd{v4_->fd(), POLLIN, 0};
  }
  if (v6_) {
    pfds[n++] = pollfd{v6_->fd(), POLLIN, 0};
  }
  while (active_) {
    const MonoTime now = clock_.mono();
    drain(now);
    if (!active_) {
      break;
    }
    const auto d = next_deadline();
    const auto wait = d ? std::max(std::chrono::nanoseconds(0), *d - clock_.mono())
                        : std::chrono::nanoseconds(-1);
    for (nfds_t i = 0; i < n; ++i) {
      pfds[i].revents = 0;
    }
    if (api_.poll(pfds.data(), n, wait) < 0 && api_.last_error() != EINTR) {
      finish_round();
      return make_error(ErrorCode::kIo, std::string("poll: ") + errno_text(api_.last_error()));
    }
  }
  complete_flag_ = false;
  return Status::Ok();
}

}  // namespace edgemon::probe
