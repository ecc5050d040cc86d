// The gateway's history and alert state under abuse, with real processes:
//  * kill -9 in the middle of ingest, 20 times: the database passes PRAGMA integrity_check each
//    time, the gateway takes messages again within 2 s of being restarted, and the firing alert is
//    neither lost (same `since`, one open incident) nor announced again (one webhook notice, one
//    firing event);
//  * disk full (the database on a small tmpfs that the test fills): the gateway keeps running,
//    raises its STORAGE_FAILED alert, keeps relaying live data, and when space returns it writes
//    everything it held: the agent's sample numbers in the database have no gap.
// Needs root for the tmpfs mount; loopback only.
#include <limits>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "notify/receivers.h"
#include "edgemon/gateway/store/store.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

json get_json(std::uint16_t port, const std::string& path) {
  int status = 0;
  const std::string body = http_get(port, path, &status);
  if (status != 200) return json();
  return json::parse(body, nullptr, false);
}

// Rows of a one-column query, as text.
std::vector<std::string> sql(const std::string& db_path, const std::string& query) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return {"cannot open " + db_path};
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    out.push_back(std::string("prepare: ") + sqlite3_errmsg(db));
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.emplace_back(t == nullptr ? "" : reinterpret_cast<const char*>(t));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::uint64_t accepted(std::uint16_t port) {
  const json h = get_json(port, "/api/health");
  return h.is_object() ? h.value("messages_accepted", std::uint64_t{0}) : 0;
}

// Firing webhook notices for one alert type (a resolved notice says "resolved").
std::size_t firing_notices(const std::vector<ReceivedRequest>& requests, const std::string& alert) {
  std::size_t n = 0;
  for (const ReceivedRequest& r : requests) {
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.value("alert", "") == alert && j.value("state", "") == "firing") ++n;
  }
  return n;
}

TEST(GatewayDurability, KillNineTwentyTimesKeepsHistoryAndAlerts) {
  HttpReceiver webhook;
  const std::string config = R"(
[[rules]]
name = "always"
kind = "threshold"
metric = "agent/sample_seq"
op = ">="
threshold = 0
type = "ALWAYS_ON"
severity = "warning"

[notify.webhook]
url = "http://127.0.0.1:)" + std::to_string(webhook.port()) + R"(/hook"
timeout = 5.0
)";
  TestFleet fleet(/*with_gateway=*/true, config);
  fleet.start_agent({.node_id = "dur-1", .interval_s = 0.1, .ping_hosts = {"127.0.0.1"}});
  fleet.start_agent({.node_id = "dur-2", .interval_s = 0.1, .ping_hosts = {"127.0.0.1"}});

  // The alert fires once and is announced once (both nodes: group_by rule,node -> two notices).
  auto first = webhook.wait_for(2, 20s);
  ASSERT_EQ(firing_notices(first, "ALWAYS_ON"), 2u) << fleet.logs();
  json alerts = get_json(fleet.http_port(), "/api/alerts");
  ASSERT_EQ(alerts.size(), 2u) << alerts.dump();
  std::map<std::string, std::int64_t> since;
  for (const json& a : alerts) since[a["subject"]] = a["since"];

  std::vector<double> resume_s;
  std::uint64_t samples_before = 0;
  for (int round = 0; round < 20; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 37 * (round % 7)));  // mid-ingest
    ASSERT_GT(accepted(fleet.http_port()), 0u) << "round " << round << "\n" << fleet.logs();
    fleet.gateway().kill_now();
    ASSERT_EQ(sql(fleet.database(), "PRAGMA integrity_check"), std::vector<std::string>{"ok"}) << "round " << round;
    const auto samples = sql(fleet.database(), "SELECT count(*) FROM sample_blocks");
    ASSERT_EQ(samples.size(), 1u);
    const std::uint64_t samples_now = std::stoull(samples[0]);
    EXPECT_GE(samples_now, samples_before) << "committed history shrank in round " << round;
    samples_before = samples_now;

    const auto restarted = Clock::now();
    fleet.restart_gateway();
    while (accepted(fleet.http_port()) == 0 && Clock::now() - restarted < 10s) std::this_thread::sleep_for(20ms);
    resume_s.push_back(std::chrono::duration<double>(Clock::now() - restarted).count());
    ASSERT_GT(accepted(fleet.http_port()), 0u) << "no ingest after restart " << round << "\n" << fleet.logs();

    alerts = get_json(fleet.http_port(), "/api/alerts");
    ASSERT_EQ(alerts.size(), 2u) << "round " << round << ": " << alerts.dump();
    for (const json& a : alerts) EXPECT_EQ(a["since"], since[a["subject"]]) << "round " << round;
  }
  std::string resumes;
  for (double s : resume_s) resumes += std::to_string(s).substr(0, 5) + " ";
  std::printf("resume after kill -9 (s): %s\n", resumes.c_str());
  for (double s : resume_s) EXPECT_LT(s, 2.0) << resumes;

  // Let a rules tick or two run, then: no second announcement, one firing event, one open incident
  // per subject.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(firing_notices(webhook.wait_for(0, 0ms), "ALWAYS_ON"), 2u);
  fleet.gateway().stop(SIGTERM, 5s);
  for (const auto& [subject, t] : since) {
    EXPECT_EQ(sql(fleet.database(), "SELECT count(*) FROM events WHERE to_state = 'firing' AND subject = '" + subject + "'"),
              std::vector<std::string>{"1"}) << subject;
    EXPECT_EQ(sql(fleet.database(), "SELECT count(*) FROM incidents WHERE end_ms IS NULL AND subject = '" + subject + "'"),
              std::vector<std::string>{"1"}) << subject;
  }
}

// A tmpfs of its own, unmounted by the destructor.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& dir) : dir_(dir) {
    std::filesystem::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=48m,mode=0755") == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  // Writes a file until the disk is full.
  void fill() {
    std::FILE* f = std::fopen((dir_ + "/filler").c_str(), "wb");
    if (f == nullptr) return;
    const std::vector<char> chunk(1 << 16, 'x');
    while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  void free_space() { std::filesystem::remove(dir_ + "/filler"); }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(GatewayDurability, DiskFullRaisesStorageAlertKeepsRelayingAndLosesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir mount_point("edgemon-smalldisk");
  SmallDisk disk(mount_point.file("db"));
  ASSERT_TRUE(disk.mounted()) << "mount tmpfs failed";
  HttpReceiver webhook;
  const std::string db = mount_point.file("db") + "/edgemon.db";
  const std::string config = R"(
[storage]
sqlite_path = ")" + db + R"("

[notify.webhook]
url = "http://127.0.0.1:)" + std::to_string(webhook.port()) + R"(/hook"
timeout = 5.0
)";
  TestFleet fleet(/*with_gateway=*/true, config);
  fleet.start_agent({.node_id = "disk-1", .interval_s = 0.1, .ping_hosts = {"127.0.0.1"}});
  while (accepted(fleet.http_port()) < 20) std::this_thread::sleep_for(50ms);

  disk.fill();
  // Storage fails (a write or a checkpoint needs a page the disk no longer has): health says so and
  // the gateway's own alert fires and is announced.
  const auto filled = Clock::now();
  bool failing = false;
  while (!failing && Clock::now() - filled < 60s) {
    const json h = get_json(fleet.http_port(), "/api/health");
    failing = h.is_object() && !h["storage"]["ok"].get<bool>();
    if (!failing) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(failing) << fleet.logs();
  const auto notices = webhook.wait_for(1, 10s);
  EXPECT_EQ(firing_notices(notices, "STORAGE_FAILED"), 1u) << fleet.logs();
  const json alerts = get_json(fleet.http_port(), "/api/alerts");
  EXPECT_NE(alerts.dump().find("STORAGE_FAILED"), std::string::npos) << alerts.dump();

  // Live relay goes on: the WebSocket keeps bringing the node's new samples.
  {
    WsClient ws(fleet.http_port(), "/ws");
    std::set<double> seqs;
    std::size_t frames = 0;
    const auto until = Clock::now() + 8s;
    while (seqs.size() < 3 && Clock::now() < until) {
      const auto frame = ws.read(3s);
      if (!frame) continue;
      ++frames;
      const json j = json::parse(*frame, nullptr, false);
      const json& node = j.contains("node") ? j["node"] : json();
      if (!node.is_object()) continue;
      for (const json& m : node["metrics"]) {
        if (m["name"] == "agent/sample_seq" && m["value"].is_number()) seqs.insert(m["value"].get<double>());
      }
    }
    EXPECT_GE(seqs.size(), 3u) << "no live updates while the disk is full: " << frames << " frames\n" << fleet.logs();
  }
  EXPECT_TRUE(fleet.gateway().running());
  std::this_thread::sleep_for(2s);  // more samples held in memory only

  disk.free_space();
  bool resumed = false;
  const auto freed = Clock::now();
  while (!resumed && Clock::now() - freed < 30s) {
    const json h = get_json(fleet.http_port(), "/api/health");
    resumed = h.is_object() && h["storage"]["ok"].get<bool>() && h["storage"]["pending_rows"].get<std::uint64_t>() < 500;
    if (!resumed) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(resumed) << fleet.logs();
  const json health = get_json(fleet.http_port(), "/api/health");
  EXPECT_EQ(health["storage"]["dropped_rows"], 0) << health.dump();
  // The resolved notice follows.
  const auto after = webhook.wait_for(2, 10s);
  std::size_t resolved = 0;
  for (const ReceivedRequest& r : after) {
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.value("alert", "") == "STORAGE_FAILED" && j.value("state", "") == "resolved") ++resolved;
  }
  EXPECT_EQ(resolved, 1u);

  // Nothing accepted was lost: every sample number from the first to the last stored is there.
  fleet.agent("disk-1").stop(SIGTERM, 5s);
  fleet.gateway().stop(SIGTERM, 5s);
  // Raw samples are blocks of a node's values (gateway/store/src/sqlite/): read them through the store.
  gateway::SqliteOptions read_only;
  read_only.read_only = true;
  auto store = gateway::open_sqlite_store(db, read_only);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto seqs = (*store)->query("edgemon", "disk-1", "agent/sample_seq", 0, std::numeric_limits<std::int64_t>::max(),
                              1'000'000);
  ASSERT_TRUE(seqs.ok()) << seqs.error().message;
  ASSERT_GT(seqs->size(), 50u);
  std::set<long long> values;
  for (const gateway::SeriesPoint& p : *seqs) {
    if (p.value) values.insert(std::llround(*p.value));
  }
  const long long lo = *values.begin();
  const long long hi = *values.rbegin();
  EXPECT_EQ(static_cast<long long>(values.size()), hi - lo + 1) << "gap in stored samples between " << lo << " and " << hi;
  EXPECT_EQ(sql(db, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

}  // namespace
}  // namespace edgemon::test
