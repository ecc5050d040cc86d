// Gateway ingest against a bare subscriber, in the same run, through the same Mosquitto.
//
// For each offered rate, `edgemon-sim` runs N nodes (real Sparkplug B, QoS 1, report by
// exception) while two subscribers follow the same topics:
//   * bare:    mosquitto_sub (libmosquitto), QoS 1, printing one topic line per message;
//   * gateway: edgemon-gateway doing decode + fleet state + aggregation + rules + SQLite history.
// After the simulator stops, both are given time to drain. Printed per step: messages the
// simulator sent, what each subscriber got (loss), the sustained rate each kept up with, their
// CPU, and the gateway/bare ratio. Nothing is asserted: timing never decides a test.
//
// Throughput alone says little when the load generator is the limit (the simulator runs one Paho
// client per node and on a small machine tops out below what either subscriber can take), so each
// step also prints the simulator's own CPU and the CPU each subscriber spent per message received
// (us/msg): that is the comparable figure. `--bare-only 1` runs without the gateway to find the
// simulator's ceiling; `--gateway PATH` runs another gateway binary (A/B against an older build).
//
// Figures (docs/performance.md):
//   build/release/tests/bench/ingest_bench --nodes 1000 --rates 1,2,5,10 --seconds 20
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/mosquitto_broker.h"
#include "support/net.h"
#include "support/process.h"
#include "support/ws_client.h"

namespace {

using namespace std::chrono_literals;
using edgemon::test::ChildProcess;

struct Args {
  int nodes = 1000;
  std::vector<double> rates{1, 2, 5, 10};  // samples per node per second
  double seconds = 20;
  bool bare_only = false;                  // no gateway: the simulator's own ceiling
  std::string gateway = EDGEMON_GATEWAY_BIN;
};

// CPU seconds of the children this process has reaped (the simulator, once it has exited).
double reaped_children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// utime + stime of a process in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::uint64_t count_lines(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

struct GatewayCounts {
  std::uint64_t messages = 0;  // taken off the wire: accepted, duplicates and rejected
  std::uint64_t rows = 0;      // history rows committed to SQLite
};

GatewayCounts gateway_counts(std::uint16_t http_port) {
  if (http_port == 0) return {};
  int status = 0;
  const std::string body = edgemon::test::http_get(http_port, "/api/health", &status);
  if (status != 200) return {};
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return {};
  GatewayCounts c;
  c.messages = j.value("messages_accepted", std::uint64_t{0}) + j.value("duplicates", std::uint64_t{0}) +
               j.value("messages_rejected", std::uint64_t{0});
  if (j.contains("storage") && j["storage"].is_object()) c.rows = j["storage"].value("committed_rows", std::uint64_t{0});
  return c;
}

// "edgemon-sim: 1000 nodes, 20.0 s: 21000 messages (...)" -> 21000
std::uint64_t sim_messages(const std::string& log) {
  const auto at = log.rfind("edgemon-sim: ");
  if (at == std::string::npos) return 0;
  const auto colon = log.find(": ", log.find(" s", at));
  if (colon == std::string::npos) return 0;
  return std::stoull(log.substr(colon + 2));
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--nodes") {
      a.nodes = std::stoi(v);
    } else if (k == "--seconds") {
      a.seconds = std::stod(v);
    } else if (k == "--bare-only") {
      a.bare_only = v == "1" || v == "true";
    } else if (k == "--gateway") {
      a.gateway = v;
    } else if (k == "--rates") {
      a.rates.clear();
      std::istringstream in(v);
      for (std::string r; std::getline(in, r, ',');) a.rates.push_back(std::stod(r));
    } else {
      throw std::runtime_error("unknown option " + k + " (--nodes N --rates 1,2,5 --seconds S --bare-only 0|1 --gateway PATH)");
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  edgemon::test::TempDir dir("edgemon-ingest-bench");
  // Both subscribers get the same generous per-client queue: the default (1000) would make the
  // broker drop QoS 1 messages for whichever subscriber pauses first.
  edgemon::test::MosquittoBroker broker(dir.path(), "max_queued_messages 1000000\nmax_connections -1\n");
  const std::string port = std::to_string(broker.port());

  edgemon::test::write_file(dir.file("gateway.toml"), R"(
[[rules]]
name = "high_cpu"
metric = "cpu/total"
threshold = 85
recovery = 75
samples = 3
[[rules]]
name = "slow_service"
metric = "service/latency_ms"
threshold = 250
type = "DEGRADED"
[[rules]]
name = "errors"
kind = "error_rate"
metric = "service/heartbeat"
threshold = 20
window = 10
[[rules]]
name = "silent"
kind = "absence"
for = "30s"
)");
  const std::uint16_t http_port = args.bare_only ? 0 : edgemon::test::free_tcp_port();
  ChildProcess gateway;
  if (!args.bare_only) {
    gateway = ChildProcess::start(
        {args.gateway, "--broker", "127.0.0.1", "--port", port, "--http-port", std::to_string(http_port),
         "--state-dir", dir.file("state"), "--web-root", dir.path(), "--config", dir.file("gateway.toml"),
         "--log-level", "warn"},
        dir.file("gateway.log"));
    if (!edgemon::test::wait_for_tcp(http_port, 10s)) throw std::runtime_error("gateway did not start:\n" + gateway.log());
  }
  const std::string bare_out = dir.file("bare.txt");
  ChildProcess bare = ChildProcess::start({"sh", "-c",
                                           "exec mosquitto_sub -h 127.0.0.1 -p " + port +
                                               " -q 1 -i bench-bare -t 'spBv1.0/+/NBIRTH/+' -t 'spBv1.0/+/NDATA/+'"
                                               " -t 'spBv1.0/+/NDEATH/+' -F '%t' > " + bare_out},
                                          dir.file("bare.log"));
  std::this_thread::sleep_for(500ms);  // both subscriptions in place before the first birth

  std::printf("ingest: %d simulated nodes, %.0f s per step, QoS 1, one mosquitto, %s\n", args.nodes, args.seconds,
              args.bare_only ? "bare subscriber only" : "gateway with 4 rules + SQLite");
  std::printf("%8s %9s %9s %8s %9s %9s %9s %8s %8s %8s %8s %8s %7s %7s %7s\n", "rate/node", "offered/s", "sent",
              "sent/s", "bare", "gateway", "gw_rate/s", "sim_cpu", "bare_cpu", "gw_cpu", "drain_s", "rows/msg",
              "bare_us", "gw_us", "ratio");
  for (double rate : args.rates) {
    const std::uint64_t bare0 = count_lines(bare_out);
    const GatewayCounts gw0 = gateway_counts(http_port);
    const double bare_cpu0 = cpu_seconds(bare.pid());
    const double gw_cpu0 = args.bare_only ? 0 : cpu_seconds(gateway.pid());
    const double sim_cpu0 = reaped_children_cpu_seconds();
    std::ostringstream interval;
    interval << 1.0 / rate;
    std::vector<std::string> sim_argv{EDGEMON_SIM_BIN, "--broker",   "127.0.0.1",          "--port",
                                      port,            "--nodes",    std::to_string(args.nodes), "--interval",
                                      interval.str(),  "--duration", std::to_string(args.seconds), "--connect-rate",
                                      "200"};
    // With the gateway, nodes wait for its STATE (Sparkplug primary host) before they send.
    if (!args.bare_only) sim_argv.insert(sim_argv.end(), {"--primary-host", "edgemon-gateway"});
    ChildProcess sim = ChildProcess::start(sim_argv, dir.file("sim.log"));
    const auto started = std::chrono::steady_clock::now();
    if (!sim.wait(std::chrono::milliseconds(static_cast<std::int64_t>(args.seconds * 1000)) + 120s)) {
      sim.kill_now();
      throw std::runtime_error("edgemon-sim did not finish:\n" + sim.log());
    }
    const double sim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double sim_cpu = reaped_children_cpu_seconds() - sim_cpu0;
    const std::uint64_t sent = sim_messages(sim.log());
    // Drain: until both counts stop moving for a second (at most 60 s).
    const auto stopped = std::chrono::steady_clock::now();
    std::uint64_t bare_n = 0;
    std::uint64_t gw_n = 0;
    auto settled = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - stopped < 60s) {
      const std::uint64_t b = count_lines(bare_out) - bare0;
      const std::uint64_t g = gateway_counts(http_port).messages - gw0.messages;
      if (b != bare_n || g != gw_n) {
        bare_n = b;
        gw_n = g;
        settled = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - settled > 1s) {
        break;
      }
      if (bare_n >= sent && (args.bare_only || gw_n >= sent)) break;
      std::this_thread::sleep_for(100ms);
    }
    const double drain_s = std::chrono::duration<double>(settled - stopped).count();
    const double bare_cpu = cpu_seconds(bare.pid()) - bare_cpu0;
    const double gw_cpu = args.bare_only ? 0 : cpu_seconds(gateway.pid()) - gw_cpu0;
    std::this_thread::sleep_for(500ms);  // the last batch (max_delay 200 ms) committed
    const std::uint64_t rows = gateway_counts(http_port).rows - gw0.rows;
    const double gw_rate = static_cast<double>(gw_n) / (sim_s + std::max(0.0, drain_s));
    const auto per_msg_us = [](double cpu, std::uint64_t n) { return n == 0 ? 0.0 : 1e6 * cpu / static_cast<double>(n); };
    std::printf("%8.1f %9.0f %9llu %8.0f %9llu %9llu %9.0f %7.1f%% %7.1f%% %7.1f%% %8.2f %8.2f %7.1f %7.1f %7.3f\n", rate,
                rate * args.nodes, static_cast<unsigned long long>(sent), static_cast<double>(sent) / sim_s,
                static_cast<unsigned long long>(bare_n), static_cast<unsigned long long>(gw_n), gw_rate,
                100.0 * sim_cpu / sim_s, 100.0 * bare_cpu / sim_s, 100.0 * gw_cpu / sim_s, drain_s,
                gw_n == 0 ? 0.0 : static_cast<double>(rows) / static_cast<double>(gw_n), per_msg_us(bare_cpu, bare_n),
                per_msg_us(gw_cpu, gw_n),
                bare_n == 0 ? 0.0 : static_cast<double>(gw_n) / static_cast<double>(bare_n));
    std::printf("          loss: bare %lld, gateway %lld of %llu sent\n",
                static_cast<long long>(sent) - static_cast<long long>(bare_n),
                args.bare_only ? 0LL : static_cast<long long>(sent) - static_cast<long long>(gw_n),
                static_cast<unsigned long long>(sent));
    std::fflush(stdout);
  }
  bare.stop(SIGTERM, 2s);
  if (!args.bare_only) gateway.stop(SIGTERM, 5s);
  broker.stop();
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ingest_bench: %s\n", e.what());
  return 1;
}
