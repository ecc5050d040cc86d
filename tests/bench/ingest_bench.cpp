// Gateway ingest against a bare subscriber, in the same run, through the same Mosquitto.
//
// For each offered rate a publisher sends real Sparkplug B (QoS 1) while two subscribers follow
// the same topics:
//   * bare:    mosquitto_sub (libmosquitto), QoS 1, printing one topic line per message;
//   * gateway: edgemon-gateway doing decode + fleet state + aggregation + rules + SQLite history.
// Nothing is asserted: timing never decides a test.
//
// Two publishers (--publisher):
//   sim     `edgemon-sim` runs --nodes nodes, one Paho client each, report by exception; --rates
//           are samples per node per second. On a small machine it tops out below what either
//           subscriber can take (docs/performance.md), so each step prints the simulator's own
//           CPU and the CPU each subscriber spent per message received (us/msg): the comparable
//           figure. `--bare-only 1` runs without the gateway to find the simulator's ceiling.
//   replay  `sparkplug_replay` (sparkplug_replay.cpp): a real edgemon-agent's NBIRTH/NDATA (10
//           loopback ping targets + board sensors, captured once at the start, or --capture FILE)
//           replayed as --nodes nodes over ONE MQTT connection; --rates are messages per second in
//           aggregate (default 2000,5000,10000,20000,40000). Per step, printed as two tables:
//             - sent/s and acknowledged (PUBACK) by the broker, what each subscriber got, loss;
//             - "rx": the share of the step's messages each subscriber had received when the
//               publisher finished (< 0.95: it did not keep up), and its backlog --lag-seconds
//               later (messages still not received); a subscriber "keeps up" at a rate when both
//               hold. The gateway's count is /api/health's messages taken off the wire (accepted +
//               duplicates + rejected); its history writer queues what it has accepted, so "store q"
//               (the writer's pending rows --lag-seconds after the stop) says whether the history
//               kept up too (at most 1,000 rows left). The summary gives the highest rate each kept
//               up with and the first at which it lagged (a ramp: ascending rates make sense);
//             - CPU per message of each (utime+stime from /proc/<pid>/stat from the publisher's
//               start until that subscriber had everything -- for the gateway: and its writer had
//               caught up --, divided by the messages it received) and the ratio gateway/bare; the
//               broker's and the publisher's CPU per message; the gateway's RSS (VmRSS sampled
//               every 100 ms during the step and its drain: maximum and at the end).
//           After each step both subscribers drain (until they are done, stop moving for 2 s, or
//           --drain-seconds); if one is not done, the remaining rates are skipped (their figures
//           would include this step's backlog).
// `--pin CPU` runs the gateway and the bare subscriber on that CPU only (taskset -c) and the
// broker, the publisher and this bench on the others, so "the rate at which it starts to lag"
// is a one-core figure (both subscribers share that core). `--gateway PATH` runs another gateway
// binary (A/B against an older build). The gateway's counters come from /api/health with an admin
// token (as ws_bench does).
//
// Figures (docs/performance.md):
//   build/release/tests/bench/ingest_bench --nodes 1000 --rates 1,2,5,10 --seconds 20
//   build/release/tests/bench/ingest_bench --publisher replay --rates 2000,5000,10000,20000,40000 --seconds 10 --pin 1
#include <sched.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "proc_stats.h"
#include "support/mosquitto_broker.h"
#include "support/net.h"
#include "support/process.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace {

using namespace std::chrono_literals;
using edgemon::bench::cpu_seconds;
using edgemon::test::ChildProcess;
using Steady = std::chrono::steady_clock;

struct Args {
  std::string publisher = "sim";
  int nodes = 1000;
  std::vector<double> rates;  // sim: samples per node per second; replay: msg/s in aggregate
  double seconds = 20;
  bool bare_only = false;     // no gateway: the publisher's own ceiling
  std::string gateway = EDGEMON_GATEWAY_BIN;
  int pin = -1;               // CPU for the gateway and the bare subscriber
  double lag_seconds = 2;     // replay: backlog measured this long after the publisher stopped
  double drain_seconds = 60;
  std::string capture;        // replay: a capture file; empty: capture now
  double capture_seconds = 5;
  double capture_interval = 0.2;
};

// CPU seconds of the children this process has reaped (the simulator, once it has exited).
double reaped_children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

// Lines of a file that only grows, counted incrementally (the bare subscriber's output).
class LineCounter {
 public:
  explicit LineCounter(std::string path) : path_(std::move(path)) {}
  std::uint64_t count() {
    std::FILE* f = std::fopen(path_.c_str(), "rb");
    if (f == nullptr) return lines_;
    if (std::fseek(f, static_cast<long>(offset_), SEEK_SET) == 0) {
      char buf[1 << 16];
      for (int i = 0; i < 100000; ++i) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, f);
        if (n == 0) break;
        offset_ += n;
        for (std::size_t k = 0; k < n; ++k) lines_ += buf[k] == '\n' ? 1U : 0U;
      }
    }
    std::fclose(f);
    return lines_;
  }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::uint64_t lines_ = 0;
};

struct GatewayCounts {
  std::uint64_t messages = 0;  // taken off the wire: accepted, duplicates and rejected
  std::uint64_t rows = 0;      // history rows committed to SQLite
  std::uint64_t dropped_rows = 0;
  std::uint64_t pending_rows = 0;  // queued for the history writer, not yet committed
  std::uint64_t gaps = 0;
};

std::optional<GatewayCounts> gateway_counts(std::uint16_t http_port) {
  if (http_port == 0) return GatewayCounts{};
  int status = 0;
  const std::string body = edgemon::test::http_get(http_port, "/api/health", &status);
  if (status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  GatewayCounts c;
  c.messages = j.value("messages_accepted", std::uint64_t{0}) + j.value("duplicates", std::uint64_t{0}) +
               j.value("messages_rejected", std::uint64_t{0});
  c.gaps = j.value("sequence_gaps", std::uint64_t{0});
  if (j.contains("storage") && j["storage"].is_object()) {
    c.rows = j["storage"].value("committed_rows", std::uint64_t{0});
    c.dropped_rows = j["storage"].value("dropped_rows", std::uint64_t{0});
    c.pending_rows = j["storage"].value("pending_rows", std::uint64_t{0});
  }
  return c;
}

// The last answer /api/health gave (a busy gateway may not answer in time: keep the previous one).
struct HealthPoller {
  std::uint16_t port = 0;
  GatewayCounts last;
  int failures = 0;
  GatewayCounts read() {
    if (auto c = gateway_counts(port)) {
      last = *c;
    } else {
      ++failures;
    }
    return last;
  }
};

// "edgemon-sim: 1000 nodes, 20.0 s: 21000 messages (...)" -> 21000
std::uint64_t sim_messages(const std::string& log) {
  const auto at = log.rfind("edgemon-sim: ");
  if (at == std::string::npos) return 0;
  const auto colon = log.find(": ", log.find(" s", at));
  if (colon == std::string::npos) return 0;
  return std::stoull(log.substr(colon + 2));
}

// The key=value summary line of sparkplug_replay.
std::map<std::string, double> replay_summary(const std::string& log) {
  std::map<std::string, double> out;
  const auto at = log.rfind("sparkplug_replay: nodes=");
  if (at == std::string::npos) return out;
  std::istringstream in(log.substr(at + std::strlen("sparkplug_replay: "), log.find('\n', at) - at));
  for (std::string kv; in >> kv;) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stod(kv.substr(eq + 1));
  }
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--nodes") {
      a.nodes = std::clamp(std::stoi(v), 1, 100000);
    } else if (k == "--seconds") {
      a.seconds = std::clamp(std::stod(v), 0.5, 3600.0);
    } else if (k == "--bare-only") {
      a.bare_only = v == "1" || v == "true";
    } else if (k == "--gateway") {
      a.gateway = v;
    } else if (k == "--publisher") {
      if (v != "sim" && v != "replay") throw std::runtime_error("--publisher sim|replay");
      a.publisher = v;
    } else if (k == "--pin") {
      a.pin = std::stoi(v);
      if (a.pin < 0 || a.pin >= CPU_SETSIZE) throw std::runtime_error("--pin: a CPU number");
    } else if (k == "--lag-seconds") {
      a.lag_seconds = std::clamp(std::stod(v), 0.1, 120.0);
    } else if (k == "--drain-seconds") {
      a.drain_seconds = std::clamp(std::stod(v), 1.0, 600.0);
    } else if (k == "--capture") {
      a.capture = v;
    } else if (k == "--capture-seconds") {
      a.capture_seconds = std::clamp(std::stod(v), 0.5, 120.0);
    } else if (k == "--capture-interval") {
      a.capture_interval = std::clamp(std::stod(v), 0.05, 10.0);
    } else if (k == "--rates") {
      a.rates.clear();
      std::istringstream in(v);
      for (std::string r; std::getline(in, r, ',') && a.rates.size() < 100;) a.rates.push_back(std::stod(r));
    } else {
      throw std::runtime_error("unknown option " + k +
                               " (--publisher sim|replay --nodes N --rates 1,2,5 --seconds S --bare-only 0|1 --gateway PATH"
                               " --pin CPU --lag-seconds S --drain-seconds S --capture FILE --capture-seconds S"
                               " --capture-interval S)");
    }
  }
  if (a.rates.empty()) {
    a.rates = a.publisher == "sim" ? std::vector<double>{1, 2, 5, 10} : std::vector<double>{2000, 5000, 10000, 20000, 40000};
  }
  return a;
}

// The setup both publishers share: broker, gateway (unless bare-only), bare subscriber.
struct Rig {
  const Args& args;
  edgemon::test::TempDir dir{"edgemon-ingest-bench"};
  std::unique_ptr<edgemon::test::MosquittoBroker> broker;
  std::string port;
  std::uint16_t http_port = 0;
  ChildProcess gateway;
  ChildProcess bare;
  std::string bare_out;

  explicit Rig(const Args& a) : args(a) {
    // Both subscribers get the same generous per-client queue: the default (1000) would make the
    // broker drop QoS 1 messages for whichever subscriber pauses first.
    broker = std::make_unique<edgemon::test::MosquittoBroker>(dir.path(), "max_queued_messages 1000000\nmax_connections -1\n");
    port = std::to_string(broker->port());
    edgemon::test::write_file(dir.file("gateway.toml"), std::string(R"(
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
[auth]
admin_user = ")") + edgemon::test::TestFleet::kAdminUser + "\"\nadmin_password = \"" +
                                                              edgemon::test::TestFleet::kAdminPassword + "\"\n");
    const std::vector<std::string> pin =
        args.pin >= 0 ? std::vector<std::string>{"taskset", "-c", std::to_string(args.pin)} : std::vector<std::string>{};
    if (!args.bare_only) {
      http_port = edgemon::test::free_tcp_port();
      std::vector<std::string> argv = pin;
      for (const std::string& s :
           {args.gateway, std::string("--broker"), std::string("127.0.0.1"), std::string("--port"), port,
            std::string("--http-port"), std::to_string(http_port), std::string("--state-dir"), dir.file("state"),
            std::string("--web-root"), dir.path(), std::string("--config"), dir.file("gateway.toml"),
            std::string("--log-level"), std::string("warn")}) {
        argv.push_back(s);
      }
      gateway = ChildProcess::start(argv, dir.file("gateway.log"));
      if (!edgemon::test::wait_for_tcp(http_port, 10s)) throw std::runtime_error("gateway did not start:\n" + gateway.log());
      edgemon::test::set_default_authorization("Bearer " + edgemon::test::create_admin_token(http_port, "ingest-bench"));
    }
    bare_out = dir.file("bare.txt");
    std::string taskset;
    for (const std::string& s : pin) taskset += s + " ";
    bare = ChildProcess::start({"sh", "-c",
                                "exec " + taskset + "mosquitto_sub -h 127.0.0.1 -p " + port +
                                    " -q 1 -i bench-bare -t 'spBv1.0/+/NBIRTH/+' -t 'spBv1.0/+/NDATA/+'"
                                    " -t 'spBv1.0/+/NDEATH/+' -F '%t' > " + bare_out},
                               dir.file("bare.log"));
    std::this_thread::sleep_for(500ms);  // both subscriptions in place before the first birth
  }
  ~Rig() {
    bare.stop(SIGTERM, 2s);
    if (!args.bare_only) gateway.stop(SIGTERM, 5s);
    broker->stop();
  }
};

// ---- edgemon-sim ----------------------------------------------------------------------------------

void run_sim(const Args& args, Rig& rig) {
  LineCounter bare_lines(rig.bare_out);
  HealthPoller health{rig.http_port, {}, 0};
  std::printf("ingest: %d simulated nodes, %.0f s per step, QoS 1, one mosquitto, %s\n", args.nodes, args.seconds,
              args.bare_only ? "bare subscriber only" : "gateway with 4 rules + SQLite");
  std::printf("%8s %9s %9s %8s %9s %9s %9s %8s %8s %8s %8s %8s %7s %7s %7s\n", "rate/node", "offered/s", "sent",
              "sent/s", "bare", "gateway", "gw_rate/s", "sim_cpu", "bare_cpu", "gw_cpu", "drain_s", "rows/msg",
              "bare_us", "gw_us", "ratio");
  for (double rate : args.rates) {
    const std::uint64_t bare0 = bare_lines.count();
    const GatewayCounts gw0 = health.read();
    const double bare_cpu0 = cpu_seconds(rig.bare.pid());
    const double gw_cpu0 = args.bare_only ? 0 : cpu_seconds(rig.gateway.pid());
    const double sim_cpu0 = reaped_children_cpu_seconds();
    std::ostringstream interval;
    interval << 1.0 / rate;
    std::vector<std::string> sim_argv{EDGEMON_SIM_BIN, "--broker",   "127.0.0.1",          "--port",
                                      rig.port,        "--nodes",    std::to_string(args.nodes), "--interval",
                                      interval.str(),  "--duration", std::to_string(args.seconds), "--connect-rate",
                                      "200"};
    // With the gateway, nodes wait for its STATE (Sparkplug primary host) before they send.
    if (!args.bare_only) sim_argv.insert(sim_argv.end(), {"--primary-host", "edgemon-gateway"});
    ChildProcess sim = ChildProcess::start(sim_argv, rig.dir.file("sim.log"));
    const auto started = Steady::now();
    if (!sim.wait(std::chrono::milliseconds(static_cast<std::int64_t>(args.seconds * 1000)) + 120s)) {
      sim.kill_now();
      throw std::runtime_error("edgemon-sim did not finish:\n" + sim.log());
    }
    const double sim_s = seconds_since(started);
    const double sim_cpu = reaped_children_cpu_seconds() - sim_cpu0;
    const std::uint64_t sent = sim_messages(sim.log());
    // Drain: until both counts stop moving for a second (at most --drain-seconds).
    const auto stopped = Steady::now();
    std::uint64_t bare_n = 0;
    std::uint64_t gw_n = 0;
    auto settled = Steady::now();
    while (seconds_since(stopped) < args.drain_seconds) {
      const std::uint64_t b = bare_lines.count() - bare0;
      const std::uint64_t g = health.read().messages - gw0.messages;
      if (b != bare_n || g != gw_n) {
        bare_n = b;
        gw_n = g;
        settled = Steady::now();
      } else if (seconds_since(settled) > 1) {
        break;
      }
      if (bare_n >= sent && (args.bare_only || gw_n >= sent)) break;
      std::this_thread::sleep_for(100ms);
    }
    const double drain_s = std::chrono::duration<double>(settled - stopped).count();
    const double bare_cpu = cpu_seconds(rig.bare.pid()) - bare_cpu0;
    const double gw_cpu = args.bare_only ? 0 : cpu_seconds(rig.gateway.pid()) - gw_cpu0;
    std::this_thread::sleep_for(500ms);  // the last batch (max_delay 200 ms) committed
    const std::uint64_t rows = health.read().rows - gw0.rows;
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
  if (health.failures > 0) std::printf("(/api/health did not answer %d times; the previous answer was used)\n", health.failures);
}

// ---- sparkplug_replay -----------------------------------------------------------------------------

struct Side {  // one subscriber's figures in one step
  std::uint64_t got = 0;          // at the end of the drain
  std::uint64_t at_stop = 0;      // when the publisher finished
  std::uint64_t at_lag = 0;       // --lag-seconds later
  double drain_s = 0;             // after the publisher finished, until its count last moved
  bool done = false;              // got everything acknowledged (gateway: and its writer caught up)
  double done_s = 0;              // publisher start -> done (or the end of the drain)
  double cpu = 0;                 // CPU seconds from the publisher's start until done
  std::uint64_t rss_max_kib = 0;
  std::uint64_t rss_end_kib = 0;
};

struct Step {
  double target = 0;
  std::map<std::string, double> pub;  // the publisher's summary
  std::uint64_t acked = 0;
  double pub_s = 0;  // publisher start -> exit
  Side bare;
  Side gw;
  double broker_cpu = 0;  // from the publisher's start until both are done
  std::uint64_t rows = 0;
  std::uint64_t pending_at_stop = 0;  // the gateway's history writer: rows queued, not yet committed
  std::uint64_t pending_at_lag = 0;
  std::uint64_t dropped_rows = 0;
  std::uint64_t gaps = 0;
};

// The gateway's writer has caught up when at most this many rows wait (the absence rule and
// uptime bookkeeping add a few rows of their own).
constexpr std::uint64_t kCaughtUpRows = 1000;

double ratio(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }
double us_per(double cpu, std::uint64_t n) { return n == 0 ? 0.0 : 1e6 * cpu / static_cast<double>(n); }
std::int64_t backlog(const Step& s, const Side& d) {
  return static_cast<std::int64_t>(s.acked) - static_cast<std::int64_t>(d.at_lag);
}
bool keeps_up(const Step& s, const Side& d) { return ratio(d.at_stop, s.acked) >= 0.95 && backlog(s, d) <= 0; }
// The writer sheds the oldest raw rows beyond its bound (counted): a step that dropped any did not
// keep up, however empty its queue is afterwards.
bool store_keeps_up(const Step& s) { return s.pending_at_lag <= kCaughtUpRows && s.dropped_rows == 0; }

void run_replay(const Args& args, Rig& rig, const std::string& capture) {
  LineCounter bare_lines(rig.bare_out);
  HealthPoller health{rig.http_port, {}, 0};
  const pid_t gw_pid = args.bare_only ? -1 : rig.gateway.pid();
  std::printf("ingest (replay): a real agent's Sparkplug B replayed as %d nodes over one MQTT connection, QoS 1, %.0f s per "
              "step, one mosquitto; %s%s\n",
              args.nodes, args.seconds, args.bare_only ? "bare subscriber only" : "bare subscriber + gateway with 4 rules + SQLite",
              args.pin >= 0 ? (", gateway and bare subscriber pinned to CPU " + std::to_string(args.pin) +
                               " (broker, publisher and bench on the others)").c_str()
                            : "");
  std::fflush(stdout);
  std::vector<Step> steps;
  bool stopped_early = false;
  for (std::size_t i = 0; i < args.rates.size(); ++i) {
    Step s;
    s.target = args.rates[i];
    const std::uint64_t b0 = bare_lines.count();
    const GatewayCounts g0 = health.read();
    const double bare_cpu0 = cpu_seconds(rig.bare.pid());
    const double gw_cpu0 = args.bare_only ? 0 : cpu_seconds(gw_pid);
    const double broker_cpu0 = cpu_seconds(rig.broker->process().pid());
    const auto sample_rss = [&] {
      s.gw.rss_end_kib = gw_pid > 0 ? edgemon::bench::status_kib(gw_pid) : 0;
      s.gw.rss_max_kib = std::max(s.gw.rss_max_kib, s.gw.rss_end_kib);
      s.bare.rss_end_kib = edgemon::bench::status_kib(rig.bare.pid());
      s.bare.rss_max_kib = std::max(s.bare.rss_max_kib, s.bare.rss_end_kib);
    };

    std::ostringstream rate;
    rate << s.target;
    const auto started = Steady::now();
    ChildProcess pub = ChildProcess::start(
        {EDGEMON_REPLAY_BIN, "replay", "--port", rig.port, "--capture", capture, "--nodes", std::to_string(args.nodes),
         "--rate", rate.str(), "--seconds", std::to_string(args.seconds), "--bd-seq", std::to_string(i % 256), "--prefix",
         "sim-"},
        rig.dir.file("replay-" + std::to_string(i) + ".log"));
    const auto limit = started + std::chrono::milliseconds(static_cast<std::int64_t>(args.seconds * 1000)) + 240s;
    while (pub.running() && Steady::now() < limit) {
      sample_rss();
      std::this_thread::sleep_for(100ms);
    }
    if (pub.running()) {
      pub.stop(SIGTERM, 10s);
      pub.kill_now();
      throw std::runtime_error("sparkplug_replay did not finish:\n" + pub.log());
    }
    const auto stop = Steady::now();
    s.pub_s = std::chrono::duration<double>(stop - started).count();
    s.pub = replay_summary(pub.log());
    if (s.pub.empty()) throw std::runtime_error("sparkplug_replay failed:\n" + pub.log());
    s.acked = static_cast<std::uint64_t>(s.pub["acked"]);

    // From here both sides are followed: the counts when the publisher stopped, --lag-seconds
    // later, and the drain until both are done, or neither moved for 2 s, or --drain-seconds.
    // CPU is read before the counts of the same poll (a busy gateway answers /api/health late).
    std::uint64_t b = 0;
    std::uint64_t g = 0;
    std::uint64_t pending = 0;
    auto b_moved = stop;
    auto g_moved = stop;
    const auto follow = [&] {
      sample_rss();
      const auto t = Steady::now();
      const double since = std::chrono::duration<double>(t - started).count();
      const double cb = cpu_seconds(rig.bare.pid());
      const double cg = args.bare_only ? 0 : cpu_seconds(gw_pid);
      if (const std::uint64_t nb = bare_lines.count() - b0; nb != b) {
        b = nb;
        b_moved = t;
      }
      if (!args.bare_only) {
        const GatewayCounts c = health.read();
        pending = c.pending_rows;
        if (const std::uint64_t ng = c.messages - g0.messages; ng != g) {
          g = ng;
          g_moved = t;
        }
      }
      if (!s.bare.done && b >= s.acked) {
        s.bare.done = true;
        s.bare.done_s = since;
        s.bare.cpu = cb - bare_cpu0;
      }
      if (!s.gw.done && (args.bare_only || (g >= s.acked && pending <= kCaughtUpRows))) {
        s.gw.done = true;
        s.gw.done_s = since;
        s.gw.cpu = cg - gw_cpu0;
      }
    };
    follow();
    s.bare.at_stop = b;
    s.gw.at_stop = g;
    s.pending_at_stop = pending;
    while (seconds_since(stop) < args.lag_seconds) {
      std::this_thread::sleep_for(100ms);
      follow();
    }
    s.bare.at_lag = b;
    s.gw.at_lag = g;
    s.pending_at_lag = pending;
    while (!(s.bare.done && s.gw.done) && seconds_since(stop) < args.drain_seconds &&
           (seconds_since(b_moved) < 2 || seconds_since(g_moved) < 2 || pending > kCaughtUpRows)) {
      std::this_thread::sleep_for(200ms);
      follow();
    }
    const double end_s = seconds_since(started);
    for (Side* d : {&s.bare, &s.gw}) {
      if (!d->done) {
        d->done_s = end_s;
        d->cpu = (d == &s.bare ? cpu_seconds(rig.bare.pid()) - bare_cpu0 : args.bare_only ? 0 : cpu_seconds(gw_pid) - gw_cpu0);
      }
    }
    s.bare.got = b;
    s.gw.got = g;
    s.bare.drain_s = std::max(0.0, std::chrono::duration<double>(b_moved - stop).count());
    s.gw.drain_s = std::max(0.0, std::chrono::duration<double>(g_moved - stop).count());
    s.broker_cpu = cpu_seconds(rig.broker->process().pid()) - broker_cpu0;
    sample_rss();
    const GatewayCounts g1 = health.read();
    s.rows = g1.rows - g0.rows;
    s.dropped_rows = g1.dropped_rows - g0.dropped_rows;
    s.gaps = g1.gaps - g0.gaps;
    std::printf("  step %zu: target %.0f msg/s: sent %.0f (%.0f births + %.0f NDATA at %.0f msg/s), acked %llu; "
                "received: bare %llu, gateway %llu (history writer: %llu rows queued at the stop, %llu %.0f s later)\n",
                i + 1, s.target, s.pub["sent"], s.pub["births"], s.pub["data"], s.pub["data_rate"],
                static_cast<unsigned long long>(s.acked), static_cast<unsigned long long>(s.bare.got),
                static_cast<unsigned long long>(s.gw.got), static_cast<unsigned long long>(s.pending_at_stop),
                static_cast<unsigned long long>(s.pending_at_lag), args.lag_seconds);
    std::fflush(stdout);
    steps.push_back(s);
    if (!args.bare_only && !rig.gateway.running()) {
      const std::string log = rig.gateway.log();
      throw std::runtime_error("the gateway exited during step " + std::to_string(i + 1) + "; the end of its log:\n" +
                               log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
    }
    if (!s.bare.done || !s.gw.done) {
      stopped_early = i + 1 < args.rates.size();
      std::printf("  (%s had not caught up %.0f s after the publisher stopped%s)\n",
                  !s.bare.done ? "the bare subscriber" : "the gateway", seconds_since(stop),
                  stopped_early ? ": the remaining rates are skipped, their figures would carry this backlog" : "");
      break;
    }
  }

  std::printf("\nThroughput and lag (rx/sent: share received when the publisher finished; backlog: not yet received "
              "%.1f s later; keeps up = rx/sent >= 0.95 and backlog 0; gateway messages = /api/health messages taken off the "
              "wire; store: its history writer's queued rows %.1f s after the stop, caught up = at most %llu and none dropped "
              "(DROP: the writer shed rows beyond its bound))\n",
              args.lag_seconds, args.lag_seconds, static_cast<unsigned long long>(kCaughtUpRows));
  std::printf("%9s %9s %9s | %9s %9s %7s %7s | %6s %6s | %9s %9s | %7s %7s | %9s %6s | %4s %4s %5s\n", "target/s",
              "sent/s", "acked", "bare got", "gw got", "loss b", "loss g", "rx b", "rx g", "backlog b", "backlog g",
              "drain b", "drain g", "store q", "done g", "b ok", "g ok", "store");
  for (const Step& s : steps) {
    std::printf("%9.0f %9.0f %9llu | %9llu %9llu %7lld %7lld | %6.3f %6.3f | %9lld %9lld | %6.2fs %6.2fs | %9llu %5.1fs | "
                "%4s %4s %5s\n",
                s.target, s.pub.at("data_rate"), static_cast<unsigned long long>(s.acked),
                static_cast<unsigned long long>(s.bare.got), static_cast<unsigned long long>(s.gw.got),
                static_cast<long long>(s.acked) - static_cast<long long>(s.bare.got),
                args.bare_only ? 0LL : static_cast<long long>(s.acked) - static_cast<long long>(s.gw.got),
                ratio(s.bare.at_stop, s.acked), ratio(s.gw.at_stop, s.acked), static_cast<long long>(backlog(s, s.bare)),
                static_cast<long long>(backlog(s, s.gw)), s.bare.drain_s, s.gw.drain_s,
                static_cast<unsigned long long>(s.pending_at_lag), std::max(0.0, s.gw.done_s - s.pub_s),
                keeps_up(s, s.bare) ? "yes" : "LAG", args.bare_only ? "-" : keeps_up(s, s.gw) ? "yes" : "LAG",
                args.bare_only ? "-" : store_keeps_up(s) ? "yes" : s.dropped_rows > 0 ? "DROP" : "LAG");
  }
  std::printf("\nCPU per message received (us/msg: utime+stime from the publisher's start until the subscriber was done; "
              "the gateway's includes its history writer catching up) and memory (%% = of one core over that time)\n");
  std::printf("%9s | %8s %8s %8s | %7s %7s | %8s %8s | %10s %8s %8s | %8s %9s %7s\n", "target/s", "bare us", "gw us",
              "gw/bare", "bare %", "gw %", "mosq us", "pub us", "gw RSS max", "RSS end", "bare RSS", "rows/msg", "drop rows",
              "seqgaps");
  for (const Step& s : steps) {
    const double bare_us = us_per(s.bare.cpu, s.bare.got);
    const double gw_us = us_per(s.gw.cpu, s.gw.got);
    std::printf("%9.0f | %8.2f %8.2f %7.2fx | %6.1f%% %6.1f%% | %8.2f %8.2f | %8.1fMB %6.1fMB %6.1fMB | %8.2f %9llu %7llu\n",
                s.target, bare_us, gw_us, bare_us > 0 ? gw_us / bare_us : 0.0, 100 * s.bare.cpu / std::max(0.1, s.bare.done_s),
                100 * s.gw.cpu / std::max(0.1, s.gw.done_s), us_per(s.broker_cpu, s.acked),
                us_per(s.pub.at("cpu_seconds"), s.acked), static_cast<double>(s.gw.rss_max_kib) / 1024.0,
                static_cast<double>(s.gw.rss_end_kib) / 1024.0, static_cast<double>(s.bare.rss_max_kib) / 1024.0,
                ratio(s.rows, s.gw.got), static_cast<unsigned long long>(s.dropped_rows),
                static_cast<unsigned long long>(s.gaps));
  }
  const auto verdict = [&](const char* who, auto ok_at) {
    double ok = 0;
    double lag = 0;
    for (const Step& s : steps) {
      if (ok_at(s)) {
        if (lag == 0) ok = std::max(ok, s.target);
      } else if (lag == 0) {
        lag = s.target;
      }
    }
    std::printf("  %-30s kept up up to %s msg/s; %s\n", who,
                ok > 0 ? std::to_string(static_cast<long long>(ok)).c_str() : "(none)",
                lag > 0 ? ("started to lag at " + std::to_string(static_cast<long long>(lag)) + " msg/s").c_str()
                        : "did not lag at any rate tried");
  };
  std::printf("\n%s\n", args.pin >= 0 ? ("On one core (CPU " + std::to_string(args.pin) + ", shared by both subscribers):").c_str()
                                      : "Unpinned:");
  verdict("bare mosquitto_sub", [](const Step& s) { return keeps_up(s, s.bare); });
  if (!args.bare_only) {
    verdict("edgemon-gateway (messages)", [](const Step& s) { return keeps_up(s, s.gw); });
    verdict("edgemon-gateway (+ history)", [](const Step& s) { return keeps_up(s, s.gw) && store_keeps_up(s); });
  }
  if (stopped_early) std::printf("  (ramp stopped early, see above)\n");
  if (health.failures > 0) std::printf("  (/api/health did not answer %d times; the previous answer was used)\n", health.failures);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  if (args.pin >= 0) {
    // This bench, and so the broker and the publishers it starts, on every CPU but the pinned one.
    const cpu_set_t others = edgemon::bench::all_cpus_but(args.pin);
    if (sched_setaffinity(0, sizeof others, &others) != 0) throw std::runtime_error("sched_setaffinity failed");
  }
  std::string capture = args.capture;
  std::optional<edgemon::test::TempDir> capture_dir;
  if (args.publisher == "replay" && capture.empty()) {
    // Before anything else runs: a real agent's traffic, on its own private broker.
    capture_dir.emplace("edgemon-ingest-capture");
    capture = capture_dir->file("capture.spb");
    std::ostringstream secs;
    std::ostringstream interval;
    secs << args.capture_seconds;
    interval << args.capture_interval;
    const auto r = edgemon::test::run_command({EDGEMON_REPLAY_BIN, "capture", "--out", capture, "--seconds", secs.str(),
                                               "--interval", interval.str(), "--targets", "10"},
                                              std::chrono::milliseconds(static_cast<std::int64_t>(args.capture_seconds * 1000)) + 60s);
    std::printf("%s", r.output.c_str());
    if (r.exit_code != 0) throw std::runtime_error("capture failed");
  }
  Rig rig(args);
  if (args.publisher == "sim") {
    run_sim(args, rig);
  } else {
    run_replay(args, rig, capture);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ingest_bench: %s\n", e.what());
  return 1;
}
