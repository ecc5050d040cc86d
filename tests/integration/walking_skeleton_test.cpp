// The thinnest real path through the system: /proc/stat -> agent -> mosquitto -> gateway ->
// WebSocket, with every part a real process on loopback and history in a real SQLite file.
#include <sqlite3.h>

#include <csignal>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_fleet.h"
#include "support/ws_client.h"

namespace edgemon::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::optional<double> metric_value(const json& node, const std::string& name) {
  for (const json& m : node.at("metrics")) {
    if (m.at("name") == name && m.at("value").is_number()) return m.at("value").get<double>();
  }
  return std::nullopt;
}

// Reads feed messages until `pred` holds for a node message about `node_id`, or the time is up.
std::optional<json> wait_for_node(WsClient& ws, const std::string& node_id, std::chrono::milliseconds budget,
                                  const std::function<bool(const json&)>& pred) {
  const auto until = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    auto text = ws.read(left);
    if (!text) return std::nullopt;
    const json msg = json::parse(*text);
    if (msg.at("type") == "snapshot") {
      for (const json& n : msg.at("nodes")) {
        if (n.at("id") == node_id && pred(n)) return n;
      }
    } else if (msg.at("type") == "node" && msg.at("node").at("id") == node_id && pred(msg.at("node"))) {
      return msg.at("node");
    }
  }
  return std::nullopt;
}

TEST(WalkingSkeleton, LiveCpuAndPingReachWebSocketAndHistory) {
  TestFleet fleet;
  WsClient ws(fleet.http_port(), "/ws");
  auto first = ws.read(5s);
  ASSERT_TRUE(first) << fleet.logs();
  const json snapshot = json::parse(*first);
  EXPECT_EQ(snapshot.at("type"), "snapshot");
  EXPECT_TRUE(snapshot.at("nodes").empty());

  fleet.start_agent({.node_id = "pi-01", .interval_s = 0.5});
  const auto node = wait_for_node(ws, "pi-01", 10s, [](const json& n) {
    return n.at("online") == true && metric_value(n, "cpu/total") && metric_value(n, "ping/127.0.0.1/rtt");
  });
  ASSERT_TRUE(node) << "no CPU + ping values over the WebSocket within 10 s\n" << fleet.logs();
  const double cpu = *metric_value(*node, "cpu/total");
  EXPECT_GE(cpu, 0.0);
  EXPECT_LE(cpu, 100.0);
  const double rtt = *metric_value(*node, "ping/127.0.0.1/rtt");
  EXPECT_GT(rtt, 0.0);
  EXPECT_LT(rtt, 1000.0);
  EXPECT_EQ(node->at("group"), "edgemon");

  // Values keep flowing: a later message carries a newer sample. (Not cpu/total: report by
  // exception rightly does not resend an unchanged value, e.g. 100 % on a loaded machine.)
  auto ts_of = [](const json& n) {
    for (const json& m : n.at("metrics")) {
      if (m.at("name") == "agent/sample_seq") return m.at("ts").get<std::int64_t>();
    }
    return std::int64_t{0};
  };
  const std::int64_t t0 = ts_of(*node);
  const auto later = wait_for_node(ws, "pi-01", 5s, [&](const json& n) { return ts_of(n) > t0; });
  ASSERT_TRUE(later) << fleet.logs();

  // The same samples are in the gateway's SQLite history.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(fleet.database().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM sample_blocks b JOIN nodes n ON n.id = b.node_id "
                               "JOIN series r ON r.node_id = n.id WHERE n.node = 'pi-01' AND r.metric = 'cpu/total'",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_GE(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);

  // And through the API, as uPlot columns: [[seconds...], [avg...], ...] of the raw samples.
  int status = 0;
  const json history = json::parse(
      http_get(fleet.http_port(), "/api/history?node=edgemon%2Fpi-01&metric=ping/127.0.0.1/rtt&step=0", &status));
  ASSERT_EQ(status, 200) << history.dump();
  EXPECT_EQ(history.at("resolution"), "raw");
  const json& data = history.at("data");
  ASSERT_GE(data.at(0).size(), 1u) << history.dump();
  EXPECT_EQ(data.at(0).size(), data.at(1).size());
  EXPECT_GT(data.at(1).at(0).get<double>(), 0.0);
  http_get(fleet.http_port(), "/api/history?node=pi-01&metric=x", &status);
  EXPECT_EQ(status, 400);

  // Daily reports (none yet: no day is complete) as JSON and as a CSV download.
  const json reports = json::parse(http_get(fleet.http_port(), "/api/reports", &status));
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(reports.at("reports").is_array());
  const std::string csv = http_get(fleet.http_port(), "/api/reports?format=csv", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(csv.rfind("day,subject,kind,uptime_pct,grade,sla_met,", 0), 0u) << csv;
  http_get(fleet.http_port(), "/api/reports?from=2023-02-30", &status);
  EXPECT_EQ(status, 400);

  // Prometheus metrics of the live gateway pass `promtool check metrics` without a remark.
  const std::string metrics = http_get(fleet.http_port(), "/metrics", &status);
  ASSERT_EQ(status, 200);
  EXPECT_NE(metrics.find("edgemon_node_up{group=\"edgemon\",node=\"pi-01\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("edgemon_target_up{group=\"edgemon\",node=\"pi-01\",family=\"ping\",target=\"127.0.0.1\"}"),
            std::string::npos)
      << metrics;
  if (std::string(EDGEMON_PROMTOOL).empty()) GTEST_SKIP() << "promtool not found: run .ci/deps";
  write_file(fleet.dir().file("metrics.txt"), metrics);
  const auto check = run_command(
      {"sh", "-c", std::string("exec '") + EDGEMON_PROMTOOL + "' check metrics < '" + fleet.dir().file("metrics.txt") + "'"}, 30s);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool remarks";
}

// The dashboard's view (docs/protocol.md, "Views"): cards for the overview, the watched node in full.
TEST(WalkingSkeleton, CardViewSendsCardsAndTheWatchedNodeInFull) {
  TestFleet fleet;
  EXPECT_EQ(ws_handshake_status(fleet.http_port(), "/ws?view=cards", "", {}, true), 400) << "unknown view";
  WsClient full(fleet.http_port(), "/ws");
  WsClient cards(fleet.http_port(), "/ws?view=card");
  ASSERT_TRUE(full.read(5s));
  ASSERT_TRUE(cards.read(5s));
  fleet.start_agent({.node_id = "pi-01", .interval_s = 0.5});
  const auto names = [](const json& n) {
    std::set<std::string> out;
    for (const json& m : n.at("metrics")) out.insert(m.at("name").get<std::string>());
    return out;
  };
  const auto whole = wait_for_node(full, "pi-01", 10s, [](const json& n) {
    return metric_value(n, "cpu/total") && metric_value(n, "ping/127.0.0.1/rtt") && metric_value(n, "agent/sample_seq");
  });
  ASSERT_TRUE(whole) << fleet.logs();
  EXPECT_FALSE(whole->contains("view"));
  EXPECT_TRUE(whole->contains("targets"));
  const auto card = wait_for_node(cards, "pi-01", 10s, [](const json& n) {
    return metric_value(n, "cpu/total") && metric_value(n, "ping/127.0.0.1/rtt");
  });
  ASSERT_TRUE(card) << fleet.logs();
  EXPECT_EQ(card->at("view"), "card");
  EXPECT_FALSE(card->contains("targets"));
  EXPECT_EQ(card->at("status"), whole->at("status"));
  for (const std::string& n : names(*card)) {
    EXPECT_TRUE(n == "cpu/total" || n == "agent/name" || n.rfind("ping/", 0) == 0) << n;
  }
  EXPECT_GT(names(*whole).size(), 3 * names(*card).size()) << "a card is a fraction of the document";

  // Watching the node: its full document at once, then its frames in full.
  ASSERT_TRUE(cards.send(R"({"type":"watch","nodes":["edgemon/pi-01"]})"));
  std::optional<json> detail;
  for (int i = 0; i < 100 && !detail; ++i) {
    const auto text = cards.read(5s);
    ASSERT_TRUE(text) << fleet.logs();
    const json msg = json::parse(*text);
    if (msg.at("type") == "detail") detail = msg.at("node");
  }
  ASSERT_TRUE(detail);
  EXPECT_FALSE(detail->contains("view"));
  EXPECT_TRUE(metric_value(*detail, "agent/sample_seq"));
  const auto next = wait_for_node(cards, "pi-01", 5s, [](const json&) { return true; });
  ASSERT_TRUE(next) << fleet.logs();
  EXPECT_FALSE(next->contains("view")) << "watched: in full";

  // A bad message gets an error frame; the connection stays.
  ASSERT_TRUE(cards.send(R"({"type":"watch","nodes":"edgemon/pi-01"})"));
  bool error = false;
  for (int i = 0; i < 100 && !error; ++i) {
    const auto text = cards.read(5s);
    ASSERT_TRUE(text) << fleet.logs();
    const json msg = json::parse(*text);
    error = msg.at("type") == "error" && msg.at("error").get<std::string>().find("nodes") != std::string::npos;
  }
  EXPECT_TRUE(error);
  EXPECT_TRUE(cards.read(5s)) << "still open";
  const json health = json::parse(http_get(fleet.http_port(), "/api/health"));
  EXPECT_EQ(health.at("ws").at("bad_messages"), 1);
  EXPECT_EQ(health.at("ws").at("watches"), 1);
}

TEST(WalkingSkeleton, StoppedAgentGoesOfflineAndEverythingExitsCleanly) {
  TestFleet fleet;
  WsClient ws(fleet.http_port(), "/ws");
  fleet.start_agent({.node_id = "pi-02", .interval_s = 0.5});
  ASSERT_TRUE(wait_for_node(ws, "pi-02", 10s, [](const json& n) { return n.at("online") == true; }))
      << fleet.logs();

  const auto agent_status = fleet.agent("pi-02").stop(SIGTERM, 5s);
  ASSERT_TRUE(agent_status) << "agent did not exit on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*agent_status) && WEXITSTATUS(*agent_status) == 0);
  EXPECT_TRUE(wait_for_node(ws, "pi-02", 5s, [](const json& n) { return n.at("online") == false; }))
      << "NDEATH did not mark the node offline\n" << fleet.logs();

  const auto gateway_status = fleet.gateway().stop(SIGTERM, 5s);
  ASSERT_TRUE(gateway_status) << "gateway did not exit on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*gateway_status) && WEXITSTATUS(*gateway_status) == 0) << fleet.logs();
}

TEST(WalkingSkeleton, AgentStartedBeforeBrokerConnectsWhenItAppears) {
  // Paho does not retry a failed first connect by itself; our session must.
  TestFleet fleet;
  WsClient ws(fleet.http_port(), "/ws");
  fleet.broker().stop();
  fleet.start_agent({.node_id = "pi-03", .interval_s = 0.5});
  std::this_thread::sleep_for(1500ms);  // several failed connects
  fleet.broker().restart();
  WsClient ws2(fleet.http_port(), "/ws");  // the gateway reconnects too; use a fresh feed
  EXPECT_TRUE(wait_for_node(ws2, "pi-03", 20s, [](const json& n) { return metric_value(n, "cpu/total").has_value(); }))
      << fleet.logs();
}

}  // namespace
}  // namespace edgemon::test
