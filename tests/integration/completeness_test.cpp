// Zero loss, proven end to end with real processes (a private mosquitto, the gateway with SQLite,
// real agents): every sample an agent numbers (agent/sample_seq) is in the gateway's history
// exactly once, or the gateway says exactly which are missing and why (DATA_LOSS events, GET
// /api/nodes/{g}/{n}/samples). docs/protocol.md "Completeness"; ADR 0010.
//  * the gateway stopped (SIGSTOP) for 40 s at 1 Hz: with the confirm window every number is in
//    history; with the window off (buffer.confirm_after = 0) the exact hole is a DATA_LOSS event;
//  * a ring overflow during a broker outage: the event names the overflow count;
//  * a damaged buffer file (truncated, garbage header, garbage records, empty): the agent keeps
//    every intact record, the gateway reports exactly what was lost, no number is reused;
//  * agent restarts (SIGTERM, kill -9, kill -9 during an outage): bdSeq goes up each time, nothing
//    is missing, no false hole.
// Loopback only.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgemon/gateway/store/store.h"
#include "support/sparkplug_host.h"
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

json samples_of(TestFleet& fleet, const std::string& node) {
  return get_json(fleet.http_port(), "/api/nodes/edgemon/" + node + "/samples");
}

std::uint64_t u64(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key].get<std::uint64_t>() : 0;
}

// Waits until `pred` holds (polling every 200 ms) or `timeout` passes.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return pred();
}

// The agent/sample_seq values in the gateway's history for `node` (the gateway may still run: the
// store is opened read-only, as the gateway's own reader does).
std::set<std::uint64_t> stored_seqs(TestFleet& fleet, const std::string& node) {
  gateway::SqliteOptions ro;
  ro.read_only = true;
  auto store = gateway::open_sqlite_store(fleet.database(), ro);
  if (!store) {
    ADD_FAILURE() << store.error().message;
    return {};
  }
  auto points = (*store)->query("edgemon", node, "agent/sample_seq", 0, std::numeric_limits<std::int64_t>::max(), 10'000'000);
  if (!points) {
    ADD_FAILURE() << points.error().message;
    return {};
  }
  std::set<std::uint64_t> out;
  for (const gateway::SeriesPoint& p : *points) {
    if (p.value) out.insert(static_cast<std::uint64_t>(std::llround(*p.value)));
  }
  return out;
}

// The numbers missing from `have` between its smallest and largest, as "a-b" ranges.
std::vector<std::pair<std::uint64_t, std::uint64_t>> holes(const std::set<std::uint64_t>& have) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  if (have.empty()) return out;
  std::uint64_t prev = *have.begin();
  for (std::uint64_t s : have) {
    if (s > prev + 1) out.emplace_back(prev + 1, s - 1);
    prev = s;
  }
  return out;
}

std::string describe(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& h) {
  std::string out;
  for (const auto& [a, b] : h) out += std::to_string(a) + "-" + std::to_string(b) + " ";
  return out.empty() ? "none" : out;
}

// DATA_LOSS events of `node` from /api/events.
std::vector<json> loss_events(TestFleet& fleet, const std::string& node) {
  std::vector<json> out;
  const json events = get_json(fleet.http_port(), "/api/events?limit=1000");
  if (!events.is_array()) return out;
  for (const json& e : events) {
    if (e.value("type", "") == "DATA_LOSS" && e.value("to", "") == "loss" && e.value("subject", "") == "edgemon/" + node) {
      out.push_back(e);
    }
  }
  return out;
}

std::string agent_toml(const std::string& extra_buffer = "") {
  return "[telemetry]\nprimary_host = \"edgemon-gateway\"\n[buffer]\n" + extra_buffer;
}

// Every sample the gateway counts missing for `node` is in a reported loss (the holes settled).
bool all_reported(TestFleet& fleet, const std::string& node) {
  const json j = samples_of(fleet, node);
  std::uint64_t in_events = 0;
  if (j.is_object()) {
    for (const json& l : j["recent_losses"]) in_events += l.value("count", std::uint64_t{0});
  }
  return in_events == u64(j, "missing");
}

// The highest sample number the gateway has received from `node`.
std::uint64_t high(TestFleet& fleet, const std::string& node) { return u64(samples_of(fleet, node), "high"); }

TEST(Completeness, GatewayStoppedFortySecondsLosesNothingWithTheWindowAndReportsTheExactHoleWithout) {
  TestFleet fleet;
  fleet.start_agent({.node_id = "cw-on", .interval_s = 1.0, .config_toml = agent_toml()});
  fleet.start_agent({.node_id = "cw-off", .interval_s = 1.0, .config_toml = agent_toml("confirm_after = 0\n")});
  ASSERT_TRUE(eventually([&] { return high(fleet, "cw-on") >= 4 && high(fleet, "cw-off") >= 4; }, 30s)) << fleet.logs();

  ASSERT_EQ(::kill(fleet.gateway().pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(40s);
  ASSERT_EQ(::kill(fleet.gateway().pid(), SIGCONT), 0);
  const std::uint64_t resumed_on = high(fleet, "cw-on");  // answered once the gateway runs again

  // Both agents catch up; the one without the window has a hole that stays.
  ASSERT_TRUE(eventually([&] { return high(fleet, "cw-on") >= resumed_on + 40 && high(fleet, "cw-off") >= resumed_on + 40; }, 90s))
      << fleet.logs();
  EXPECT_TRUE(eventually([&] { return all_reported(fleet, "cw-off"); }, 70s)) << samples_of(fleet, "cw-off").dump();
  std::this_thread::sleep_for(3s);  // the history writer commits

  // With the window: every number from the first to the last is stored, once.
  const json on = samples_of(fleet, "cw-on");
  EXPECT_EQ(u64(on, "missing"), 0u) << on.dump() << "\n" << fleet.logs();
  EXPECT_GT(u64(on, "duplicates"), 0u) << "the window was expected to replay what the gateway already had: " << on.dump();
  const std::set<std::uint64_t> have_on = stored_seqs(fleet, "cw-on");
  EXPECT_EQ(holes(have_on).size(), 0u) << describe(holes(have_on)) << "\n" << fleet.logs();
  EXPECT_TRUE(loss_events(fleet, "cw-on").empty());

  // Without it: the samples the broker dropped with the gateway's session are missing, and the one
  // DATA_LOSS event names exactly that range.
  const std::set<std::uint64_t> have_off = stored_seqs(fleet, "cw-off");
  const auto lost = holes(have_off);
  ASSERT_EQ(lost.size(), 1u) << describe(lost) << "\n" << fleet.logs();
  const auto [first, last] = lost[0];
  EXPECT_GE(last - first + 1, 5u) << "a 40 s stop at 1 Hz past a 15 s keepalive expiry loses several samples";
  const std::vector<json> events = loss_events(fleet, "cw-off");
  ASSERT_EQ(events.size(), 1u) << get_json(fleet.http_port(), "/api/events?limit=1000").dump();
  const std::string want = "sample_seq " + std::to_string(first) + "-" + std::to_string(last) + " missing (" +
                           std::to_string(last - first + 1) + " samples): not delivered";
  EXPECT_EQ(events[0]["reason"].get<std::string>().rfind(want, 0), 0u) << events[0].dump() << " want " << want;
  const json off = samples_of(fleet, "cw-off");
  EXPECT_EQ(u64(off, "missing"), last - first + 1) << off.dump();
  // The loss rule fired.
  const json alerts = get_json(fleet.http_port(), "/api/alerts");
  bool firing = false;
  for (const json& a : alerts) firing = firing || (a.value("type", "") == "DATA_LOSS" && a.value("node", "") == "edgemon/cw-off");
  EXPECT_TRUE(firing) << alerts.dump();
  // /metrics counts them.
  const std::string metrics = http_get(fleet.http_port(), "/metrics");
  EXPECT_NE(metrics.find("edgemon_samples_missing_total " + std::to_string(last - first + 1)), std::string::npos);
  std::printf("gateway SIGSTOP 40 s at 1 Hz: window on: %zu samples stored, 0 missing, %llu replays dropped; "
              "window off: %llu missing (sample_seq %llu-%llu), reported as DATA_LOSS\n",
              have_on.size(), static_cast<unsigned long long>(u64(on, "duplicates")),
              static_cast<unsigned long long>(last - first + 1), static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(last));
}

TEST(Completeness, RingOverflowIsADataLossEventNamingTheOverflowCount) {
  TestFleet fleet;
  fleet.start_agent({.node_id = "ring-small", .interval_s = 0.05, .config_toml = agent_toml("capacity = 65536\n")});
  ASSERT_TRUE(eventually([&] { return high(fleet, "ring-small") >= 20; }, 30s)) << fleet.logs();
  fleet.broker().stop();
  std::this_thread::sleep_for(20s);  // ~400 samples at 20 Hz: more than 64 KiB of records
  fleet.broker().restart();
  // The holes are reported once they settle (completeness.h): every missing sample is in an event.
  const auto reported = [&] { return u64(samples_of(fleet, "ring-small"), "missing") > 0 && all_reported(fleet, "ring-small"); };
  ASSERT_TRUE(eventually(reported, 90s)) << samples_of(fleet, "ring-small").dump() << fleet.logs();
  std::this_thread::sleep_for(2s);

  const json s = samples_of(fleet, "ring-small");
  const std::set<std::uint64_t> have = stored_seqs(fleet, "ring-small");
  const auto lost = holes(have);
  std::uint64_t lost_total = 0;
  for (const auto& [a, b] : lost) lost_total += b - a + 1;
  EXPECT_EQ(u64(s, "missing"), lost_total) << s.dump() << " history holes " << describe(lost);
  std::uint64_t overflow = 0;
  for (const json& l : s["recent_losses"]) overflow += l.value("overflow", std::uint64_t{0});
  const json node = get_json(fleet.http_port(), "/api/nodes/edgemon/ring-small");
  std::uint64_t dropped = 0;
  for (const json& m : node["metrics"]) {
    if (m["name"] == "agent/buffer/dropped" && m["value"].is_number()) dropped = static_cast<std::uint64_t>(m["value"].get<double>());
  }
  EXPECT_GT(dropped, 0u) << "the ring was expected to overflow";
  // Every missing sample is one the agent dropped, and the events say so — up to the few the broker
  // had acknowledged but not yet passed to the gateway when it stopped: the full ring then evicted
  // them from the confirm window, so nobody had them, and the agent (which counts only what it
  // never sent) cannot say; the gateway reports those as "not delivered". The record in flight
  // when the broker went away may have arrived although the agent counts it: at most one more.
  EXPECT_LE(overflow, lost_total) << s.dump();
  EXPECT_LE(lost_total - overflow, 3u) << s.dump();
  EXPECT_LE(dropped, lost_total + 1) << "dropped " << dropped << ", missing " << lost_total;
  EXPECT_EQ(std::min(dropped, lost_total), overflow) << "the events name what the agent counted: " << s.dump();
  const std::vector<json> events = loss_events(fleet, "ring-small");
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back()["reason"].get<std::string>().find("dropped by the agent's full buffer"), std::string::npos)
      << events.back().dump();
  std::printf("ring overflow: %llu samples missing in history, %llu reported as overflow in DATA_LOSS events, "
              "agent/buffer/dropped = %llu\n",
              static_cast<unsigned long long>(lost_total), static_cast<unsigned long long>(overflow),
              static_cast<unsigned long long>(dropped));
}

TEST(Completeness, AgentRestartsKeepBdSeqGoingAndLoseNothing) {
  TestFleet fleet;
  SparkplugHost watcher(fleet.broker().port(), "bdseq-watcher");
  const AgentOptions options{.node_id = "restarts", .interval_s = 0.2, .config_toml = agent_toml()};
  fleet.start_agent(options);
  ASSERT_TRUE(eventually([&] { return high(fleet, "restarts") >= 10; }, 30s)) << fleet.logs();

  // SIGTERM, kill -9, kill -9 during a broker outage.
  fleet.agent("restarts").stop(SIGTERM, 5s);
  fleet.start_agent(options);
  std::this_thread::sleep_for(3s);
  fleet.agent("restarts").kill_now();
  fleet.start_agent(options);
  std::this_thread::sleep_for(3s);
  fleet.broker().stop();
  std::this_thread::sleep_for(3s);
  fleet.agent("restarts").kill_now();
  fleet.start_agent(options);
  std::this_thread::sleep_for(3s);
  fleet.broker().restart();
  const std::uint64_t before = high(fleet, "restarts");
  ASSERT_TRUE(eventually([&] { return high(fleet, "restarts") >= before + 40; }, 60s)) << fleet.logs();
  std::this_thread::sleep_for(3s);

  const json s = samples_of(fleet, "restarts");
  EXPECT_EQ(u64(s, "missing"), 0u) << s.dump() << "\n" << fleet.logs();
  EXPECT_EQ(u64(s, "losses"), 0u) << "no false hole";
  EXPECT_EQ(u64(s, "resets"), 0u) << "numbers continue across restarts";
  const auto lost = holes(stored_seqs(fleet, "restarts"));
  EXPECT_TRUE(lost.empty()) << describe(lost);
  // bdSeq of the births the watcher saw (the last one before the outage was seen by the broker
  // only as a will): strictly increasing mod 256.
  std::vector<std::uint64_t> births;
  for (const ReceivedMessage& r : watcher.messages()) {
    if (r.topic.node == "restarts" && r.topic.kind == MessageKind::kBirth) births.push_back(r.message.bd_seq);
  }
  ASSERT_GE(births.size(), 3u);
  for (std::size_t i = 1; i < births.size(); ++i) {
    EXPECT_NE(births[i], births[i - 1]) << "bdSeq repeated at birth " << i;
    EXPECT_LT((births[i] + 256 - births[i - 1]) % 256, 8u) << "bdSeq went backwards at birth " << i;
  }
}

// Damages the stopped agent's ring file in one of the ways a crash, a bad SD card or a user can.
enum class Damage { kTruncateHalf, kGarbageHeader, kGarbageRecords, kEmpty };
const char* to_string(Damage d) {
  switch (d) {
    case Damage::kTruncateHalf: return "truncated to half";
    case Damage::kGarbageHeader: return "random bytes over the header";
    case Damage::kGarbageRecords: return "random bytes inside records";
    case Damage::kEmpty: return "empty file";
  }
  return "?";
}

// The agents of this test start with a fresh ring that has not wrapped: records sit from the
// start of the data area (after the 4 KiB header block) up to the last non-zero byte.
void damage(const std::string& path, Damage d, std::mt19937& rng) {
  std::string data;
  {
    std::ifstream f(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(f), {});
  }
  std::size_t used = data.size();
  while (used > 4096 && data[used - 1] == '\0') --used;
  ASSERT_GT(used, 4096u + 2000u) << path << ": too few records to damage";
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  const auto scribble = [&](std::size_t at, std::size_t len) {
    std::string junk(len, '\0');
    for (char& c : junk) c = static_cast<char>(rng() & 0xff);
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), static_cast<off_t>(at)), static_cast<ssize_t>(junk.size()));
  };
  const std::size_t records = used - 4096;
  switch (d) {
    case Damage::kTruncateHalf: ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(4096 + records / 2)), 0); break;
    case Damage::kGarbageHeader: scribble(0, 4096); break;
    // Two places among the records written while the broker was away (the last third).
    case Damage::kGarbageRecords: scribble(4096 + records * 7 / 10, 48); scribble(4096 + records * 9 / 10, 48); break;
    case Damage::kEmpty: ASSERT_EQ(::ftruncate(fd, 0), 0); break;
  }
  ::close(fd);
}

TEST(Completeness, DamagedBufferKeepsIntactRecordsReportsTheExactLossAndNeverReusesANumber) {
  TestFleet fleet;
  const std::vector<Damage> kinds = {Damage::kTruncateHalf, Damage::kGarbageHeader, Damage::kGarbageRecords, Damage::kEmpty};
  std::vector<AgentOptions> agents;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    agents.push_back({.node_id = "damaged-" + std::to_string(i), .interval_s = 0.05, .config_toml = agent_toml()});
    fleet.start_agent(agents.back());
  }
  std::map<std::string, std::uint64_t> delivered;
  for (const AgentOptions& a : agents) {
    ASSERT_TRUE(eventually([&] { return high(fleet, a.node_id) >= 20; }, 30s)) << fleet.logs();
  }
  // Records wait in the rings while the broker is away; then the agents stop and their files are damaged.
  fleet.broker().stop();
  std::this_thread::sleep_for(4s);  // ~80 unsent records each
  std::mt19937 rng(20261208);
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const std::string& id = agents[i].node_id;
    fleet.agent(id).stop(SIGTERM, 5s);
    delivered[id] = high(fleet, id);
    damage(fleet.agent_state_dir(id) + "/buffer.ring", kinds[i], rng);
    fleet.start_agent(agents[i]);
  }
  std::this_thread::sleep_for(1s);
  fleet.broker().restart();
  for (const AgentOptions& a : agents) {
    ASSERT_TRUE(eventually([&] { return high(fleet, a.node_id) >= delivered[a.node_id] + 150; }, 60s)) << fleet.logs();
  }
  std::this_thread::sleep_for(3s);

  for (const AgentOptions& a : agents) {
    EXPECT_TRUE(eventually([&] { return all_reported(fleet, a.node_id); }, 70s)) << samples_of(fleet, a.node_id).dump();
  }
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const std::string& id = agents[i].node_id;
    SCOPED_TRACE(std::string(to_string(kinds[i])) + " (" + id + ")");
    const json s = samples_of(fleet, id);
    EXPECT_EQ(u64(s, "resets"), 0u) << "a sample number was reused: " << s.dump();
    const std::set<std::uint64_t> have = stored_seqs(fleet, id);
    std::uint64_t lost = 0;
    for (const auto& [a, b] : holes(have)) lost += b - a + 1;
    EXPECT_EQ(u64(s, "missing"), lost) << s.dump() << " history holes " << describe(holes(have));
    // The agent's own count of what the damage cost, and the gateway's attribution of the holes.
    const json node = get_json(fleet.http_port(), "/api/nodes/edgemon/" + id);
    std::uint64_t damaged = 0;
    for (const json& m : node["metrics"]) {
      if (m["name"] == "agent/buffer/damaged" && m["value"].is_number()) damaged = static_cast<std::uint64_t>(m["value"].get<double>());
    }
    std::uint64_t attributed = 0;
    for (const json& l : s["recent_losses"]) attributed += l.value("damaged", std::uint64_t{0});
    EXPECT_EQ(attributed, lost) << "every missing sample is one the damage destroyed: " << s.dump();
    EXPECT_GE(damaged, lost) << "the agent counts at least what the gateway misses (it also counts sent ones)";
    if (kinds[i] == Damage::kGarbageHeader) {
      EXPECT_EQ(lost, 0u) << "intact records survive a garbage header";
    } else {
      EXPECT_GT(lost, 0u) << "this damage destroys unsent records";
    }
    std::printf("%s: %llu samples lost (DATA_LOSS), the agent counted %llu records as damaged\n", to_string(kinds[i]),
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(damaged));
  }
}

}  // namespace
}  // namespace edgemon::test
