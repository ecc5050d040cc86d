// The telemetry contract: which metric names an agent publishes and how a name splits into a
// typed key. This file and metric_key.cpp are the one place that knows it; everything else (the
// gateway's aggregation, rules, API and store, and the dashboard, whose constants are generated
// from the same table at build time by `edgemon-contract`) asks here.
//
// A name is '/'-separated. Its first segment is the family:
//   probe families  "<family>/<target>/<leaf>"   ping, tcp, http, grpc, dns, tls
//                   e.g. "ping/10.0.0.1/rtt", "http/api.lan/up". The target is one segment (no
//                   '/'); the leaf is the rest. A name with fewer than three segments is not a
//                   probe metric (family kBoard).
//   agent           "agent/<leaf>"               the agent's own metrics ("agent/sample_seq")
//   board           anything else                sensors: "cpu/total", "disk/root/used" ...
// Leaves the table names get a Leaf value; others are Leaf::kOther with their text kept.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace edgemon {

enum class Family : std::uint8_t { kBoard, kAgent, kPing, kTcp, kHttp, kGrpc, kDns, kTls };

enum class Leaf : std::uint8_t {
  kOther,
  kUp,         // 1 when this round/check succeeded, else 0 (raw)
  kState,      // the agent's debounced health: 0 unknown, 1 up, 2 degraded, 3 down
  kRtt,        // round-trip / response time, ms
  kRttMin,
  kRttMax,
  kRttMedian,
  kRttP95,
  kRttStddev,
  kJitter,
  kLoss,       // %
  kSent,
  kReceived,
  kTtl,
  kStatusCode, // HTTP status / gRPC serving status
  kCertDays,   // days until the TLS certificate expires
  kAnswers,    // DNS: answers received
  // The agent's own (family kAgent):
  kSampleSeq,      // "agent/sample_seq": the sample's number, +1 per sample, never reused
  kBufferDropped,  // "agent/buffer/dropped": samples lost to a full ring, total
  kBufferDamaged,  // "agent/buffer/damaged": samples lost to a damaged ring file, total
};

struct LeafSpec {
  Leaf leaf;
  std::string_view name;  // "rtt"
  std::string_view unit;  // "ms", "%", ""
  std::string_view help;
};

struct FamilySpec {
  Family family;
  std::string_view name;  // "ping"; "board" for the board family (no name starts with it)
  bool probe;             // "<family>/<target>/<leaf>"
  std::string_view help;
  std::span<const LeafSpec> leaves;            // probe and agent families: the known leaves
  std::span<const std::string_view> prefixes;  // board: the sensors' first segments ("cpu", ...)
};

// Every family, in enum order.
std::span<const FamilySpec> families();
const FamilySpec& spec(Family family);
std::string_view to_string(Family family);
std::string_view to_string(Leaf leaf);  // "" for kOther
bool is_probe(Family family);
// The probe family named `name` ("ping" -> kPing); false for anything else.
bool probe_family_from(std::string_view name, Family& out);
// The leaf named `name` ("rtt" -> kRtt); kOther for names the table does not have.
Leaf leaf_from(std::string_view name);

// A parse that borrows the name: views into it.
struct MetricParts {
  Family family = Family::kBoard;
  Leaf leaf = Leaf::kOther;
  std::string_view target;     // probe families: "10.0.0.1"; otherwise empty
  std::string_view leaf_name;  // probe: "rtt"; agent: "sample_seq"; board: the whole name
};
MetricParts parse_metric_name(std::string_view name);

// "<family>/<target>/<leaf>".
std::string probe_metric_name(Family family, std::string_view target, std::string_view leaf);

// An owned metric name with its parse, computed once. Copies and moves keep the views right
// (they are offsets into the owned name).
class MetricKey {
 public:
  MetricKey() = default;
  explicit MetricKey(std::string name);

  const std::string& name() const { return name_; }
  Family family() const { return family_; }
  Leaf leaf() const { return leaf_; }
  bool probe() const { return is_probe(family_); }
  // Probe families: the target ("10.0.0.1"); otherwise empty.
  std::string_view target() const { return std::string_view(name_).substr(target_at_, target_len_); }
  // Probe families: "<family>/<target>" (a prefix of the name), the target's id within a node.
  std::string_view target_id() const {
    return probe() ? std::string_view(name_).substr(0, target_at_ + target_len_) : std::string_view();
  }
  std::string_view leaf_name() const { return std::string_view(name_).substr(leaf_at_); }

  friend bool operator==(const MetricKey& a, const MetricKey& b) { return a.name_ == b.name_; }
  friend bool operator<(const MetricKey& a, const MetricKey& b) { return a.name_ < b.name_; }

 private:
  std::string name_;
  Family family_ = Family::kBoard;
  Leaf leaf_ = Leaf::kOther;
  std::uint16_t target_at_ = 0;
  std::uint16_t target_len_ = 0;
  std::uint16_t leaf_at_ = 0;
};

// The dashboard's constants (web/src/generated/contract.ts) from the table above.
std::string contract_typescript();

}  // namespace edgemon
