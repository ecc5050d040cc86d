// history_fill: gives a gateway database a month of history before the gateway starts (ws_bench's
// history client, issue #13: "publish -> WebSocket p99 while another client runs 30-day history
// queries in a loop").
//
//   history_fill --db <state-dir>/edgemon.db [--days 30] [--series 4] [--group edgemon] [--prefix history-]
//
// Series i lives on node <prefix>NN (NN = i / 2 + 1); even i is "ping/127.0.0.1/rtt" (ms, so its
// rollups carry the latency histogram the dashboard's SmokePing-style chart reads), odd i is
// "cpu/total" (%). Each gets two raw samples a minute for --days days up to now through the real
// write path (Store::write), then Store::maintain() rolls them up into minute and hour rows and
// applies the default retention (raw samples older than 7 days go), as the gateway's writer thread
// would have done over the month; so the gateway finds nothing left to do when it starts. Prints
// one "series <group>/<node> <metric>" line per series, then the time it took.
#include "edgemon/gateway/store/store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgemon/common/log.h"

namespace {

using Steady = std::chrono::steady_clock;
constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kDay = 86'400'000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "history_fill: %s\n", what.c_str());
  std::exit(1);
}

void check(const edgemon::Status& s) {
  if (!s) die(s.error().message);
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  int days = 30;
  int series = 4;
  std::string group = "edgemon";
  std::string prefix = "history-";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--db") db = v;
    else if (k == "--days") days = std::atoi(v.c_str());
    else if (k == "--series") series = std::atoi(v.c_str());
    else if (k == "--group") group = v;
    else if (k == "--prefix") prefix = v;
    else die("unknown option " + k + " (--db PATH --days D --series N --group G --prefix P)");
  }
  if (db.empty() || days < 1 || days > 35 || series < 1 || series > 200) {
    die("usage: history_fill --db PATH [--days 1..35] [--series 1..200] [--group G] [--prefix P]");
  }
  edgemon::log::set_level(edgemon::log::Level::kWarn);
  const auto t0 = Steady::now();
  auto opened = edgemon::gateway::open_sqlite_store(db);
  if (!opened) die(opened.error().message);
  auto& store = **opened;

  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t end = now - now % kMin;  // the current minute is left to the gateway
  const std::int64_t start = end - static_cast<std::int64_t>(days) * kDay;
  std::size_t samples = 0;
  for (int s = 0; s < series; ++s) {
    char node[96];
    std::snprintf(node, sizeof node, "%s%02d", prefix.c_str(), s / 2 + 1);
    const bool ping = s % 2 == 0;
    const std::string metric = ping ? "ping/127.0.0.1/rtt" : "cpu/total";
    const std::string unit = ping ? "ms" : "%";
    for (std::int64_t day = start; day < end; day += kDay) {
      edgemon::gateway::WriteBatch b;
      b.samples.push_back(edgemon::gateway::NodeSamples{group, node, {}});
      auto& ms = b.samples[0].metrics;
      for (std::int64_t t = day; t < std::min(end, day + kDay); t += kMin) {
        const std::int64_t m = t / kMin;
        const double v = ping ? 0.2 + static_cast<double>((m * 7919) % 200) / 100.0 : static_cast<double>((m * 31 + s) % 100);
        ms.push_back(edgemon::make_metric(metric, unit, v, t + 1000));
        ms.push_back(edgemon::make_metric(metric, unit, v * 1.5, t + 31000));
      }
      samples += ms.size();
      check(store.write(b));
    }
    std::printf("series %s/%s %s\n", group.c_str(), node, metric.c_str());
  }
  const auto t1 = Steady::now();
  for (int calls = 0; calls < 1'000'000; ++calls) {
    auto r = store.maintain(now);
    if (!r) die(r.error().message);
    if (!r->more) break;
  }
  const auto t2 = Steady::now();
  std::printf("history_fill: %d series x %d days: %zu samples written in %.1f s, rolled up in %.1f s\n", series, days,
              samples, std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
  return 0;
}
