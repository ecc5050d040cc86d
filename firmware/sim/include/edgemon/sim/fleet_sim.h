// FleetSimulator: N virtual Sparkplug edge nodes in one process (edgemon-sim, docs/simulator.md).
//
// Every node is an honest edge node on the wire: its own MQTT session (client id
// "edgemon-sim-<group>-<node>") whose will is its NDEATH with the session's bdSeq, NBIRTH with
// seq 0 after connect once the primary host's STATE says online, NDATA by report by exception
// (firmware::NodeTelemetry, the agent's own logic) with seq 1..255, 0, ..., a rebirth on
// NCMD "Node Control/Rebirth", and an explicit NDEATH on a clean stop.
//
// Each node owns a board::sim::SimulatedBoard built from the scenario with seed = scenario seed
// (or --seed) + node index, driven by its own virtual clock that advances by exactly one interval
// per sample. Sample 0 is taken when the node is first ready to send (connected, host online), so
// the same seed gives the same values in the same order on every run, however long connecting
// took. Scenario times are seconds since that first sample.
//
// A heartbeat loss in the scenario ends the node's session with MQTT 5 "disconnect with will
// message": the broker publishes the node's NDEATH exactly as if the board had died. The node
// keeps sampling silently and reconnects (next bdSeq, fresh NBIRTH) when the heartbeat returns.
//
// Threading: one driver thread (run()) samples, publishes and connects; Paho's own threads (two
// for the whole process, shared by all clients) only set per-node flags.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgemon/board/sim/simulated_board.h"
#include "edgemon/common/result.h"
#include "edgemon/common/telemetry.h"

namespace edgemon::sim {

// A plausible board when no scenario file is given: CPU, memory, latency, error rate with noise,
// no spikes, no heartbeat loss.
board::sim::Scenario default_scenario();

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  int nodes = 10;
  std::string group = "edgemon";
  std::string prefix = "sim-";       // node ids: <prefix>0001 ... (zero-padded to the width of N)
  double interval_s = 1.0;
  board::sim::Scenario scenario = default_scenario();
  std::map<int, board::sim::Scenario> node_scenarios;  // node index -> its own scenario (--node-scenario)
  std::optional<std::uint64_t> seed;  // node i uses (seed, else its scenario's seed) + i
  double duration_s = 0;             // 0: until stopped
  std::string username;
  std::string password;
  std::string primary_host;          // "": do not wait for a primary host's STATE
  Encoding encoding = Encoding::kSparkplug;
  int keepalive_s = 10;
  double deadband = 0.0;             // absolute, for every metric (0: any change is reported)
  double keyframe_s = 60.0;          // full NDATA every this many seconds of board time
  int connects_per_tick = 50;        // connect attempts started per driver turn (a connect storm)
  double reconnect_max_s = 5.0;      // reconnect backoff cap (0.5 s doubling)
};

struct SimStats {
  std::uint64_t births = 0;
  std::uint64_t data = 0;
  std::uint64_t deaths_explicit = 0;   // NDEATH published by the simulator (clean stop)
  std::uint64_t deaths_by_will = 0;    // sessions ended so that the broker publishes the will
  std::uint64_t publish_failures = 0;
  std::uint64_t connects = 0;
  std::uint64_t connection_losses = 0;
  std::uint64_t rebirth_requests = 0;
  std::uint64_t samples = 0;
  std::uint64_t bytes = 0;
  int nodes_born = 0;                  // nodes currently born (at the end: before the stop)
  double elapsed_s = 0;
  std::uint64_t messages() const { return births + data + deaths_explicit; }
};

class FleetSimulator {
 public:
  explicit FleetSimulator(SimOptions options);
  ~FleetSimulator();
  FleetSimulator(const FleetSimulator&) = delete;
  FleetSimulator& operator=(const FleetSimulator&) = delete;

  // Runs until `stop` becomes true or the duration passes; then publishes an explicit NDEATH for
  // every connected node and disconnects. Errors: kInvalidArgument (bad ids, client creation).
  Result<SimStats> run(const std::atomic<bool>& stop);

  static std::string node_id(const SimOptions& options, int index);

 private:
  struct Node;
  SimOptions options_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// "edgemon-sim: 20 nodes, 5.0 s: 120 messages (20 NBIRTH, 100 NDATA, 0 NDEATH, 0 wills), 24.0 msg/s, ..."
std::string summary_line(const SimOptions& options, const SimStats& stats);

}  // namespace edgemon::sim
