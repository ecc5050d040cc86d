// edgemon-sim with real processes: a private mosquitto, a real edgemon-gateway (the primary host)
// and the simulator binary. The gateway sees every virtual node online with metrics; a heartbeat
// loss in one node's scenario ends its session so the broker publishes its will (NDEATH) and the
// node comes back with the next bdSeq; the same seed gives the same births and data twice.
#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/sparkplug_host.h"
#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::vector<std::string> sim_argv(std::uint16_t port, int nodes, std::vector<std::string> extra) {
  std::vector<std::string> argv = {EDGEMON_SIM_BIN, "--broker", "127.0.0.1", "--port", std::to_string(port),
                                   "--nodes", std::to_string(nodes), "--reconnect-max", "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

json get_nodes(std::uint16_t http_port) {
  int status = 0;
  const std::string body = http_get(http_port, "/api/nodes", &status);
  if (status != 200) return json::array();
  auto j = json::parse(body, nullptr, false);
  return j.is_array() ? j : json::array();
}

// Node id -> (online, number of metrics with a value).
std::map<std::string, std::pair<bool, int>> node_view(const json& nodes) {
  std::map<std::string, std::pair<bool, int>> out;
  for (const json& n : nodes) {
    int valued = 0;
    for (const json& m : n.value("metrics", json::array())) valued += m.contains("value") && m["value"].is_number() ? 1 : 0;
    out[n.value("id", "")] = {n.value("online", false), valued};
  }
  return out;
}

TEST(FleetSimulator, TwentyNodesOnlineAtTheGatewayWithMetrics) {
  TestFleet fleet;
  ChildProcess sim = ChildProcess::start(
      sim_argv(fleet.broker().port(), 20, {"--interval", "0.5", "--duration", "60", "--primary-host", "edgemon-gateway",
                                           "--scenario", std::string(EDGEMON_SCENARIO_DIR) + "/demo.toml"}),
      fleet.dir().file("sim.log"));
  std::map<std::string, std::pair<bool, int>> view;
  const bool all_online = poll_until([&] {
    view = node_view(get_nodes(fleet.http_port()));
    int ok = 0;
    for (const auto& [id, v] : view) ok += (id.rfind("sim-", 0) == 0 && v.first && v.second >= 4) ? 1 : 0;
    return ok == 20;
  }, 20s);
  ASSERT_TRUE(all_online) << get_nodes(fleet.http_port()).dump() << "\n" << fleet.logs() << "--- sim\n" << sim.log();
  for (int i = 0; i < 20; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "sim-%03d", i);
    EXPECT_TRUE(view.count(id)) << id;
  }
  // Data keeps flowing without sequence gaps (the gateway would ask for rebirths).
  std::this_thread::sleep_for(2s);
  const json health = json::parse(http_get(fleet.http_port(), "/api/health"), nullptr, false);
  EXPECT_EQ(health.value("sequence_gaps", -1), 0) << health.dump();
  EXPECT_EQ(health.value("messages_rejected", -1), 0) << health.dump();

  // SIGTERM: an explicit NDEATH per node, a summary line, exit 0.
  const auto status = sim.stop(SIGTERM, 10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << sim.log();
  EXPECT_NE(sim.log().find("edgemon-sim: 20 nodes"), std::string::npos) << sim.log();
  EXPECT_NE(sim.log().find(" 20 NDEATH"), std::string::npos) << sim.log();
  const bool all_offline = poll_until([&] {
    view = node_view(get_nodes(fleet.http_port()));
    for (const auto& [id, v] : view) {
      if (v.first) return false;
    }
    return view.size() == 20;
  }, 10s);
  EXPECT_TRUE(all_offline) << get_nodes(fleet.http_port()).dump();
}

// The gateway cut off from the fleet is deaf, not a witness of 50 deaths: broker kill -9, nodes
// UNKNOWN while the gateway is disconnected, no node-down or absence alert, all back within 30 s.
TEST(FleetSimulator, BrokerKillMakesNodesUnknownNotDownAndTheyReturn) {
  TestFleet fleet(true, R"(
[[rules]]
name = "node_death"
kind = "node_down"
[[rules]]
name = "silent"
kind = "absence"
for = "5s"
)");
  ChildProcess sim = ChildProcess::start(
      sim_argv(fleet.broker().port(), 50, {"--interval", "0.5", "--duration", "120", "--primary-host", "edgemon-gateway"}),
      fleet.dir().file("sim.log"));
  const auto statuses = [&] {
    std::map<std::string, std::string> out;  // id -> status (reason)
    for (const json& n : get_nodes(fleet.http_port())) {
      out[n.value("id", "")] = n.value("status", "") + " (" + n.value("status_reason", "") + ")";
    }
    return out;
  };
  const auto all = [&](const std::string& prefix) {
    const auto s = statuses();
    if (s.size() != 50) return false;
    for (const auto& [id, st] : s) {
      if (st.rfind(prefix, 0) != 0) return false;
    }
    return true;
  };
  const auto alerts = [&] { return json::parse(http_get(fleet.http_port(), "/api/alerts"), nullptr, false); };
  ASSERT_TRUE(poll_until([&] { return all("HEALTHY"); }, 30s)) << json(statuses()).dump() << fleet.logs() << sim.log();

  fleet.broker().kill();
  ASSERT_TRUE(poll_until([&] { return all("UNKNOWN (gateway disconnected from the broker since "); }, 10s))
      << json(statuses()).dump();
  // Longer than the absence rule's 5 s and the nodes' 10 s staleness: still UNKNOWN, nothing fires.
  std::this_thread::sleep_for(12s);
  EXPECT_TRUE(all("UNKNOWN")) << json(statuses()).dump();
  EXPECT_EQ(alerts(), json::array()) << alerts().dump();

  const auto restarted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
  fleet.broker().restart();
  // Really back: heard from again after the restart, not only no longer UNKNOWN.
  const auto all_heard = [&] {
    const json nodes = get_nodes(fleet.http_port());
    if (nodes.size() != 50) return false;
    for (const json& n : nodes) {
      if (n.value("status", "") != "HEALTHY" || n.value("last_seen", std::int64_t{0}) <= restarted_ms) return false;
    }
    return true;
  };
  EXPECT_TRUE(poll_until(all_heard, 30s)) << get_nodes(fleet.http_port()).dump() << fleet.logs();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(alerts(), json::array()) << "no node-down or absence alert because the gateway was deaf: "
                                      << alerts().dump();
  const json health = json::parse(http_get(fleet.http_port(), "/api/health"), nullptr, false);
  EXPECT_EQ(health.value("mqtt_connected", false), true) << health.dump();
  sim.stop(SIGTERM, 10s);
}

TEST(FleetSimulator, HeartbeatLossFiresTheWillAndTheNodeComesBack) {
  TestFleet fleet;
  SparkplugHost observer(fleet.broker().port(), "observer");  // subscribes only; never online
  ASSERT_TRUE(poll_until([&] { return observer.connected(); }, 10s));
  const std::string lossy = fleet.dir().file("lossy.toml");
  write_file(lossy,
             "seed = 5\n[cpu]\nbaseline = 30.0\nnoise = 2.0\n[heartbeat]\nlosses = [ { at_s = 3, duration_s = 3 } ]\n");
  ChildProcess sim = ChildProcess::start(
      sim_argv(fleet.broker().port(), 5, {"--interval", "0.25", "--duration", "60", "--primary-host",
                                          "edgemon-gateway", "--node-scenario", "3:" + lossy, "--log-level", "info"}),
      fleet.dir().file("sim.log"));
  const auto online = [&](const std::string& id) {
    const auto view = node_view(get_nodes(fleet.http_port()));
    const auto it = view.find(id);
    return it != view.end() && it->second.first;
  };
  ASSERT_TRUE(poll_until([&] {
    const auto view = node_view(get_nodes(fleet.http_port()));
    int n = 0;
    for (const auto& [id, v] : view) n += v.first ? 1 : 0;
    return n == 5;
  }, 20s)) << fleet.logs() << "--- sim\n" << sim.log();
  ASSERT_TRUE(poll_until([&] { return !online("sim-003"); }, 10s)) << "sim-003 never went offline\n" << sim.log();
  EXPECT_TRUE(online("sim-002") && online("sim-004"));
  ASSERT_TRUE(poll_until([&] { return online("sim-003"); }, 10s)) << "sim-003 never came back\n" << sim.log();

  // On the wire: NBIRTH bdSeq 1, the broker-published will NDEATH bdSeq 1, NBIRTH bdSeq 2 seq 0.
  ASSERT_TRUE(observer.wait_for([](const std::vector<ReceivedMessage>& m) {
    int births = 0;
    for (const auto& r : m) births += (r.topic.node == "sim-003" && r.topic.kind == MessageKind::kBirth) ? 1 : 0;
    return births >= 2;
  }, 10s));
  std::vector<std::pair<MessageKind, std::uint64_t>> lifecycle;
  for (const auto& r : observer.messages()) {
    if (r.topic.node != "sim-003" || r.topic.kind == MessageKind::kData) continue;
    lifecycle.emplace_back(r.topic.kind, r.message.bd_seq);
    if (r.topic.kind == MessageKind::kBirth) {
      EXPECT_EQ(r.message.seq, 0u);
    }
  }
  ASSERT_GE(lifecycle.size(), 3u);
  EXPECT_EQ(lifecycle[0], std::make_pair(MessageKind::kBirth, std::uint64_t{1}));
  EXPECT_EQ(lifecycle[1], std::make_pair(MessageKind::kDeath, std::uint64_t{1}));
  EXPECT_EQ(lifecycle[2], std::make_pair(MessageKind::kBirth, std::uint64_t{2}));
  EXPECT_NE(sim.log().find("heartbeat lost"), std::string::npos) << sim.log();
  const auto status = sim.stop(SIGTERM, 10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(sim.log().find(" 1 wills"), std::string::npos) << sim.log();
}

// The NBIRTH metric set and values of every node, and the first NDATA values, for one run.
struct RunRecord {
  std::map<std::string, std::string> births;                 // node -> canonical NBIRTH
  std::map<std::string, std::vector<std::string>> data;      // node -> canonical NDATA (values only)
};

std::string canonical(const TelemetryMessage& m) {
  std::ostringstream out;
  out.precision(17);
  for (const Metric& x : m.metrics) {
    out << x.name << '|' << (x.alias ? static_cast<std::int64_t>(*x.alias) : -1) << '|' << static_cast<int>(x.type)
        << '|' << x.unit << '|';
    if (x.value) out << *x.value; else out << "null";
    out << ';';
  }
  return out.str();
}

RunRecord run_sim(std::uint16_t port, SparkplugHost& host, const TempDir& dir, const std::string& seed,
                  const std::string& name) {
  const std::size_t before = host.messages().size();
  ChildProcess sim = ChildProcess::start(
      sim_argv(port, 4, {"--interval", "0.1", "--duration", "2.5", "--primary-host", "sim-test-host", "--seed", seed,
                         "--scenario", std::string(EDGEMON_SCENARIO_DIR) + "/demo.toml"}),
      dir.file(name + ".log"));
  const auto status = sim.wait(20s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << sim.log();
  std::this_thread::sleep_for(300ms);  // the last deliveries
  auto all = resolve_aliases(host.messages());
  RunRecord rec;
  for (std::size_t i = before; i < all.size(); ++i) {
    const auto& r = all[i];
    if (r.topic.kind == MessageKind::kBirth && !rec.births.count(r.topic.node)) {
      rec.births[r.topic.node] = canonical(r.message);
    } else if (r.topic.kind == MessageKind::kData) {
      rec.data[r.topic.node].push_back(canonical(r.message));
    }
  }
  return rec;
}

TEST(FleetSimulator, SameSeedGivesIdenticalBirthsAndData) {
  TestFleet fleet(/*with_gateway=*/false);
  SparkplugHost host(fleet.broker().port(), "sim-test-host");
  ASSERT_TRUE(poll_until([&] { return host.connected(); }, 10s));
  host.set_online(true);

  const RunRecord a = run_sim(fleet.broker().port(), host, fleet.dir(), "7", "run-a");
  const RunRecord b = run_sim(fleet.broker().port(), host, fleet.dir(), "7", "run-b");
  const RunRecord c = run_sim(fleet.broker().port(), host, fleet.dir(), "8", "run-c");
  ASSERT_EQ(a.births.size(), 4u);
  EXPECT_EQ(a.births, b.births);
  for (const auto& [node, birth] : a.births) {
    EXPECT_NE(birth.find("cpu/total"), std::string::npos) << birth;
    EXPECT_NE(birth.find("service/latency_ms"), std::string::npos) << birth;
    // The data sequences agree for as long as both runs sent data (timing decides only the length).
    const auto& da = a.data.at(node);
    const auto& db = b.data.at(node);
    const std::size_t n = std::min(da.size(), db.size());
    ASSERT_GE(n, 5u) << node;
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(da[i], db[i]) << node << " NDATA #" << i;
  }
  // Another seed: other values (the same metric set).
  EXPECT_NE(a.births, c.births);
}

}  // namespace
}  // namespace edgemon::test
