// WebSocket fan-out (issue #7's benchmark): many /ws clients following a simulated fleet, all
// real processes on loopback: edgemon-sim -> mosquitto -> edgemon-gateway -> N Beast clients.
//
// The clients are async Beast WebSocket clients on ONE io_context run by one thread (not a
// thread per client); the main thread starts and stops processes and opens/closes measurement
// windows. Every client connects to /ws with "Authorization: Bearer <admin token>".
//
// Phases (each measured over a window of --seconds):
//   A  --clients clients follow --nodes sim nodes publishing every --interval s.
//   B  the same plus one client that connected and never reads again (a small SO_RCVBUF so its
//      TCP buffers fill quickly): the others' figures again, and whether their p99 moved.
//   C  publish -> WebSocket latency with the gateway ingesting --load-rate msg/s (about half of
//      the gateway's maximum ingest rate: ingest_bench --publisher replay finds it) from
//      --load-nodes nodes, followed by --latency-clients clients. The load comes from edgemon-sim
//      (--load-publisher sim: one Paho client per node, tops out near 5-7k msg/s here) or from
//      sparkplug_replay (--load-publisher replay: a real agent's traffic captured at the start,
//      replayed over one MQTT connection; nodes load-00001...).
//      With --history-days D > 0 (default 30), before the gateway starts its database is given D
//      days of history (history_fill: two raw samples a minute rolled up into minute and hour rows,
//      --history-series series), and during C's window one more client loops on
//      GET /api/history?node=<g>/<n>&metric=<m>&from=<now - D days>&to=<now>&step=... with the
//      admin token, one request at a time: its completed queries and their latency p50/p99 are
//      printed beside the publish -> WebSocket figures. The gateway caps a query's points
//      (400 "more than N points"): when D days at step=60 are refused, the loop alternates D days
//      at step=3600 (what a month-long chart asks) and the widest minute-resolution range the
//      gateway accepts (the heaviest single query it serves). With --history-baseline 1 (default)
//      C is measured twice, without and then with the history client, for the comparison.
//
// What is measured, per frame a client receives (wall clock of this machine, shared with the sim):
//   * raw "sample -> client": arrival - the newest metric "ts" in the node frame (the sim stamps a
//     sample when it takes it and publishes it in the same turn). The gateway coalesces a node's
//     metric updates to at most one frame a second (flushed by its 250 ms tick), so for ordinary
//     NDATA this is mostly coalescing delay: the age of the newest data when the frame leaves.
//   * urgent "publish -> client": a node's first appearance (NBIRTH of a node the gateway has never
//     seen) is sent at once, not coalesced. During every window a probe edgemon-sim is started
//     every --probe-every s with --probe-nodes fresh node ids ("probe-..."); for each client and
//     each probe node, arrival of its birth frame - the birth's metric ts. This is the real
//     publish -> MQTT -> gateway (decode, state, rules, history queue) -> WebSocket path, and the
//     figure the issue's "publish -> WebSocket p99 (goal <= 20 ms)" is about.
//   * "gateway -> client": arrival - the frame's last_seen (the gateway's receive time of the
//     node's newest message); for urgent frames the gateway's own share of the above.
//   * fan-out spread: for every frame (seq) that every reading client received, the time between
//     the first and the last client receiving it (steady clock): what one broadcast costs when it
//     is written to N sockets. It includes this process's own single-threaded read loop.
//   Timestamps on the wire are whole milliseconds (truncated), so single-digit figures carry
//   about +0.5 ms of quantisation. Nothing is asserted: timing never decides a test.
//
// Also printed: frames and bytes received, resyncs (a snapshot frame after a client's first: the
// gateway replaced its queue because it overflowed), the gateway's own WebSocket counters from
// /api/health ("ws": frames sent, coalesced, resyncs, clients dropped; docs/protocol.md, "Slow
// clients") over each window, and CPU of the gateway, mosquitto, the simulator and this process
// (utime+stime from /proc/<pid>/stat).
// Every client connects with /ws?view=--view: "card" (default) as the dashboard does (the
// overview's cards for every node; docs/protocol.md, "Views"), or "full" (every node's whole
// document, as scripts and older dashboards get).
// A coalesced frame (a slow client's queued node frame replaced by a newer one, under the old
// seq) is credited with the content of the first receipt of its seq: for such frames "raw" is an
// upper bound of the data's age.
//
// Figures (docs/performance.md, "WebSocket fan-out"):
//   build/release/tests/bench/ws_bench --clients 1000 --nodes 200 --seconds 10
#include <utility>  // before Boost.Asio (see gateway/include/edgemon/gateway/asio_prelude.h)

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/mosquitto_broker.h"
#include "support/net.h"
#include "support/process.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using edgemon::test::ChildProcess;
using SteadyTime = std::chrono::steady_clock::time_point;

std::atomic<bool> g_stop{false};  // SIGINT/SIGTERM: end the current window early and clean up

struct Args {
  int clients = 1000;
  int nodes = 200;
  double interval = 1;  // s between samples of every sim node
  double seconds = 10;  // per measurement window
  double warmup = 3;    // after every node is born, before a window
  double fill_seconds = 10;  // phase B: at most this long waiting for the silent client's buffers
  int probe_nodes = 5;
  double probe_every = 0.5;
  double probe_life = 2;
  // Probes wait for the gateway's STATE like real nodes (--primary-host)? Off by default: the birth
  // then follows the PUBACK of the retained STATE and Nagle holds it until the broker's delayed ACK
  // (about 40 ms on Linux loopback), which says nothing about the gateway.
  bool probe_wait_host = false;
  int load_nodes = 1000;
  double load_rate = 2500;  // msg/s offered in phase C
  int latency_clients = 10;
  std::string phases = "ABC";
  std::string gateway = EDGEMON_GATEWAY_BIN;
  std::string load_publisher = "sim";  // or "replay" (sparkplug_replay)
  std::string view = "card";           // /ws?view=: "card" as the dashboard's overview, or "full"
  std::string capture;                 // replay: a capture file; empty: capture at the start
  double capture_seconds = 5;
  int history_days = 30;               // 0: no history fill and no history client
  int history_series = 4;
  bool history_baseline = true;        // C without the history client first
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--clients") {
      a.clients = std::stoi(v);
    } else if (k == "--nodes") {
      a.nodes = std::stoi(v);
    } else if (k == "--interval") {
      a.interval = std::stod(v);
    } else if (k == "--seconds") {
      a.seconds = std::stod(v);
    } else if (k == "--warmup") {
      a.warmup = std::stod(v);
    } else if (k == "--fill-seconds") {
      a.fill_seconds = std::stod(v);
    } else if (k == "--probe-nodes") {
      a.probe_nodes = std::stoi(v);
    } else if (k == "--probe-every") {
      a.probe_every = std::stod(v);
    } else if (k == "--probe-life") {
      a.probe_life = std::stod(v);
    } else if (k == "--probe-wait-host") {
      a.probe_wait_host = v == "1" || v == "true";
    } else if (k == "--load-nodes") {
      a.load_nodes = std::stoi(v);
    } else if (k == "--load-rate") {
      a.load_rate = std::stod(v);
    } else if (k == "--latency-clients") {
      a.latency_clients = std::stoi(v);
    } else if (k == "--phases") {
      a.phases = v;
    } else if (k == "--gateway") {
      a.gateway = v;
    } else if (k == "--load-publisher") {
      if (v != "sim" && v != "replay") throw std::runtime_error("--load-publisher sim|replay");
      a.load_publisher = v;
    } else if (k == "--capture") {
      a.capture = v;
    } else if (k == "--capture-seconds") {
      a.capture_seconds = std::clamp(std::stod(v), 0.5, 120.0);
    } else if (k == "--history-days") {
      a.history_days = std::clamp(std::stoi(v), 0, 35);
    } else if (k == "--history-series") {
      a.history_series = std::clamp(std::stoi(v), 1, 200);
    } else if (k == "--history-baseline") {
      a.history_baseline = v == "1" || v == "true";
    } else if (k == "--view") {
      if (v != "card" && v != "full") throw std::runtime_error("--view card|full");
      a.view = v;
    } else {
      throw std::runtime_error("unknown option " + k +
                               " (--clients N --nodes M --interval S --seconds S --warmup S --fill-seconds S"
                               " --probe-nodes K --probe-every S --probe-life S --probe-wait-host 0|1 --load-nodes N --load-rate MSG/S"
                               " --latency-clients N --phases ABC --gateway PATH --load-publisher sim|replay"
                               " --capture FILE --capture-seconds S --history-days D --history-series N"
                               " --history-baseline 0|1 --view card|full)");
    }
  }
  // Everything bounded: counts and times.
  a.clients = std::clamp(a.clients, 1, 10000);
  a.nodes = std::clamp(a.nodes, 1, 5000);
  a.load_nodes = std::clamp(a.load_nodes, 1, 5000);
  a.latency_clients = std::clamp(a.latency_clients, 1, 10000);
  a.probe_nodes = std::clamp(a.probe_nodes, 1, 100);
  a.seconds = std::clamp(a.seconds, 1.0, 600.0);
  a.warmup = std::clamp(a.warmup, 0.0, 60.0);
  a.fill_seconds = std::clamp(a.fill_seconds, 0.0, 120.0);
  a.probe_every = std::clamp(a.probe_every, 0.1, 60.0);
  a.probe_life = std::clamp(a.probe_life, 1.0, 60.0);
  a.interval = std::clamp(a.interval, 0.01, 60.0);
  a.load_rate = std::clamp(a.load_rate, 1.0, 100000.0);
  return a;
}

// utime + stime of a process in seconds (0 if it is gone).
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

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double wall_ms_now() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()) /
         1000.0;
}

// Sleeps in small steps so that SIGINT ends it early.
void nap(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!g_stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        50ms, std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()) + 1ms));
  }
}

std::chrono::milliseconds ms(double seconds) { return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)); }

// ---- the few fields of a frame this bench needs, without a full JSON parse ----------------------

std::optional<std::int64_t> number_after(std::string_view text, std::string_view key, std::size_t from = 0,
                                         std::size_t* end = nullptr) {
  const std::size_t at = text.find(key, from);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + key.size();
  std::int64_t v = 0;
  bool any = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + (text[i] - '0');
    ++i;
    any = true;
  }
  if (end != nullptr) *end = i;
  if (!any) return std::nullopt;
  return v;
}

struct NodeFrame {
  std::string id;
  bool online = false;
  std::int64_t last_seen = 0;
  std::int64_t max_ts = 0;  // 0: no metric carries a ts
};

// A node frame: {"type":"node","seq":N,"node":{...,"id":"...",...,"last_seen":T,"metrics":[{...,"ts":T},...],
// "online":B,...}}. nlohmann::json writes object keys sorted, so the node's own "last_seen" comes
// before the per-target ones; "ts" only appears in metrics. Checked against a full parse for the
// first frames of every run (check_scanner).
NodeFrame scan_node(std::string_view f) {
  NodeFrame n;
  const std::size_t node_at = f.find(R"("node":{)");
  const std::string_view node = node_at == std::string_view::npos ? f : f.substr(node_at);
  const std::size_t id_at = node.find(R"("id":")");
  if (id_at != std::string_view::npos) {
    const std::size_t start = id_at + 6;
    n.id = std::string(node.substr(start, node.find('"', start) - start));
  }
  const std::size_t online_at = node.find(R"("online":)");
  n.online = online_at != std::string_view::npos && node.substr(online_at + 9, 4) == "true";
  n.last_seen = number_after(node, R"("last_seen":)").value_or(0);
  const std::size_t metrics_at = node.find(R"("metrics":[)");
  if (metrics_at != std::string_view::npos) {
    const std::size_t metrics_end = node.find(']', metrics_at);
    const std::string_view metrics = node.substr(metrics_at, metrics_end - metrics_at);
    std::size_t pos = 0;
    while (auto ts = number_after(metrics, R"("ts":)", pos, &pos)) n.max_ts = std::max(n.max_ts, *ts);
  }
  return n;
}

void check_scanner(std::string_view f, const NodeFrame& n) {
  const auto j = nlohmann::json::parse(f);
  const auto& node = j.at("node");
  std::int64_t max_ts = 0;
  for (const auto& m : node.at("metrics")) max_ts = std::max(max_ts, m.value("ts", std::int64_t{0}));
  if (node.at("id").get<std::string>() != n.id || node.at("online").get<bool>() != n.online ||
      node.at("last_seen").get<std::int64_t>() != n.last_seen || max_ts != n.max_ts) {
    throw std::runtime_error("frame scanner disagrees with the JSON parser on: " + std::string(f.substr(0, 600)));
  }
}

// ---- statistics -------------------------------------------------------------------------------

struct Dist {
  std::vector<float> v;
  void add(double x) { v.push_back(static_cast<float>(x)); }
  double pct(double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(rank, v.size() - 1)];
  }
  std::string line() {
    if (v.empty()) return "      -         -         -   (n=0)";
    char buf[160];
    std::snprintf(buf, sizeof buf, "%8.1f  %8.1f  %8.1f   (n=%zu)", pct(50), pct(99), pct(100), v.size());
    return buf;
  }
};

struct Window {
  int id = 0;
  std::uint64_t frames = 0;  // every frame any reading client received in the window
  std::uint64_t node_frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t clients_resynced = 0;
  Dist raw;         // arrival - newest metric ts, every node frame
  Dist raw_gw;      // arrival - last_seen, every node frame
  Dist urgent;      // arrival - metric ts of a probe's birth frame
  Dist urgent_gw;   // arrival - last_seen of the same
  Dist spread;      // last - first client arrival of one seq
  std::uint64_t seqs = 0;           // distinct node/alerts seqs first seen in the window
  std::uint64_t seqs_complete = 0;  // of those, received by every reading client
  std::uint64_t births = 0;         // distinct probe births seen
};

struct FrameInfo {
  bool node = false;
  NodeFrame n;
  bool probe_birth = false;
  SteadyTime first{};
  SteadyTime last{};
  std::uint32_t count = 0;
  int window = 0;  // window open when the first client got it (0: none)
};

struct Client {
  explicit Client(asio::io_context& io) : ws(io) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  bool silent = false;  // connects, then never reads
  bool connected = false;
  bool got_snapshot = false;
  bool resynced_in_window = false;
  std::uint64_t resyncs = 0;
  std::uint16_t local_port = 0;
};

class Bench {
 public:
  Bench(asio::io_context& io, std::uint16_t port, std::string authorization, std::string view)
      : io_(io), port_(port), authorization_(std::move(authorization)), path_("/ws?view=" + view) {}

  // Runs on the io thread from here on.
  void connect(const std::shared_ptr<Client>& c) {
    clients_.push_back(c);
    asio::co_spawn(io_, run(c), asio::detached);
  }
  void open_window(int id) {
    window_ = Window{};
    window_.id = id;
    for (auto& c : clients_) c->resynced_in_window = false;
  }
  void close_window() { window_.id = 0; }
  // After a grace period: fan-out spread of the frames first seen in window `id`.
  Window take_window(int id, std::size_t reading_clients) {
    Window w = std::move(window_);
    window_ = Window{};
    for (auto& [seq, f] : frames_) {
      if (f.window != id) continue;
      ++w.seqs;
      if (f.count >= reading_clients) {
        ++w.seqs_complete;
        w.spread.add(std::chrono::duration<double, std::milli>(f.last - f.first).count());
      }
    }
    for (auto& c : clients_) w.clients_resynced += c->resynced_in_window ? 1U : 0U;
    // Old seqs are not needed again.
    std::erase_if(frames_, [id](const auto& kv) { return kv.second.window <= id; });
    return w;
  }
  void close_all() {
    for (auto& c : clients_) {
      boost::system::error_code ec;
      beast::get_lowest_layer(c->ws).socket().close(ec);
    }
    clients_.clear();
  }
  std::atomic<int> connected{0};
  std::atomic<int> failed{0};
  std::atomic<int> closed_reading{0};  // reading clients whose connection ended
  std::string first_error;
  std::string scanner_error;  // the frame scanner disagreed with a full JSON parse
  std::string read_error;     // why the first reading client's connection ended
  std::uint64_t frames_total = 0;  // every frame received, in a window or not

 private:
  asio::awaitable<void> run(std::shared_ptr<Client> c) {
    boost::system::error_code ec;
    auto& stream = beast::get_lowest_layer(c->ws);
    const tcp::endpoint gw(asio::ip::make_address("127.0.0.1"), port_);
    if (c->silent) {
      // A small receive buffer: the kernel's share of the backlog fills within seconds.
      stream.socket().open(tcp::v4(), ec);
      if (!ec) stream.socket().set_option(asio::socket_base::receive_buffer_size(4096), ec);
    }
    stream.expires_after(10s);
    co_await stream.async_connect(gw, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      c->local_port = stream.socket().local_endpoint(ec).port();
      stream.expires_never();
      c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
      c->ws.set_option(websocket::stream_base::decorator(
          [auth = authorization_](websocket::request_type& req) { req.set(beast::http::field::authorization, auth); }));
      c->ws.read_message_max(64 * 1024 * 1024);
      co_await c->ws.async_handshake("127.0.0.1:" + std::to_string(port_), path_,
                                     asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      if (first_error.empty()) first_error = ec.message();
      ++failed;
      co_return;
    }
    c->connected = true;
    ++connected;
    if (c->silent) co_return;  // the stream stays open (clients_ holds it); nothing reads it again
    for (;;) {
      co_await c->ws.async_read(c->buffer, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (read_error.empty()) read_error = ec.message();
        break;
      }
      const auto data = c->buffer.data();
      try {
        on_frame(*c, std::string_view(static_cast<const char*>(data.data()), data.size()));
      } catch (const std::exception& e) {
        if (scanner_error.empty()) scanner_error = e.what();
        break;
      }
      c->buffer.consume(c->buffer.size());
    }
    ++closed_reading;
  }

  void on_frame(Client& c, std::string_view f) {
    const double arrival = wall_ms_now();
    const SteadyTime now = std::chrono::steady_clock::now();
    const bool in_window = window_.id != 0;
    ++frames_total;
    if (in_window) {
      ++window_.frames;
      window_.bytes += f.size();
    }
    if (f.starts_with(R"({"type":"snapshot")")) {
      if (c.got_snapshot) {
        ++c.resyncs;
        if (in_window) {
          ++window_.resyncs;
          c.resynced_in_window = true;
        }
      }
      c.got_snapshot = true;
      return;
    }
    const auto seq = number_after(f, R"("seq":)");
    if (!seq) return;
    auto [it, fresh] = frames_.try_emplace(static_cast<std::uint64_t>(*seq));
    FrameInfo& info = it->second;
    if (fresh) {
      info.first = now;
      info.window = window_.id;
      if (f.starts_with(R"({"type":"node")")) {
        info.node = true;
        info.n = scan_node(f);
        if (checked_ < 20) {
          check_scanner(f, info.n);
          ++checked_;
        }
        if (info.n.online && info.n.max_ts > 0 && info.n.id.starts_with("probe-") && !probes_seen_.contains(info.n.id)) {
          info.probe_birth = true;
          if (in_window) ++window_.births;
        }
        probes_seen_[info.n.id] = true;
      }
    }
    info.last = now;
    ++info.count;
    if (!in_window || !info.node) return;
    ++window_.node_frames;
    if (!info.n.online || info.n.max_ts == 0) return;
    window_.raw.add(arrival - static_cast<double>(info.n.max_ts));
    window_.raw_gw.add(arrival - static_cast<double>(info.n.last_seen));
    if (info.probe_birth) {
      window_.urgent.add(arrival - static_cast<double>(info.n.max_ts));
      window_.urgent_gw.add(arrival - static_cast<double>(info.n.last_seen));
    }
  }

  asio::io_context& io_;
  std::uint16_t port_;
  std::string authorization_;
  std::string path_;  // /ws?view=...
  std::vector<std::shared_ptr<Client>> clients_;
  std::unordered_map<std::uint64_t, FrameInfo> frames_;
  std::unordered_map<std::string, bool> probes_seen_;
  Window window_;
  int checked_ = 0;
};

// Runs `fn` on the io thread and waits for its result.
template <typename Fn>
auto on_io(asio::io_context& io, Fn fn) -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::move(fn));
  auto result = task.get_future();
  asio::post(io, [&task] { task(); });
  if (result.wait_for(60s) != std::future_status::ready) throw std::runtime_error("io thread did not answer in 60 s");
  return result.get();
}

// ---- the processes -----------------------------------------------------------------------------

struct Health {
  std::uint64_t accepted = 0;
  std::uint64_t nodes = 0;
  std::uint64_t ws_clients = 0;
  bool has_ws = false;  // the "ws" counters (gateways since issue #7's slow-client rules)
  std::uint64_t ws_sent = 0;
  std::uint64_t ws_coalesced = 0;
  std::uint64_t ws_resyncs = 0;
  std::uint64_t ws_dropped = 0;
  std::uint64_t io_slow_steps = 0;  // io-thread steps over 50 ms
};

std::uint16_t g_http_port = 0;  // the gateway's, for the counters around each window

Health health(std::uint16_t port) {
  int status = 0;
  const std::string body = edgemon::test::http_get(port, "/api/health", &status);
  Health h;
  if (status != 200) return h;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return h;
  h.accepted = j.value("messages_accepted", std::uint64_t{0});
  h.nodes = j.value("nodes", std::uint64_t{0});
  h.ws_clients = j.value("ws_clients", std::uint64_t{0});
  if (const auto ws = j.find("ws"); ws != j.end() && ws->is_object()) {
    h.has_ws = true;
    h.ws_sent = ws->value("frames_sent", std::uint64_t{0});
    h.ws_coalesced = ws->value("frames_coalesced", std::uint64_t{0});
    h.ws_resyncs = ws->value("resyncs", std::uint64_t{0});
    h.ws_dropped = ws->value("clients_dropped", std::uint64_t{0});
  }
  if (const auto io = j.find("io"); io != j.end() && io->is_object()) h.io_slow_steps = io->value("slow_steps", std::uint64_t{0});
  return h;
}

// Online nodes whose id starts with `prefix`, from /api/fleet (status other than DOWN/UNKNOWN).
int nodes_up(std::uint16_t port, const std::string& prefix) {
  int status = 0;
  const std::string body = edgemon::test::http_get(port, "/api/fleet", &status);
  if (status != 200) return 0;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("nodes")) return 0;
  int n = 0;
  for (const auto& node : j["nodes"]) {
    const std::string key = node.value("key", "");
    const std::string st = node.value("status", "");
    if (key.find("/" + prefix) != std::string::npos && st != "DOWN" && st != "UNKNOWN") ++n;
  }
  return n;
}

std::string fmt_double(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

ChildProcess start_sim(const edgemon::test::TempDir& dir, std::uint16_t broker_port, const std::string& prefix, int nodes,
                       double interval, std::optional<double> duration, int connect_rate, bool wait_host,
                       const std::string& log) {
  std::vector<std::string> argv{EDGEMON_SIM_BIN, "--broker", "127.0.0.1", "--port", std::to_string(broker_port),
                                "--nodes", std::to_string(nodes), "--interval", fmt_double(interval), "--prefix", prefix,
                                "--connect-rate", std::to_string(connect_rate), "--log-level", "error"};
  if (wait_host) argv.insert(argv.end(), {"--primary-host", "edgemon-gateway"});
  // Without --duration the sim runs until SIGTERM (then sends its NDEATHs and exits).
  if (duration) argv.insert(argv.end(), {"--duration", fmt_double(*duration)});
  return ChildProcess::start(argv, dir.file(log));
}

void stop_sim(ChildProcess& sim) {
  if (!sim.stop(SIGTERM, 15s)) sim.kill_now();
}

// Waits until `want` nodes with `prefix` are up (bounded), then the warm-up.
void wait_born(std::uint16_t port, const std::string& prefix, int want, double warmup) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  int up = 0;
  while (!g_stop.load() && std::chrono::steady_clock::now() < until && (up = nodes_up(port, prefix)) < want) nap(250ms);
  if (up < want) std::printf("  (only %d of %d %s* nodes up after 60 s; measuring anyway)\n", up, want, prefix.c_str());
  nap(ms(warmup));
}

// Bytes queued on one loopback TCP connection, from /proc/net/tcp: the send queue of the socket
// bound to local_port talking to remote_port, and the receive queue.
struct TcpQueues {
  std::uint64_t tx = 0;
  std::uint64_t rx = 0;
  bool found = false;
};
TcpQueues tcp_queues(std::uint16_t local_port, std::uint16_t remote_port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want_local[8];
  char want_remote[8];
  std::snprintf(want_local, sizeof want_local, ":%04X", local_port);
  std::snprintf(want_remote, sizeof want_remote, ":%04X", remote_port);
  TcpQueues q;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string sl, local, remote, st, queues;
    s >> sl >> local >> remote >> st >> queues;
    if (!local.ends_with(want_local) || !remote.ends_with(want_remote)) continue;
    const auto colon = queues.find(':');
    q.tx = std::stoull(queues.substr(0, colon), nullptr, 16);
    q.rx = std::stoull(queues.substr(colon + 1), nullptr, 16);
    q.found = true;
  }
  return q;
}

struct Cpu {
  double gateway = 0;
  double broker = 0;
  double sim = 0;
  double self = 0;
  double wall = 0;
};

struct CpuMeter {
  pid_t gw;
  pid_t broker;
  pid_t sim;
  double g0, b0, s0, self0;
  SteadyTime t0;
  CpuMeter(pid_t g, pid_t b, pid_t s)
      : gw(g), broker(b), sim(s), g0(cpu_seconds(g)), b0(cpu_seconds(b)), s0(cpu_seconds(s)), self0(self_cpu_seconds()),
        t0(std::chrono::steady_clock::now()) {}
  Cpu read() const {
    Cpu c;
    c.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    c.gateway = cpu_seconds(gw) - g0;
    c.broker = cpu_seconds(broker) - b0;
    c.sim = cpu_seconds(sim) - s0;
    c.self = self_cpu_seconds() - self0;
    return c;
  }
};

// Starts a probe sim every probe_every seconds until the window ends; each lives probe_life s.
void run_probes(const Args& args, const edgemon::test::TempDir& dir, std::uint16_t broker_port, char phase,
                std::vector<ChildProcess>& probes) {
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + ms(args.seconds);
  for (int round = 0; !g_stop.load() && round < 100000; ++round) {
    const auto at = start + ms(args.probe_every * round);
    if (at >= end) break;
    std::this_thread::sleep_until(at);
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "probe-%c%04d-", phase, round);
    probes.push_back(start_sim(dir, broker_port, prefix, args.probe_nodes, 1, args.probe_life, args.probe_nodes,
                               args.probe_wait_host, std::string("probe-") + phase + ".log"));
  }
  std::this_thread::sleep_until(end);
}

void reap_probes(std::vector<ChildProcess>& probes, double life) {
  for (auto& p : probes) {
    if (!p.wait(ms(life) + 15s)) p.kill_now();
  }
  probes.clear();
}

void print_window(const char* title, Window& w, const Cpu& cpu, std::size_t reading_clients) {
  const double s = cpu.wall;
  std::printf("%s\n", title);
  std::printf("  frames: %llu received (%llu node frames; %.1f/s per client, %.1f MB/s in all), resyncs %llu (%llu clients)\n",
              static_cast<unsigned long long>(w.frames), static_cast<unsigned long long>(w.node_frames),
              static_cast<double>(w.frames) / s / static_cast<double>(std::max<std::size_t>(1, reading_clients)),
              static_cast<double>(w.bytes) / s / 1e6, static_cast<unsigned long long>(w.resyncs),
              static_cast<unsigned long long>(w.clients_resynced));
  std::printf("  %-48s %8s  %8s  %8s\n", "latency, ms", "p50", "p99", "max");
  std::printf("  %-48s %s\n", "urgent: probe birth publish -> client", w.urgent.line().c_str());
  std::printf("  %-48s %s\n", "urgent: gateway receipt -> client", w.urgent_gw.line().c_str());
  std::printf("  %-48s %s\n", "raw: sample -> client, every node frame", w.raw.line().c_str());
  std::printf("  %-48s %s\n", "raw: gateway receipt of newest -> client", w.raw_gw.line().c_str());
  std::printf("  %-48s %s\n", "fan-out spread: first -> last client, per seq", w.spread.line().c_str());
  std::printf("  probe births seen: %llu; seqs: %llu, received by all %zu reading clients: %llu\n",
              static_cast<unsigned long long>(w.births), static_cast<unsigned long long>(w.seqs), reading_clients,
              static_cast<unsigned long long>(w.seqs_complete));
  const std::uint64_t delivered = std::max<std::uint64_t>(1, w.frames);
  std::printf("  CPU over %.1f s (%% of one core): gateway %.1f%%, mosquitto %.1f%%, sim %.1f%%, this bench %.1f%%;"
              " gateway %.2f us per delivered frame\n",
              s, 100 * cpu.gateway / s, 100 * cpu.broker / s, 100 * cpu.sim / s, 100 * cpu.self / s,
              1e6 * cpu.gateway / static_cast<double>(delivered));
  std::fflush(stdout);
}

void connect_clients(asio::io_context& io, Bench& bench, int n, bool silent, std::vector<std::shared_ptr<Client>>& out) {
  const int base_ok = bench.connected.load();
  const int base_failed = bench.failed.load();
  const auto until = std::chrono::steady_clock::now() + 120s;
  constexpr int kBatch = 50;  // handshakes in flight
  for (int i = 0; i < n && !g_stop.load(); i += kBatch) {
    const int batch = std::min(kBatch, n - i);
    on_io(io, [&] {
      for (int k = 0; k < batch; ++k) {
        auto c = std::make_shared<Client>(io);
        c->silent = silent;
        out.push_back(c);
        bench.connect(c);
      }
      return 0;
    });
    while (bench.connected.load() + bench.failed.load() - base_ok - base_failed < i + batch) {
      if (std::chrono::steady_clock::now() > until) throw std::runtime_error("WebSocket clients did not connect in 120 s");
      std::this_thread::sleep_for(5ms);
    }
  }
  if (bench.failed.load() > base_failed) {
    throw std::runtime_error(std::to_string(bench.failed.load() - base_failed) + " WebSocket clients failed: " +
                             on_io(io, [&] { return bench.first_error; }));
  }
}

// One measurement window with probes; returns the window's figures and CPU.
// `on_open`/`on_close` run on this thread right after the window opened / before it closes.
std::pair<Window, Cpu> measure(const Args& args, asio::io_context& io, Bench& bench, const edgemon::test::TempDir& dir,
                               std::uint16_t broker_port, pid_t gw, pid_t broker, pid_t sim, char phase, int window_id,
                               std::size_t reading_clients, const std::function<void()>& on_open = {},
                               const std::function<void()>& on_close = {}) {
  std::vector<ChildProcess> probes;
  const Health h0 = health(g_http_port);
  CpuMeter meter(gw, broker, sim);
  on_io(io, [&] {
    bench.open_window(window_id);
    return 0;
  });
  if (on_open) on_open();
  run_probes(args, dir, broker_port, phase, probes);
  if (on_close) on_close();
  on_io(io, [&] {
    bench.close_window();
    return 0;
  });
  Cpu cpu = meter.read();
  // The short-lived probe simulators' CPU is not counted (each costs a few ms at start).
  nap(1s);  // the last frames of the window reach every client
  Window w = on_io(io, [&] { return bench.take_window(window_id, reading_clients); });
  const auto [ended, why, total] =
      on_io(io, [&] { return std::tuple(bench.closed_reading.load(), bench.read_error, bench.frames_total); });
  std::printf("\n(after window %d: %llu frames received by this process since it started; reading connections ended so far: %d%s%s)",
              window_id, static_cast<unsigned long long>(total), ended, why.empty() ? "" : ", first reason: ", why.c_str());
  if (const Health h1 = health(g_http_port); h0.has_ws && h1.has_ws) {
    std::printf("\n(gateway's WebSocket counters over the window and its 1 s grace: %llu frames sent, %llu coalesced,"
                " %llu resyncs, %llu clients dropped; io-thread steps over 50 ms: %llu)",
                static_cast<unsigned long long>(h1.ws_sent - h0.ws_sent),
                static_cast<unsigned long long>(h1.ws_coalesced - h0.ws_coalesced),
                static_cast<unsigned long long>(h1.ws_resyncs - h0.ws_resyncs),
                static_cast<unsigned long long>(h1.ws_dropped - h0.ws_dropped),
                static_cast<unsigned long long>(h1.io_slow_steps - h0.io_slow_steps));
  }
  const std::string scanner_error = on_io(io, [&] { return bench.scanner_error; });
  if (!scanner_error.empty()) throw std::runtime_error(scanner_error);
  reap_probes(probes, args.probe_life);
  return {std::move(w), cpu};
}

// ---- the history client (phase C) ---------------------------------------------------------------

struct HistoryKind {
  std::string name;
  std::int64_t range_ms = 0;
  int step = 60;
  Dist latency;  // ms
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes = 0;
  std::string first_error;
};

std::string history_path(const std::string& series, std::int64_t range_ms, int step) {
  const auto space = series.find(' ');
  const auto now = static_cast<std::int64_t>(wall_ms_now());
  return "/api/history?node=" + series.substr(0, space) + "&metric=" + series.substr(space + 1) +
         "&from=" + std::to_string(now - range_ms) + "&to=" + std::to_string(now) + "&step=" + std::to_string(step);
}

// One HTTP client, one query at a time, round robin over kinds and series, until stop().
class HistoryClient {
 public:
  HistoryClient(std::uint16_t port, std::vector<std::string> series, std::vector<HistoryKind> kinds)
      : port_(port), series_(std::move(series)), kinds_(std::move(kinds)) {}
  ~HistoryClient() { stop(); }
  HistoryClient(const HistoryClient&) = delete;
  HistoryClient& operator=(const HistoryClient&) = delete;
  void start() {
    stop_ = false;
    started_ = std::chrono::steady_clock::now();
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
      seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }
  }
  void print() {
    std::uint64_t total = 0;
    for (const auto& k : kinds_) total += k.ok + k.errors;
    std::printf("  history client (1 connection per query, one at a time, %zu series, during the window): %llu queries in "
                "%.1f s\n",
                series_.size(), static_cast<unsigned long long>(total), seconds_);
    std::printf("  %-48s %8s  %8s  %8s\n", "history query latency, ms", "p50", "p99", "max");
    for (auto& k : kinds_) {
      std::printf("  %-48s %s  %llu ok (%.1f/s, %.0f KB each), %llu failed%s%s\n", k.name.c_str(), k.latency.line().c_str(),
                  static_cast<unsigned long long>(k.ok), static_cast<double>(k.ok) / std::max(0.001, seconds_),
                  k.ok ? static_cast<double>(k.bytes) / static_cast<double>(k.ok) / 1024.0 : 0.0,
                  static_cast<unsigned long long>(k.errors), k.first_error.empty() ? "" : ": ", k.first_error.c_str());
    }
  }

 private:
  void run() {
    for (std::uint64_t i = 0; i < 10'000'000 && !stop_.load() && !g_stop.load(); ++i) {
      HistoryKind& k = kinds_[i % kinds_.size()];
      const std::string& series = series_[(i / kinds_.size()) % series_.size()];
      edgemon::test::HttpRequest req;
      req.path = history_path(series, k.range_ms, k.step);
      const auto t = std::chrono::steady_clock::now();
      const edgemon::test::HttpResponse r = edgemon::test::http_request(port_, req);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
      if (r.status == 200) {
        ++k.ok;
        k.bytes += r.body.size();
        k.latency.add(ms);
      } else {
        ++k.errors;
        if (k.first_error.empty()) k.first_error = "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200);
        if (r.status == 0) std::this_thread::sleep_for(50ms);  // nothing answered: no busy loop
      }
    }
  }
  std::uint16_t port_;
  std::vector<std::string> series_;  // "<group>/<node> <metric>"
  std::vector<HistoryKind> kinds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::chrono::steady_clock::time_point started_;
  double seconds_ = 0;
};

// What to query: `days` days at step=60 if the gateway serves it, else `days` at step=3600 and the
// widest minute range it accepts (from its "more than N points" answer; 7 days if unreadable).
std::vector<HistoryKind> history_kinds(std::uint16_t port, const std::string& series, int days) {
  const std::int64_t range = static_cast<std::int64_t>(days) * 86'400'000;
  edgemon::test::HttpRequest req;
  req.path = history_path(series, range, 60);
  const auto r = edgemon::test::http_request(port, req);
  char name[128];
  if (r.status == 200) {
    std::snprintf(name, sizeof name, "%d d at step=60 (minute rows)", days);
    return {HistoryKind{name, range, 60, {}, 0, 0, 0, {}}};
  }
  std::int64_t points = 0;
  if (const auto at = r.body.find("more than "); at != std::string::npos) {
    points = number_after(r.body, "more than ").value_or(0);
  }
  const std::int64_t widest = points > 1 ? (points - 1) * 60'000 : 7 * 86'400'000LL;
  std::printf("  (the gateway refuses %d days at step=60: HTTP %d %s; the history client alternates %d days at step=3600 and "
              "the widest minute-resolution range it accepts, %.2f days)\n",
              days, r.status, r.body.substr(0, 160).c_str(), days, static_cast<double>(widest) / 86'400'000.0);
  std::vector<HistoryKind> kinds;
  std::snprintf(name, sizeof name, "%d d at step=3600 (hour rows)", days);
  kinds.push_back(HistoryKind{name, range, 3600, {}, 0, 0, 0, {}});
  std::snprintf(name, sizeof name, "%.2f d at step=60 (minute rows, widest accepted)", static_cast<double>(widest) / 86'400'000.0);
  kinds.push_back(HistoryKind{name, widest, 60, {}, 0, 0, 0, {}});
  return kinds;
}

// sparkplug_replay as phase C's load: runs until SIGTERM (stop_sim), at most an hour.
ChildProcess start_replay(const edgemon::test::TempDir& dir, std::uint16_t broker_port, const std::string& capture,
                          const std::string& prefix, int nodes, double rate, const std::string& log) {
  return ChildProcess::start({EDGEMON_REPLAY_BIN, "replay", "--port", std::to_string(broker_port), "--capture", capture,
                              "--nodes", std::to_string(nodes), "--rate", fmt_double(rate), "--seconds", "3600",
                              "--prefix", prefix, "--ack-timeout", "10"},
                             dir.file(log));
}

void compare(const char* what, double a, double b) {
  const double ratio = a > 0 ? b / a : 0;
  std::printf("  %-44s A %8.1f ms   B %8.1f ms   B/A %5.2f  %s\n", what, a, b, ratio,
              (b - a > 5 && ratio > 1.5) ? "MOVED (> 1.5x and > 5 ms)" : "did not move (within 1.5x or 5 ms)");
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  // 1000+ sockets here and in the gateway (which inherits the limit): soft limit up to the hard one.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  const auto need_fds = static_cast<rlim_t>(std::max(args.clients, args.latency_clients) + 64);
  if (nofile.rlim_cur < need_fds) {
    std::printf("warning: RLIMIT_NOFILE %llu is below the %llu sockets needed\n",
                static_cast<unsigned long long>(nofile.rlim_cur), static_cast<unsigned long long>(need_fds));
  }

  edgemon::test::TempDir dir("edgemon-ws-bench");
  edgemon::test::MosquittoBroker broker(dir.path(), "max_queued_messages 1000000\nmax_connections -1\n");
  // The ingest bench's rule set (docs/performance.md), and the admin that create_admin_token uses.
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
  const bool want_c_early = args.phases.find('C') != std::string::npos;
  // Phase C's history: a month of rollups in the gateway's database before it starts.
  std::vector<std::string> history_series;
  if (want_c_early && args.history_days > 0) {
    std::filesystem::create_directories(dir.file("state"));
    const auto fill = edgemon::test::run_command(
        {EDGEMON_HISTORY_FILL_BIN, "--db", dir.file("state/edgemon.db"), "--days", std::to_string(args.history_days),
         "--series", std::to_string(args.history_series)},
        600s);
    if (fill.exit_code != 0) throw std::runtime_error("history_fill failed:\n" + fill.output);
    std::istringstream lines(fill.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("series ", 0) == 0) history_series.push_back(line.substr(7));
      else std::printf("%s\n", line.c_str());
    }
  }
  // Phase C's load from sparkplug_replay: a real agent's traffic, captured now on its own broker.
  std::string capture = args.capture;
  if (want_c_early && args.load_publisher == "replay" && capture.empty()) {
    capture = dir.file("capture.spb");
    const auto r = edgemon::test::run_command({EDGEMON_REPLAY_BIN, "capture", "--out", capture, "--seconds",
                                               fmt_double(args.capture_seconds), "--interval", "0.2", "--targets", "10"},
                                              ms(args.capture_seconds) + 60s);
    std::printf("%s", r.output.c_str());
    if (r.exit_code != 0) throw std::runtime_error("capture failed");
  }
  const std::uint16_t http_port = edgemon::test::free_tcp_port();
  ChildProcess gateway = ChildProcess::start(
      {args.gateway, "--broker", "127.0.0.1", "--port", std::to_string(broker.port()), "--http-port",
       std::to_string(http_port), "--state-dir", dir.file("state"), "--database", dir.file("state/edgemon.db"),
       "--web-root", dir.path(), "--config", dir.file("gateway.toml"), "--log-level", "warn"},
      dir.file("gateway.log"));
  if (!edgemon::test::wait_for_tcp(http_port, 10s)) throw std::runtime_error("gateway did not start:\n" + gateway.log());
  g_http_port = http_port;
  const std::string authorization = "Bearer " + edgemon::test::create_admin_token(http_port, "ws-bench");
  edgemon::test::set_default_authorization(authorization);  // for /api/fleet and /api/health polls

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Bench bench(io, http_port, authorization, args.view);  // outlives the io thread (joiner below)
  std::thread io_thread([&io] { io.run(); });
  struct Joiner {
    asio::io_context& io;
    std::thread& t;
    decltype(work)& w;
    ~Joiner() {
      w.reset();
      io.stop();
      if (t.joinable()) t.join();
    }
  } joiner{io, io_thread, work};

  std::printf("ws_bench: edgemon-sim -> mosquitto -> edgemon-gateway -> WebSocket clients, all on loopback; "
              "windows of %.0f s; probes: %d fresh nodes every %.2f s (each lives %.0f s); /ws?view=%s\n",
              args.seconds, args.probe_nodes, args.probe_every, args.probe_life, args.view.c_str());
  std::fflush(stdout);

  const bool want_a = args.phases.find('A') != std::string::npos;
  const bool want_b = args.phases.find('B') != std::string::npos;
  const bool want_c = args.phases.find('C') != std::string::npos;
  if ((want_a || want_b) && !g_stop.load()) {
    std::vector<std::shared_ptr<Client>> clients;
    connect_clients(io, bench, args.clients, false, clients);
    std::printf("\n%d clients connected (health: %llu ws_clients); starting %d sim nodes at one sample per %.2f s\n",
                args.clients, static_cast<unsigned long long>(health(http_port).ws_clients), args.nodes, args.interval);
    std::fflush(stdout);
    ChildProcess sim = start_sim(dir, broker.port(), "sim-", args.nodes, args.interval, std::nullopt, 200, true, "sim.log");
    wait_born(http_port, "sim-", args.nodes, args.warmup);
    const auto reading = static_cast<std::size_t>(args.clients);
    std::optional<std::pair<Window, Cpu>> a;
    if (want_a && !g_stop.load()) {
      a = measure(args, io, bench, dir, broker.port(), gateway.pid(), broker.process().pid(), sim.pid(), 'a', 1, reading);
      char title[160];
      std::snprintf(title, sizeof title, "\nA: %d clients reading, %d nodes", args.clients, args.nodes);
      print_window(title, a->first, a->second, reading);
    }
    if (want_b && !g_stop.load()) {
      std::vector<std::shared_ptr<Client>> silent;
      try {
        connect_clients(io, bench, 1, true, silent);
      } catch (const std::exception& e) {
        std::printf("\nB skipped: the client that would stop reading could not even connect (%s): the gateway is not "
                    "answering handshakes\n", e.what());
        stop_sim(sim);
        throw std::runtime_error("gateway unresponsive at this size; see A above");
      }
      const std::uint16_t silent_port = silent.front()->local_port;
      // Until the gateway's socket to the silent client stops taking bytes (its send buffer and
      // the client's receive buffer are full), then 2 s more: by then the gateway's per-client
      // queue (256 frames) has overflowed at least once at this frame rate.
      const auto fill_start = std::chrono::steady_clock::now();
      TcpQueues q = tcp_queues(http_port, silent_port);
      auto last_change = fill_start;
      while (!g_stop.load() && std::chrono::steady_clock::now() - fill_start < ms(args.fill_seconds)) {
        nap(200ms);
        const TcpQueues now = tcp_queues(http_port, silent_port);
        if (now.tx != q.tx) last_change = std::chrono::steady_clock::now();
        q = now;
        if (q.tx > 0 && std::chrono::steady_clock::now() - last_change > 1s) break;
      }
      const TcpQueues client_side = tcp_queues(silent_port, http_port);
      std::printf("\nsilent client: gateway send queue %llu B, client receive queue %llu B after %.1f s (stable for 1 s); "
                  "2 s more before measuring\n",
                  static_cast<unsigned long long>(q.tx), static_cast<unsigned long long>(client_side.rx),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count());
      std::fflush(stdout);
      nap(2s);
      auto b = measure(args, io, bench, dir, broker.port(), gateway.pid(), broker.process().pid(), sim.pid(), 'b', 2, reading);
      const TcpQueues after = tcp_queues(http_port, silent_port);
      char title[200];
      std::snprintf(title, sizeof title, "\nB: %d clients reading + 1 that never reads, %d nodes (the figures are the "
                    "readers'; silent client: gateway send queue %llu B at the end, connection %s)",
                    args.clients, args.nodes, static_cast<unsigned long long>(after.tx),
                    after.found ? "still open" : "gone");
      print_window(title, b.first, b.second, reading);
      if (a) {
        std::printf("\nDid the readers' p99 move with one client not reading? (printed, not asserted)\n");
        compare("urgent publish -> client p99", a->first.urgent.pct(99), b.first.urgent.pct(99));
        compare("raw sample -> client p99", a->first.raw.pct(99), b.first.raw.pct(99));
        compare("fan-out spread p99", a->first.spread.pct(99), b.first.spread.pct(99));
        const int ca = static_cast<int>(a->first.resyncs);
        const int cb = static_cast<int>(b.first.resyncs);
        std::printf("  resyncs among the readers: A %d, B %d\n", ca, cb);
      }
    }
    stop_sim(sim);
    on_io(io, [&] {
      bench.close_all();
      return 0;
    });
    clients.clear();
  }

  if (want_c && !g_stop.load()) {
    nap(1s);  // the previous clients detached
    std::vector<std::shared_ptr<Client>> clients;
    connect_clients(io, bench, args.latency_clients, false, clients);
    const bool replay = args.load_publisher == "replay";
    const double interval = static_cast<double>(args.load_nodes) / args.load_rate;
    if (replay) {
      std::printf("\nC: publish -> WebSocket at a fixed ingest rate: sparkplug_replay, %d load nodes, %.0f msg/s offered "
                  "in aggregate (a real agent's traffic), %d clients\n",
                  args.load_nodes, args.load_rate, args.latency_clients);
    } else {
      std::printf("\nC: publish -> WebSocket at a fixed ingest rate: %d load nodes at one sample per %.3f s (%.0f msg/s "
                  "offered), %d clients\n",
                  args.load_nodes, interval, args.load_rate, args.latency_clients);
    }
    std::fflush(stdout);
    ChildProcess load = replay ? start_replay(dir, broker.port(), capture, "load-", args.load_nodes, args.load_rate, "load.log")
                               : start_sim(dir, broker.port(), "load-", args.load_nodes, interval, std::nullopt, 200, true,
                                           "load.log");
    wait_born(http_port, "load-", args.load_nodes, args.warmup);
    std::unique_ptr<HistoryClient> history;
    if (!history_series.empty()) {
      history = std::make_unique<HistoryClient>(http_port, history_series,
                                                history_kinds(http_port, history_series.front(), args.history_days));
    }
    // One window of C: its figures, the gateway's accepted rate; the history client runs in it if given.
    // Each window's probes get fresh node ids (phase letter c, then d): a node's first appearance
    // is what the urgent figures time.
    const auto window = [&](int id, char phase, HistoryClient* h, const char* what) {
      const Health h0 = health(http_port);
      const auto t0 = std::chrono::steady_clock::now();
      auto c = measure(args, io, bench, dir, broker.port(), gateway.pid(), broker.process().pid(), load.pid(), phase, id,
                       static_cast<std::size_t>(args.latency_clients), [h] { if (h) h->start(); },
                       [h] { if (h) h->stop(); });
      const Health h1 = health(http_port);
      const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!gateway.running()) {
        const std::string log = gateway.log();
        throw std::runtime_error("the gateway exited during window " + std::to_string(id) + "; the end of its log:\n" +
                                 log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
      }
      char title[300];
      std::snprintf(title, sizeof title, "\nC%s: gateway accepted %.0f msg/s during the window (incl. probes; %.1f s)", what,
                    static_cast<double>(h1.accepted >= h0.accepted ? h1.accepted - h0.accepted : 0) / took, took);
      print_window(title, c.first, c.second, static_cast<std::size_t>(args.latency_clients));
      return c;
    };
    std::optional<std::pair<Window, Cpu>> quiet;
    if (history && args.history_baseline && !g_stop.load()) quiet = window(3, 'c', nullptr, " (no history client)");
    if (!g_stop.load()) {
      auto c = window(4, 'd', history.get(), history ? " (with the history client)" : "");
      if (history) history->print();
      std::printf("  publish -> WebSocket p99 (urgent frames; issue goal <= 20 ms): %.1f ms%s\n", c.first.urgent.pct(99),
                  history ? " while the history client ran" : "");
      if (quiet) {
        std::printf("\nDid publish -> WebSocket move while the history client ran? (A: without it, B: with it; printed, not "
                    "asserted)\n");
        compare("urgent publish -> client p50", quiet->first.urgent.pct(50), c.first.urgent.pct(50));
        compare("urgent publish -> client p99", quiet->first.urgent.pct(99), c.first.urgent.pct(99));
        compare("urgent gateway receipt -> client p99", quiet->first.urgent_gw.pct(99), c.first.urgent_gw.pct(99));
        compare("raw sample -> client p99", quiet->first.raw.pct(99), c.first.raw.pct(99));
      }
    }
    if (replay) {
      // The publisher's own report: what it sent and the broker acknowledged.
      if (!load.stop(SIGTERM, 20s)) load.kill_now();
      const std::string log = load.log();
      const auto at = log.rfind("sparkplug_replay: nodes=");
      if (at != std::string::npos) std::printf("  load publisher: %s\n", log.substr(at, log.find('\n', at) - at).c_str());
    } else {
      stop_sim(load);
    }
    on_io(io, [&] {
      bench.close_all();
      return 0;
    });
  }

  gateway.stop(SIGTERM, 10s);
  broker.stop();
  return g_stop.load() ? 130 : 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ws_bench: %s\n", e.what());
  return 1;
}
