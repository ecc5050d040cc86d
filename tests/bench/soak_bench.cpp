// Soak, issue 14 item 5: the whole system under an hour of abuse, with real processes.
//
//   soak_bench [--seconds 3600] [--sim-nodes 100] [--broker-every 120] [--stop-every 600]
//              [--stop-seconds 30] [--sample-every 60]
//
// A private mosquitto, a real edgemon-gateway (SQLite), edgemon-sim with --sim-nodes nodes at
// 1 Hz and one real edgemon-agent at 1 Hz. Meanwhile: the broker restarts every --broker-every
// seconds (alternating SIGTERM and SIGKILL); the gateway is stopped (SIGSTOP) for --stop-seconds
// every --stop-every seconds; once, half-way, the gateway is killed (kill -9) and restarted.
// Every --sample-every seconds it prints the gateway's RSS, the SQLite share of it as far as the
// gateway reports it, its open file descriptors and the real agent's sample accounting.
//
// At the end it checks what the issue asks: the real agent's samples are all in history (the
// gateway's accounting says 0 missing and the stored agent/sample_seq numbers have no hole). Exit
// status 1 when not. Memory and descriptors are printed (first, at 10 min, max, last; the growth
// over the second half), not judged: timing and sizes never decide a pass here.
//
// ctest -L soak runs it (not part of the default CI run: `ctest --preset ci` excludes the label).
#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgemon/gateway/store/store.h"
#include "support/process.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using edgemon::test::ChildProcess;
using edgemon::test::TestFleet;

struct Options {
  int seconds = 3600;
  int sim_nodes = 100;
  int broker_every = 120;
  int stop_every = 600;
  int stop_seconds = 30;
  int sample_every = 60;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--seconds") o.seconds = v;
    else if (k == "--sim-nodes") o.sim_nodes = v;
    else if (k == "--broker-every") o.broker_every = v;
    else if (k == "--stop-every") o.stop_every = v;
    else if (k == "--stop-seconds") o.stop_seconds = v;
    else if (k == "--sample-every") o.sample_every = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

// VmRSS of `pid` in KiB (0 when unreadable).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

int open_fds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

json get_json(std::uint16_t port, const std::string& path) {
  int status = 0;
  const std::string body = edgemon::test::http_get(port, path, &status);
  if (status != 200) return json();
  return json::parse(body, nullptr, false);
}

std::uint64_t u64(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key].get<std::uint64_t>() : 0;
}

struct Point {
  double t_min = 0;
  long rss_kib = 0;
  int fds = 0;
  std::uint64_t received = 0;
  std::uint64_t missing = 0;
  std::uint64_t duplicates = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  TestFleet fleet;
  const std::string agent_id = "soak-agent";
  fleet.start_agent({.node_id = agent_id, .interval_s = 1.0, .ping_hosts = {"127.0.0.1"},
                     .config_toml = "[telemetry]\nprimary_host = \"edgemon-gateway\"\n"});
  const std::vector<std::string> sim_argv = {
      EDGEMON_SIM_BIN, "--broker", "127.0.0.1", "--port", std::to_string(fleet.broker().port()), "--nodes",
      std::to_string(o.sim_nodes), "--interval", "1", "--duration", std::to_string(o.seconds + 600),
      "--primary-host", "edgemon-gateway", "--reconnect-max", "2", "--group", "sim"};
  ChildProcess sim = ChildProcess::start(sim_argv, fleet.dir().file("sim.log"));

  const auto start = Clock::now();
  const auto elapsed_s = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  std::vector<Point> points;
  const auto sample = [&] {
    Point p;
    p.t_min = elapsed_s() / 60.0;
    p.rss_kib = rss_kib(fleet.gateway().pid());
    p.fds = open_fds(fleet.gateway().pid());
    const json s = get_json(fleet.http_port(), "/api/nodes/edgemon/" + agent_id + "/samples");
    p.received = u64(s, "received");
    p.missing = u64(s, "missing");
    p.duplicates = u64(s, "duplicates");
    points.push_back(p);
    std::printf("t=%6.1f min  gateway RSS %7.1f MiB  fds %3d  agent: received %llu missing %llu replays %llu\n", p.t_min,
                static_cast<double>(p.rss_kib) / 1024.0, p.fds, static_cast<unsigned long long>(p.received),
                static_cast<unsigned long long>(p.missing), static_cast<unsigned long long>(p.duplicates));
    std::fflush(stdout);
  };

  int broker_restarts = 0;
  int gateway_stops = 0;
  bool killed = false;
  double next_broker = o.broker_every;
  double next_stop = o.stop_every;
  double next_sample = 0;
  while (elapsed_s() < o.seconds) {
    const double t = elapsed_s();
    if (t >= next_sample) {
      sample();
      next_sample += o.sample_every;
    }
    if (t >= next_broker) {
      const bool kill = broker_restarts % 2 == 1;
      if (kill) fleet.broker().kill();
      else fleet.broker().stop();
      std::this_thread::sleep_for(2s);
      fleet.broker().restart();
      ++broker_restarts;
      std::printf("t=%6.1f min  broker restarted (%s)\n", t / 60.0, kill ? "SIGKILL" : "SIGTERM");
      next_broker += o.broker_every;
    }
    if (t >= next_stop) {
      ::kill(fleet.gateway().pid(), SIGSTOP);
      std::this_thread::sleep_for(std::chrono::seconds(o.stop_seconds));
      ::kill(fleet.gateway().pid(), SIGCONT);
      ++gateway_stops;
      std::printf("t=%6.1f min  gateway stopped %d s (SIGSTOP/SIGCONT)\n", t / 60.0, o.stop_seconds);
      next_stop += o.stop_every;
    }
    if (!killed && t >= o.seconds / 2.0 + 30) {
      fleet.gateway().kill_now();
      fleet.restart_gateway();
      killed = true;
      std::printf("t=%6.1f min  gateway killed (kill -9) and restarted\n", t / 60.0);
    }
    std::this_thread::sleep_for(200ms);
  }

  // Let everything drain: the agent's window and backlog, the gateway's writer.
  std::printf("draining...\n");
  const auto drain_until = Clock::now() + 120s;
  std::uint64_t high_before = u64(get_json(fleet.http_port(), "/api/nodes/edgemon/" + agent_id + "/samples"), "high");
  while (Clock::now() < drain_until) {
    std::this_thread::sleep_for(5s);
    const std::uint64_t h = u64(get_json(fleet.http_port(), "/api/nodes/edgemon/" + agent_id + "/samples"), "high");
    if (h > high_before + 10) break;
  }
  std::this_thread::sleep_for(10s);
  sample();
  const json final_samples = get_json(fleet.http_port(), "/api/nodes/edgemon/" + agent_id + "/samples");
  const json health = get_json(fleet.http_port(), "/api/health");

  fleet.agent(agent_id).stop(SIGTERM, 10s);
  sim.stop(SIGTERM, 10s);
  fleet.gateway().stop(SIGTERM, 10s);

  // History: every agent/sample_seq from the first to the last stored.
  edgemon::gateway::SqliteOptions ro;
  ro.read_only = true;
  std::uint64_t holes = 0, stored = 0;
  std::string hole_list;
  if (auto store = edgemon::gateway::open_sqlite_store(fleet.database(), ro)) {
    auto pts = (*store)->query("edgemon", agent_id, "agent/sample_seq", 0, std::numeric_limits<std::int64_t>::max(),
                               10'000'000);
    if (pts) {
      std::map<std::uint64_t, std::int64_t> seqs;  // number -> sample time
      for (const auto& p : *pts) {
        if (p.value) seqs.emplace(static_cast<std::uint64_t>(std::llround(*p.value)), p.ts_ms);
      }
      stored = seqs.size();
      if (!seqs.empty()) holes = seqs.rbegin()->first - seqs.begin()->first + 1 - seqs.size();
      // Each hole with the times of the samples around it (to find the moment in the logs).
      auto prev = seqs.begin();
      for (auto it = seqs.begin(); it != seqs.end(); ++it) {
        if (it != seqs.begin() && it->first > prev->first + 1) {
          hole_list += std::to_string(prev->first + 1) + "-" + std::to_string(it->first - 1) + " (between samples at " +
                       std::to_string(prev->second) + " and " + std::to_string(it->second) + " ms) ";
        }
        prev = it;
      }
    }
  }
  if (holes > 0) {
    // Keep the evidence: the database and every log.
    const std::string keep = "/tmp/soak-failure-" + std::to_string(::getpid());
    std::filesystem::create_directories(keep);
    std::filesystem::copy(fleet.dir().path(), keep, std::filesystem::copy_options::recursive);
    std::printf("history holes: %s\nkept %s\n", hole_list.c_str(), keep.c_str());
  }

  // Figures.
  const auto at = [&](double minute) {
    for (const Point& p : points) {
      if (p.t_min >= minute) return p;
    }
    return points.back();
  };
  long max_rss = 0;
  int max_fds = 0;
  for (const Point& p : points) {
    max_rss = std::max(max_rss, p.rss_kib);
    max_fds = std::max(max_fds, p.fds);
  }
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  const Point first = points.front(), ten = at(10), half = at(o.seconds / 120.0), last = points.back();
  std::printf("\nsoak %d s, %d simulated nodes + 1 agent at 1 Hz: %d broker restarts, %d gateway stops, %s\n", o.seconds,
              o.sim_nodes, broker_restarts, gateway_stops, killed ? "1 gateway kill -9" : "no kill");
  std::printf("gateway RSS (MiB): first %.1f, at 10 min %.1f, at half-time %.1f, max %.1f, last %.1f; "
              "growth over the second half %.1f%%\n",
              mib(first.rss_kib), mib(ten.rss_kib), mib(half.rss_kib), mib(max_rss), mib(last.rss_kib),
              half.rss_kib > 0 ? 100.0 * (mib(last.rss_kib) - mib(half.rss_kib)) / mib(half.rss_kib) : 0.0);
  std::printf("gateway fds: first %d, max %d, last %d\n", first.fds, max_fds, last.fds);
  std::printf("real agent: received %llu, missing %llu, replays dropped %llu, losses %llu; history: %llu numbers stored, "
              "%llu holes\n",
              static_cast<unsigned long long>(u64(final_samples, "received")),
              static_cast<unsigned long long>(u64(final_samples, "missing")),
              static_cast<unsigned long long>(u64(final_samples, "duplicates")),
              static_cast<unsigned long long>(u64(final_samples, "losses")), static_cast<unsigned long long>(stored),
              static_cast<unsigned long long>(holes));
  if (health.is_object()) std::printf("gateway health at the end: %s\n", health.dump().c_str());
  const bool ok = u64(final_samples, "missing") == 0 && holes == 0 && stored > 0;
  std::printf("%s\n", ok ? "PASS: nothing the real agent measured was lost" : "FAIL: samples of the real agent are missing");
  if (!ok) {
    const std::string logs = fleet.logs();
    std::printf("%s\n", logs.substr(logs.size() > 20000 ? logs.size() - 20000 : 0).c_str());
  }
  return ok ? 0 : 1;
}
