// Bytes on the wire and codec cost for the reference shape (4 cores, 2 mounts, 2 NICs, 10 ping
// targets), Sparkplug B against compact JSON of the same data, in the same run:
//   - a keyframe: every metric, by alias;
//   - the average NDATA over 10 minutes at 1 Hz with report by exception (deadbands as shipped
//     defaults would set them: 1 % CPU, 1 ms RTT, exact for the rest), values from a fixed seed;
//   - compact JSON: {"ts":…,"cpu/total":12.5,…} — every metric by name each second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "edgemon/common/sparkplug_codec.h"
#include "edgemon/common/telemetry_json.h"
#include "edgemon/firmware/node_telemetry.h"

namespace {

using edgemon::Metric;
using edgemon::MetricType;

struct Shape {
  std::mt19937_64 rng{42};
  double cpu[5] = {12, 10, 11, 13, 14};
  double used[2] = {12'345'678'901.0, 1'234'567.0};
  double rx[2] = {12'345, 345}, tx[2] = {6'789, 123};
  double rtt[10] = {0.41, 0.52, 0.63, 0.74, 0.85, 1.9, 2.1, 2.3, 12.5, 25.0};

  std::vector<Metric> sample(std::int64_t ts) {
    std::normal_distribution<double> n(0, 1);
    std::vector<Metric> m;
    auto add = [&](std::string name, std::string unit, double v, MetricType t = MetricType::kDouble) {
      m.push_back(edgemon::make_metric(std::move(name), std::move(unit), v, ts, t));
    };
    for (int c = 0; c < 5; ++c) {
      cpu[c] = std::clamp(cpu[c] + n(rng) * 2, 0.0, 100.0);
      add(c == 0 ? "cpu/total" : "cpu/core" + std::to_string(c - 1), "%", std::round(cpu[c] * 10) / 10, MetricType::kFloat);
    }
    const char* mounts[2] = {"/", "/boot/firmware"};
    for (int i = 0; i < 2; ++i) {
      if (rng() % 30 == 0) used[i] += 4096;  // a disk changes now and then
      add(std::string("disk") + mounts[i] + "/used", "B", used[i], MetricType::kUInt64);
      add(std::string("disk") + mounts[i] + "/size", "B", 31'000'000'000.0, MetricType::kUInt64);
    }
    const char* nics[2] = {"eth0", "wlan0"};
    for (int i = 0; i < 2; ++i) {
      rx[i] = std::max(0.0, std::round(rx[i] + n(rng) * 200));
      tx[i] = std::max(0.0, std::round(tx[i] + n(rng) * 100));
      add(std::string("net/") + nics[i] + "/rx_rate", "B/s", rx[i], MetricType::kUInt64);
      add(std::string("net/") + nics[i] + "/tx_rate", "B/s", tx[i], MetricType::kUInt64);
    }
    for (int t = 0; t < 10; ++t) {
      const std::string host = "127.0.0." + std::to_string(t + 1);
      add("ping/" + host + "/rtt", "ms", std::round(std::max(0.01, rtt[t] + n(rng) * rtt[t] * 0.1) * 1000) / 1000,
          MetricType::kFloat);
      add("ping/" + host + "/up", "", 1, MetricType::kBoolean);
    }
    return m;
  }
};

std::string compact_json(const std::vector<Metric>& metrics, std::int64_t ts) {
  nlohmann::json j = {{"ts", ts}};
  for (const Metric& m : metrics) j[m.name] = *m.value;
  return j.dump();
}

edgemon::firmware::ReportPolicy policy() {
  edgemon::firmware::ReportPolicy p;
  p.deadbands = {{"cpu/", 1.0}, {"ping/", 1.0}};
  p.keyframe_every = std::chrono::minutes(1);
  return p;
}

void print_wire_sizes() {
  Shape shape;
  edgemon::firmware::NodeTelemetry node(policy());
  edgemon::MonoTime t{};
  std::int64_t ts = 1'763'700'000'000;
  auto birth = node.make_birth(shape.sample(ts), ts, 1, t);
  const std::size_t birth_bytes = edgemon::encode_sparkplug(birth).size();

  // A keyframe: every metric by alias.
  std::vector<Metric> all = shape.sample(ts);
  node.assign_aliases(all);
  edgemon::TelemetryMessage key;
  key.kind = edgemon::MessageKind::kData;
  key.timestamp_ms = ts;
  key.seq = 1;
  key.metrics = all;
  const std::size_t keyframe = edgemon::encode_sparkplug(key).size();
  const std::size_t keyframe_json = compact_json(all, ts).size();

  std::size_t spb_total = 0, json_total = 0, messages = 0;
  for (int s = 0; s < 600; ++s) {
    t += std::chrono::seconds(1);
    ts += 1000;
    std::vector<Metric> now = shape.sample(ts);
    json_total += compact_json(now, ts).size();
    auto data = node.make_data(now, ts, t);
    if (data.message.metrics.empty()) continue;
    node.assign_aliases(data.message.metrics);
    data.message.seq = static_cast<std::uint64_t>(s % 256);
    spb_total += edgemon::encode_sparkplug(data.message).size();
    ++messages;
  }
  std::printf("reference shape: %zu metrics; NBIRTH %zu B (once per session)\n", all.size(), birth_bytes);
  std::printf("keyframe:         Sparkplug %zu B vs compact JSON %zu B -> %.2fx\n", keyframe, keyframe_json,
              static_cast<double>(keyframe) / static_cast<double>(keyframe_json));
  std::printf("10 min at 1 Hz:   Sparkplug %.0f B/sample (report by exception, %zu messages) vs compact JSON %.0f B/sample -> %.2fx\n",
              static_cast<double>(spb_total) / 600.0, messages, static_cast<double>(json_total) / 600.0,
              static_cast<double>(spb_total) / static_cast<double>(json_total));
}

edgemon::TelemetryMessage reference_message() {
  Shape shape;
  edgemon::TelemetryMessage msg;
  msg.timestamp_ms = 1'763'700'000'123;
  msg.metrics = shape.sample(msg.timestamp_ms);
  return msg;
}

void BM_EncodeSparkplug(benchmark::State& state) {
  const auto msg = reference_message();
  for (auto _ : state) benchmark::DoNotOptimize(edgemon::encode_sparkplug(msg));
}
BENCHMARK(BM_EncodeSparkplug);

void BM_DecodeSparkplug(benchmark::State& state) {
  const std::string payload = edgemon::encode_sparkplug(reference_message());
  for (auto _ : state) benchmark::DoNotOptimize(edgemon::decode_sparkplug(payload, edgemon::MessageKind::kData));
}
BENCHMARK(BM_DecodeSparkplug);

void BM_EncodeJson(benchmark::State& state) {
  const auto msg = reference_message();
  for (auto _ : state) benchmark::DoNotOptimize(edgemon::encode_json(msg));
}
BENCHMARK(BM_EncodeJson);

void BM_DecodeJson(benchmark::State& state) {
  const std::string payload = edgemon::encode_json(reference_message());
  for (auto _ : state) benchmark::DoNotOptimize(edgemon::decode_json(payload, edgemon::MessageKind::kData));
}
BENCHMARK(BM_DecodeJson);

}  // namespace

int main(int argc, char** argv) {
  print_wire_sizes();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
