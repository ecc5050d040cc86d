// IcmpPinger: one echo per target per round, non-blocking, driven by the agent's poll() loop.
// IPv4 only. This is the walking skeleton's pinger; the fping-class engine on the lwIP-compatible
// socket layer replaces it (issue 3) behind the same start_round / on_readable / deadline shape.
//
// Socket: unprivileged SOCK_DGRAM ICMP when net.ipv4.ping_group_range allows this process's group,
// else SOCK_RAW (needs CAP_NET_RAW). Neither: kPermissionDenied naming both.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"

namespace edgemon::firmware {

struct PingResult {
  std::string host;
  std::optional<double> rtt_ms;  // nullopt: no reply before the timeout (or unresolved)
  bool resolved = false;
};

// Decodes one received ICMP echo reply. `ip_header_included` for SOCK_RAW sockets.
// Returns false for anything that is not a well-formed echo reply (never reads past `len`).
struct EchoReply {
  std::uint16_t ident = 0;
  std::uint16_t sequence = 0;
};
bool decode_echo_reply(const std::uint8_t* data, std::size_t len, bool ip_header_included, EchoReply& out);

class IcmpPinger {
 public:
  static Result<std::unique_ptr<IcmpPinger>> open();
  ~IcmpPinger();
  IcmpPinger(const IcmpPinger&) = delete;
  IcmpPinger& operator=(const IcmpPinger&) = delete;

  int fd() const { return fd_; }
  bool raw() const { return raw_; }

  // Resolves host names now (re-resolved each round if resolution failed).
  void set_targets(const std::vector<std::string>& hosts);

  void start_round(MonoTime now, std::chrono::milliseconds timeout);
  void on_readable(MonoTime now);
  // True when every target replied or the round timed out.
  bool round_done(MonoTime now) const;
  bool round_active() const { return active_; }
  // Closes the round: replies arriving later are ignored.
  void end_round();
  std::optional<MonoTime> deadline() const;
  std::span<const PingResult> results() const { return results_; }

 private:
  IcmpPinger(int fd, bool raw) : fd_(fd), raw_(raw) {}
  struct Target {
    std::string host;
    sockaddr_in addr{};
    bool resolved = false;
    MonoTime sent_at{};
    bool waiting = false;
  };
  void resolve(Target& t);

  int fd_ = -1;
  bool raw_ = false;
  std::uint16_t ident_ = 0;
  std::uint16_t round_ = 0;
  bool active_ = false;
  MonoTime deadline_{};
  std::vector<Target> targets_;
  std::vector<PingResult> results_;
};

}  // namespace edgemon::firmware
