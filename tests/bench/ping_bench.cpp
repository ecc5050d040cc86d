// PingEngine vs fping on loopback (127.0.x.y only). Prints figures and ratios; never fails on
// timing. Needs CAP_NET_RAW (or ping_group_range) and fping in PATH (else only our side runs).
//
//   ping_bench [--targets 1000] [--seconds 60] [--rounds 5]
//
// A: one round to N addresses, back to back (fping -i 0): CPU and wall, median of --rounds.
// B: N targets at 1 Hz for --seconds (fping -c S -p 1000 -i 1): the per-target period actually
//    held, CPU, and peak RSS.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "edgemon/probe/ping_engine.h"
#include "edgemon/probe/socket_api.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using edgemon::probe::EngineOptions;
using edgemon::probe::PingEngine;
using edgemon::probe::PosixSocketApi;

double cpu_ms(const rusage& r) {
  return (static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
          static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3);
}
double self_cpu_ms() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return cpu_ms(r);
}
double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> loopback_targets(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i)
    v.push_back("127.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
  return v;
}

struct Run {
  double wall_ms = 0, cpu_ms = 0;
  long maxrss_kb = 0;
  int status = -1;
};

// Runs argv with stdout+stderr to `out_path`; CPU and peak RSS from wait4.
Run run_process(const std::vector<std::string>& args, const std::string& out_path) {
  Run r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const double t0 = now_ms();
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return r;
  posix_spawn_file_actions_destroy(&fa);
  rusage ru{};
  int st = 0;
  wait4(pid, &st, 0, &ru);
  r.wall_ms = now_ms() - t0;
  r.cpu_ms = cpu_ms(ru);
  r.maxrss_kb = ru.ru_maxrss;
  r.status = st;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int targets = 1000, seconds = 60, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--targets"))
      targets = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rounds"))
      rounds = std::atoi(argv[i + 1]);
  }
  targets = std::clamp(targets, 1, 60000);
  seconds = std::clamp(seconds, 2, 600);
  rounds = std::clamp(rounds, 1, 50);
  const bool have_fping = std::system("command -v fping >/dev/null 2>&1") == 0;
  const std::vector<std::string> hosts = loopback_targets(targets);
  const std::string tmp = "/tmp/edgemon-ping-bench-" + std::to_string(getpid()) + ".out";

  // A: one round, back to back.
  std::vector<double> our_cpu, our_wall, f_cpu, f_wall;
  for (int r = 0; r < rounds; ++r) {
    EngineOptions o;
    o.count = 1;
    o.interval = 0ns;
    o.timeout = 1000ms;
    o.family = AF_INET;
    const double c0 = self_cpu_ms(), w0 = now_ms();
    auto e = PingEngine::create(PosixSocketApi::instance(), edgemon::SystemClock::instance(), o);
    if (!e) {
      std::fprintf(stderr, "ping_bench: %s\n", e.error().message.c_str());
      return 1;
    }
    (void)(*e)->set_targets(hosts);
    (void)(*e)->run_round();
    our_wall.push_back(now_ms() - w0);
    our_cpu.push_back(self_cpu_ms() - c0);
    std::uint32_t received = 0;
    for (const auto& t : (*e)->results()) received += t.stats.received;
    if (received != static_cast<std::uint32_t>(targets))
      std::printf("  (edgemon: %u of %d answered)\n", received, targets);
    if (have_fping) {
      std::vector<std::string> args{"fping", "-i", "0", "-q", "-t", "1000"};
      args.insert(args.end(), hosts.begin(), hosts.end());
      const Run f = run_process(args, tmp);
      f_wall.push_back(f.wall_ms);
      f_cpu.push_back(f.cpu_ms);
    }
  }
  std::printf("A. one round, %d loopback targets, median of %d:\n", targets, rounds);
  std::printf("   edgemon  cpu %7.2f ms  wall %7.2f ms\n", median(our_cpu), median(our_wall));
  if (have_fping) {
    std::printf("   fping    cpu %7.2f ms  wall %7.2f ms   (fping -i 0 -q -t 1000)\n",
                median(f_cpu), median(f_wall));
    std::printf("   ratio edgemon/fping: cpu %.2fx  wall %.2fx\n", median(our_cpu) / median(f_cpu),
                median(our_wall) / median(f_wall));
  }

  // B: 1 Hz for `seconds`.
  EngineOptions o;
  o.count = static_cast<std::uint32_t>(seconds);
  o.period = 1s;
  o.interval = std::chrono::nanoseconds(
      1'000'000'000LL / targets > 1'000'000 ? 1'000'000 : 1'000'000'000LL / targets);
  o.timeout = 1000ms;
  o.family = AF_INET;
  const double c0 = self_cpu_ms(), w0 = now_ms();
  auto e = PingEngine::create(PosixSocketApi::instance(), edgemon::SystemClock::instance(), o);
  if (!e) return 1;
  (void)(*e)->set_targets(hosts);
  (void)(*e)->run_round();
  const double our_b_wall = now_ms() - w0, our_b_cpu = self_cpu_ms() - c0;
  double worst = 0, sum = 0;
  for (int t = 0; t < targets; ++t) {
    const auto times = (*e)->send_times(static_cast<std::size_t>(t));
    const double period =
        std::chrono::duration<double>(times.back() - times.front()).count() / (seconds - 1);
    sum += period;
    worst = std::max(worst, std::abs(period - 1.0));
  }
  std::uint64_t rx = 0;
  for (const auto& t : (*e)->results()) rx += t.stats.received;
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  std::printf("B. %d targets at 1 Hz for %d s:\n", targets, seconds);
  std::printf(
      "   edgemon  period mean %.6f s (worst target off by %.3f ms)  cpu %.1f ms  wall %.1f s  "
      "replies %llu/%llu  peak RSS %ld KiB\n",
      sum / targets, worst * 1e3, our_b_cpu, our_b_wall / 1e3, static_cast<unsigned long long>(rx),
      static_cast<unsigned long long>(targets) * static_cast<unsigned long long>(seconds),
      self.ru_maxrss);
  if (have_fping) {
    std::vector<std::string> args{"fping", "-D", "-c",  std::to_string(seconds), "-p", "1000", "-i",
                                  "1",     "-t", "1000"};
    args.insert(args.end(), hosts.begin(), hosts.end());
    const Run f = run_process(args, tmp);
    // "[1700000000.123456] 127.0.0.1 : [0], 64 bytes, 0.05 ms (0.05 avg, 0% loss)": per host, the
    // reply times of its first and last probe give the period it was pinged at.
    std::map<std::string, std::pair<double, double>> span;
    std::map<std::string, int> seen;
    std::ifstream in(tmp);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() < 3 || line[0] != '[') continue;
      const double ts = std::atof(line.c_str() + 1);
      const std::size_t a = line.find("] ");
      const std::size_t b = line.find(" :", a);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string host = line.substr(a + 2, b - a - 2);
      auto& s = span[host];
      if (seen[host]++ == 0) s.first = ts;
      s.second = ts;
    }
    double fsum = 0;
    int fn = 0;
    for (const auto& [h, s] : span) {
      if (seen[h] < 2) continue;
      fsum += (s.second - s.first) / (seen[h] - 1);
      ++fn;
    }
    const double fperiod = fn ? fsum / fn : 0;
    std::printf(
        "   fping    period mean %.6f s  cpu %.1f ms  wall %.1f s  peak RSS %ld KiB   (fping -c %d "
        "-p 1000 -i 1)\n",
        fperiod, f.cpu_ms, f.wall_ms / 1e3, f.maxrss_kb, seconds);
    std::printf(
        "   ratio edgemon/fping: cpu %.2fx; period error edgemon %.3f ms vs fping %.3f ms\n",
        our_b_cpu / f.cpu_ms, std::abs(sum / targets - 1.0) * 1e3, std::abs(fperiod - 1.0) * 1e3);
  }
  std::remove(tmp.c_str());
  return 0;
}
