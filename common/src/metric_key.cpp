#include "edgemon/common/metric_key.h"

#include <array>
#include <limits>

namespace edgemon {
namespace {

using L = Leaf;

// Leaves shared by every probe family: the verdict, the debounced state and the time it took.
#define EDGEMON_PROBE_BASE_LEAVES                                                          \
  LeafSpec{L::kUp, "up", "", "1 when this round succeeded, else 0 (raw, per round)"},      \
      LeafSpec{L::kState, "state", "", "debounced health: 0 unknown, 1 up, 2 degraded, 3 down"}

constexpr std::array kPingLeaves = {
    EDGEMON_PROBE_BASE_LEAVES,
    LeafSpec{L::kRtt, "rtt", "ms", "average round-trip time of the round; null when nothing answered"},
    LeafSpec{L::kRttMin, "rtt_min", "ms", "fastest reply of the round"},
    LeafSpec{L::kRttMax, "rtt_max", "ms", "slowest reply of the round"},
    LeafSpec{L::kRttMedian, "rtt_median", "ms", "median reply of the round"},
    LeafSpec{L::kRttP95, "rtt_p95", "ms", "95th percentile reply of the round"},
    LeafSpec{L::kRttStddev, "rtt_stddev", "ms", "standard deviation of the round's replies"},
    LeafSpec{L::kJitter, "jitter", "ms", "mean difference between consecutive replies"},
    LeafSpec{L::kLoss, "loss", "%", "share of echo requests without a reply"},
    LeafSpec{L::kSent, "sent", "", "echo requests sent this round"},
    LeafSpec{L::kReceived, "received", "", "replies received this round"},
    LeafSpec{L::kTtl, "ttl", "", "TTL of the last reply"},
};
constexpr std::array kTcpLeaves = {
    EDGEMON_PROBE_BASE_LEAVES,
    LeafSpec{L::kRtt, "rtt", "ms", "time to complete the TCP handshake"},
};
constexpr std::array kHttpLeaves = {
    EDGEMON_PROBE_BASE_LEAVES,
    LeafSpec{L::kRtt, "rtt", "ms", "time to the full response"},
    LeafSpec{L::kStatusCode, "status_code", "", "HTTP status of the final response"},
    LeafSpec{L::kCertDays, "cert_days", "d", "days until the server certificate expires (https)"},
};
constexpr std::array kGrpcLeaves = {
    EDGEMON_PROBE_BASE_LEAVES,
    LeafSpec{L::kRtt, "rtt", "ms", "time to the health check's answer"},
    LeafSpec{L::kStatusCode, "status_code", "", "grpc.health.v1 status: 1 serving, 2 not serving, 3 unknown"},
};
constexpr std::array kDnsLeaves = {
    EDGEMON_PROBE_BASE_LEAVES,
    LeafSpec{L::kRtt, "rtt", "ms", "resolution time"},
    LeafSpec{L::kAnswers, "answers", "", "records in the answer"},
};
constexpr std::array kTlsLeaves = {
    EDGEMON_PROBE_BASE_LEAVES,
    LeafSpec{L::kRtt, "rtt", "ms", "time to complete the TLS handshake"},
    LeafSpec{L::kCertDays, "cert_days", "d", "days until the certificate expires"},
};
#undef EDGEMON_PROBE_BASE_LEAVES

constexpr std::array kAgentLeaves = {
    LeafSpec{L::kSampleSeq, "sample_seq", "", "the sample's number: +1 per sample, never reused (docs/protocol.md)"},
    LeafSpec{L::kBufferDropped, "buffer/dropped", "", "samples lost because the ring was full, total"},
    LeafSpec{L::kBufferDamaged, "buffer/damaged", "", "samples lost to a damaged ring file, total"},
    LeafSpec{L::kOther, "buffer/records", "", "records waiting in the ring"},
    LeafSpec{L::kOther, "name", "", "display name (agent.name)"},
    LeafSpec{L::kOther, "config/version", "", "version of the remote configuration applied"},
    LeafSpec{L::kOther, "config/status", "", "\"applied\" or \"rejected: why\""},
};

constexpr std::array<std::string_view, 17> kBoardPrefixes = {
    "cpu", "load", "mem", "swap", "disk", "diskio", "net", "thermal", "soc",
    "uptime", "boot", "proc", "throttle", "wifi", "w1", "bme280", "service"};

constexpr std::array<FamilySpec, 8> kFamilies = {{
    {Family::kBoard, "board", false, "the board's own sensors (docs/sensors.md)", {}, kBoardPrefixes},
    {Family::kAgent, "agent", false, "the agent's own state", kAgentLeaves, {}},
    {Family::kPing, "ping", true, "ICMP echo to a target", kPingLeaves, {}},
    {Family::kTcp, "tcp", true, "TCP connect check", kTcpLeaves, {}},
    {Family::kHttp, "http", true, "HTTP(S) check", kHttpLeaves, {}},
    {Family::kGrpc, "grpc", true, "gRPC health check (grpc.health.v1)", kGrpcLeaves, {}},
    {Family::kDns, "dns", true, "DNS query", kDnsLeaves, {}},
    {Family::kTls, "tls", true, "TLS handshake and certificate expiry", kTlsLeaves, {}},
}};

// Leaves by name, over every probe family (a leaf's meaning is the same in each) and the agent family.
constexpr std::array<std::pair<std::string_view, Leaf>, 19> kLeafNames = {{
    {"up", L::kUp},
    {"state", L::kState},
    {"rtt", L::kRtt},
    {"rtt_min", L::kRttMin},
    {"rtt_max", L::kRttMax},
    {"rtt_median", L::kRttMedian},
    {"rtt_p95", L::kRttP95},
    {"rtt_stddev", L::kRttStddev},
    {"jitter", L::kJitter},
    {"loss", L::kLoss},
    {"sent", L::kSent},
    {"received", L::kReceived},
    {"ttl", L::kTtl},
    {"status_code", L::kStatusCode},
    {"cert_days", L::kCertDays},
    {"answers", L::kAnswers},
    {"sample_seq", L::kSampleSeq},
    {"buffer/dropped", L::kBufferDropped},
    {"buffer/damaged", L::kBufferDamaged},
}};

std::string ts_string(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::span<const FamilySpec> families() { return kFamilies; }

const FamilySpec& spec(Family family) { return kFamilies[static_cast<std::size_t>(family)]; }

std::string_view to_string(Family family) { return spec(family).name; }

std::string_view to_string(Leaf leaf) {
  for (const auto& [name, l] : kLeafNames) {
    if (l == leaf) return name;
  }
  return {};
}

bool is_probe(Family family) { return spec(family).probe; }

bool probe_family_from(std::string_view name, Family& out) {
  for (const FamilySpec& f : kFamilies) {
    if (f.probe && f.name == name) {
      out = f.family;
      return true;
    }
  }
  return false;
}

Leaf leaf_from(std::string_view name) {
  for (const auto& [n, leaf] : kLeafNames) {
    if (n == name) return leaf;
  }
  return Leaf::kOther;
}

MetricParts parse_metric_name(std::string_view name) {
  MetricParts p;
  p.leaf_name = name;
  const std::size_t a = name.find('/');
  if (a == std::string_view::npos) return p;
  const std::string_view first = name.substr(0, a);
  if (first == "agent") {
    p.family = Family::kAgent;
    p.leaf_name = name.substr(a + 1);
    p.leaf = leaf_from(p.leaf_name);
    return p;
  }
  Family f = Family::kBoard;
  if (!probe_family_from(first, f)) return p;
  const std::size_t b = name.find('/', a + 1);
  if (b == std::string_view::npos || b == a + 1 || b + 1 >= name.size()) return p;  // no target or no leaf
  p.family = f;
  p.target = name.substr(a + 1, b - a - 1);
  p.leaf_name = name.substr(b + 1);
  p.leaf = leaf_from(p.leaf_name);
  return p;
}

std::string probe_metric_name(Family family, std::string_view target, std::string_view leaf) {
  std::string out;
  const std::string_view f = to_string(family);
  out.reserve(f.size() + target.size() + leaf.size() + 2);
  out.append(f).append("/").append(target).append("/").append(leaf);
  return out;
}

MetricKey::MetricKey(std::string name) : name_(std::move(name)) {
  if (name_.size() > std::numeric_limits<std::uint16_t>::max()) return;  // stays a plain board name
  const MetricParts p = parse_metric_name(name_);
  family_ = p.family;
  leaf_ = p.leaf;
  const auto offset = [this](std::string_view part) {
    return static_cast<std::uint16_t>(part.data() - name_.data());
  };
  if (!p.target.empty()) {
    target_at_ = offset(p.target);
    target_len_ = static_cast<std::uint16_t>(p.target.size());
  }
  leaf_at_ = p.leaf_name.empty() ? static_cast<std::uint16_t>(name_.size()) : offset(p.leaf_name);
}

std::string contract_typescript() {
  std::string out =
      "// Generated by edgemon-contract from common/src/metric_key.cpp (the telemetry contract). Do not edit.\n"
      "export type FamilyName = ";
  for (std::size_t i = 0; i < kFamilies.size(); ++i) out += (i == 0 ? "" : " | ") + ts_string(kFamilies[i].name);
  out += ";\n\nexport interface LeafSpec { name: string; unit: string; help: string }\n"
         "export interface FamilySpec { name: FamilyName; probe: boolean; help: string; leaves: LeafSpec[]; "
         "prefixes: string[] }\n\nexport const FAMILIES: readonly FamilySpec[] = [\n";
  for (const FamilySpec& f : kFamilies) {
    out += "  { name: " + ts_string(f.name) + ", probe: " + (f.probe ? "true" : "false") + ", help: " +
           ts_string(f.help) + ",\n    leaves: [";
    for (const LeafSpec& l : f.leaves) {
      out += "\n      { name: " + ts_string(l.name) + ", unit: " + ts_string(l.unit) + ", help: " + ts_string(l.help) + " },";
    }
    out += f.leaves.empty() ? "],\n" : "\n    ],\n";
    out += "    prefixes: [";
    for (std::size_t i = 0; i < f.prefixes.size(); ++i) out += (i == 0 ? "" : ", ") + ts_string(f.prefixes[i]);
    out += "] },\n";
  }
  out += "];\n\n/** The probe families: metric names \"<family>/<target>/<leaf>\". */\nexport const PROBE_FAMILIES: readonly FamilyName[] = [";
  bool first = true;
  for (const FamilySpec& f : kFamilies) {
    if (!f.probe) continue;
    out += (first ? "" : ", ") + ts_string(f.name);
    first = false;
  }
  out += "];\n";
  return out;
}

}  // namespace edgemon
