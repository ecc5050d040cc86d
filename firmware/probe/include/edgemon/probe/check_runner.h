// CheckRunner: TCP, HTTP(S) and gRPC-health checks run concurrently on libcurl's multi interface,
// driven by the caller's poll() loop like the ICMP engine (no threads of ours; curl's threaded
// resolver keeps DNS off the loop). Per round every check runs once; a check still running when
// the next round starts is cancelled and reported as "superseded".
//
//   runner.start_round(now);
//   poll(runner.pollfds() + yours, until runner.next_deadline());
//   runner.drain(clock.mono(), the polled pollfds with revents);
//   if (runner.take_round_complete()) publish(runner.results());
#pragma once

#include <poll.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/common/result.h"
#include "edgemon/probe/service_checks.h"

namespace edgemon::probe {

enum class CheckKind : std::uint8_t { kTcp, kHttp, kGrpcHealth };

struct CheckSpec {
  std::string name;  // metric name, e.g. "web"
  CheckKind kind = CheckKind::kTcp;
  TcpCheckSpec tcp;
  HttpCheckSpec http;
  GrpcHealthSpec grpc;
};

struct CheckReport {
  std::string name;
  CheckKind kind = CheckKind::kTcp;
  std::uint64_t round = 0;  // 0: no round finished yet
  CheckResult result;
};

class CheckRunner {
 public:
  // Errors: kInternal when curl's multi handle cannot be created.
  static Result<std::unique_ptr<CheckRunner>> create(const Clock& clock);
  ~CheckRunner();
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  void set_checks(std::vector<CheckSpec> checks);  // between rounds
  void start_round(MonoTime now);
  bool round_active() const { return running_ > 0; }
  bool take_round_complete();

  // The descriptors curl currently waits on, with the events it wants.
  std::span<const pollfd> pollfds() const { return fds_; }
  std::optional<MonoTime> next_deadline() const { return timer_; }
  // Hands curl the ready descriptors (entries with revents != 0; others are ignored) and any
  // expired timer, then collects finished checks.
  void drain(MonoTime now, std::span<const pollfd> polled);
  // Runs one whole round on this thread with its own poll() (tests, tools).
  Status run_round();

  std::span<const CheckReport> results() const { return reports_; }

  // curl callbacks (public for the C trampolines only).
  void on_socket(int fd, int what);
  void on_timer(long timeout_ms);

 private:
  struct Running;
  explicit CheckRunner(const Clock& clock);
  void collect();
  void cancel_all();

  const Clock& clock_;
  void* multi_ = nullptr;  // CURLM*
  std::vector<CheckSpec> checks_;
  std::vector<CheckReport> reports_;
  std::vector<std::unique_ptr<Running>> running_checks_;
  std::vector<pollfd> fds_;
  std::optional<MonoTime> timer_;
  std::uint64_t round_ = 0;
  std::size_t running_ = 0;
  bool complete_ = false;
};

const char* to_string(CheckKind k);

}  // namespace edgemon::probe
