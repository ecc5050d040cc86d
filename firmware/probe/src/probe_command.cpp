#include "edgemon/probe/probe_command.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "edgemon/common/clock.h"
#include "edgemon/probe/ping_engine.h"
#include "edgemon/probe/socket_api.h"

namespace edgemon::probe {
namespace {

std::string fmt(double v) {
  char buf[32];
  (void)std::snprintf(buf, sizeof buf, v < 100 ? "%.3f" : "%.1f", v);
  return buf;
}

}  // namespace

int run_probe_command(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"Ping targets once, print fping-style statistics; exit 1 if any target is down",
               "probe"};
  std::vector<std::string> hosts;
  std::uint32_t count = 3;
  double period_ms = 1000, interval_ms = 10, timeout_ms = 1000, max_loss = 20, max_avg = 0;
  std::size_t size = 16;
  bool v4 = false, v6 = false, unprivileged = false, show_rtts = false;
  app.add_option("-c,--count", count, "echo requests per target")->check(CLI::Range(1u, 10000u));
  app.add_option("-p,--period", period_ms, "ms between requests to one target")
      ->check(CLI::Range(0.0, 3.6e6));
  app.add_option("-i,--interval", interval_ms, "ms between consecutive targets")
      ->check(CLI::Range(0.0, 60000.0));
  app.add_option("-t,--timeout", timeout_ms, "ms to wait for each reply")
      ->check(CLI::Range(1.0, 600000.0));
  app.add_option("-b,--size", size, "payload bytes")->check(CLI::Range(0, 1400));
  app.add_option("--max-loss", max_loss, "loss % above which a target is DEGRADED");
  app.add_option("--max-avg", max_avg, "average RTT ms above which a target is DEGRADED (0: off)");
  app.add_flag("-4", v4, "IPv4 only");
  app.add_flag("-6", v6, "IPv6 only");
  app.add_flag("--unprivileged", unprivileged,
               "use the unprivileged ping socket even with CAP_NET_RAW");
  app.add_flag("-C,--rtts", show_rtts, "also print every RTT (- for a lost probe)");
  app.add_option("hosts", hosts, "names or addresses")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e, out, err);
    return rc == 0 ? 0 : 3;
  }
  if (v4 && v6) {
    err << "probe: -4 and -6 exclude each other\n";
    return 3;
  }
  auto ns = [](double ms) {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ms * 1e6)));
  };
  EngineOptions o;
  o.count = count;
  o.period = ns(period_ms);
  o.interval = ns(interval_ms);
  o.timeout = ns(timeout_ms);
  o.payload_bytes = size;
  o.family = v4 ? AF_INET : v6 ? AF_INET6 : AF_UNSPEC;
  o.mode = unprivileged ? ModePreference::kUnprivilegedOnly : ModePreference::kAuto;
  o.health.failure_threshold = 1;  // one round: no reply at all means DOWN
  o.health.success_threshold = 1;
  o.health.degraded_loss_pct = max_loss;
  o.health.degraded_avg_ms = max_avg;
  auto engine = PingEngine::create(PosixSocketApi::instance(), SystemClock::instance(), o);
  if (!engine) {
    err << "probe: " << engine.error().message << "\n";
    return 4;
  }
  if (Status s = (*engine)->set_targets(hosts); !s) {
    err << "probe: " << s.error().message << "\n";
    return 3;
  }
  if (Status s = (*engine)->run_round(); !s) {
    err << "probe: " << s.error().message << "\n";
    return 4;
  }
  bool any_down = false, any_unresolved = false;
  std::size_t width = 0;
  for (const TargetReport& r : (*engine)->results()) {
    width = std::max(width, r.name.size());
  }
  for (const TargetReport& r : (*engine)->results()) {
    std::string line = r.name + std::string(width - r.name.size(), ' ') + " : ";
    if (!r.resolved) {
      line += "address not found";
      any_unresolved = true;
      out << line << "\n";
      continue;
    }
    const RoundStats& s = r.stats;
    line += "xmt/rcv/%loss = " + std::to_string(s.sent) + "/" + std::to_string(s.received) + "/" +
            std::to_string(static_cast<int>(std::lround(s.loss_pct))) + "%";
    if (s.received > 0) {
      line += ", min/avg/max = " + fmt(s.min_ms) + "/" + fmt(s.avg_ms) + "/" + fmt(s.max_ms);
      line += ", med/p95/sd/jitter = " + fmt(s.median_ms) + "/" + fmt(s.p95_ms) + "/" +
              fmt(s.stddev_ms) + "/" + fmt(s.jitter_ms);
      if (s.ttl >= 0) {
        line += ", ttl " + std::to_string(s.ttl);
      }
    }
    if (s.unreachable > 0) {
      line += ", " + std::to_string(s.unreachable) + " unreachable";
    }
    if (s.time_exceeded > 0) {
      line += ", " + std::to_string(s.time_exceeded) + " time exceeded";
    }
    line += std::string(", ") + to_string(r.health);
    if (r.health == Health::kDown) {
      line += std::string(" (") + to_string(r.failure) + ")";
      any_down = true;
    }
    if (r.address != r.name) {
      line += " [" + r.address + "]";
    }
    if (show_rtts) {
      line += "\n  rtts:";
      for (double v : s.rtt_ms) {
        line += std::isnan(v) ? std::string(" -") : " " + fmt(v);
      }
    }
    out << line << "\n";
  }
  if (any_unresolved) {
    return 2;
  }
  return any_down ? 1 : 0;
}

int run_probe_command(int argc, char** argv) {
  return run_probe_command(argc, argv, std::cout, std::cerr);
}

}  // namespace edgemon::probe
