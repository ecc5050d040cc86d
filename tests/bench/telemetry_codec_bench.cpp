// Cost and size of the JSON telemetry encoding for the reference shape (4 cores, 2 mounts,
// 2 NICs, 10 ping targets), the baseline the Sparkplug B encoding will be compared against.
#include <benchmark/benchmark.h>

#include "edgemon/common/telemetry_json.h"

namespace {

edgemon::TelemetryMessage reference_message() {
  edgemon::TelemetryMessage msg;
  msg.timestamp_ms = 1'763'700'000'123;
  const std::int64_t ts = msg.timestamp_ms;
  auto add = [&](std::string name, std::string unit, double v) { msg.metrics.push_back({std::move(name), std::move(unit), v, ts}); };
  add("cpu/total", "%", 12.5);
  for (int c = 0; c < 4; ++c) add("cpu/core" + std::to_string(c), "%", 10.0 + c);
  for (const char* m : {"/", "/boot/firmware"}) {
    add(std::string("disk") + m + "/used", "B", 12'345'678'901.0);
    add(std::string("disk") + m + "/free", "B", 98'765'432.0);
  }
  for (const char* n : {"eth0", "wlan0"}) {
    add(std::string("net/") + n + "/rx", "B/s", 12'345.0);
    add(std::string("net/") + n + "/tx", "B/s", 6'789.0);
  }
  for (int t = 0; t < 10; ++t) {
    const std::string host = "127.0.0." + std::to_string(t + 1);
    add("ping/" + host + "/rtt", "ms", 0.05 + t * 0.01);
    add("ping/" + host + "/loss", "%", 0.0);
  }
  return msg;
}

void BM_EncodeJson(benchmark::State& state) {
  const auto msg = reference_message();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = edgemon::encode_json(msg);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes_per_message"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeJson);

void BM_DecodeJson(benchmark::State& state) {
  const std::string payload = edgemon::encode_json(reference_message());
  for (auto _ : state) {
    auto msg = edgemon::decode_json(payload, edgemon::MessageKind::kData);
    benchmark::DoNotOptimize(msg);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_DecodeJson);

}  // namespace
