// The metric model shared by agent and gateway, and the Sparkplug-style topic names.
// Topic: spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|NCMD>/<node>. Group and node ids are 1..64 chars
// of [A-Za-z0-9_.-] so they are safe in topics, file names and URLs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"

namespace edgemon {

// The Sparkplug data types edgemon uses (numbering as in sparkplug_b.proto's DataType).
enum class MetricType : std::uint8_t { kInt64 = 4, kUInt64 = 8, kFloat = 9, kDouble = 10, kBoolean = 11, kString = 12 };
bool metric_type_from_sparkplug(std::uint32_t datatype, MetricType& out);

struct Metric {
  std::string name;              // hierarchical with '/', e.g. "cpu/total", "ping/127.0.0.1/rtt"
  std::string unit;              // "%", "ms", "" ...
  std::optional<double> value;   // numeric and boolean metrics; nullopt: no value this time
  std::int64_t ts_ms = 0;        // wall time of the reading, ms since the epoch
  MetricType type = MetricType::kDouble;
  std::string text;              // the value of kString metrics
  std::optional<std::uint64_t> alias;  // Sparkplug alias, assigned in NBIRTH
  bool historical = false;       // replayed from the agent's buffer, not current
};

inline Metric make_metric(std::string name, std::string unit, std::optional<double> value, std::int64_t ts_ms,
                          MetricType type = MetricType::kDouble) {
  Metric m;
  m.name = std::move(name);
  m.unit = std::move(unit);
  m.value = value;
  m.ts_ms = ts_ms;
  m.type = type;
  return m;
}

enum class MessageKind { kBirth, kData, kDeath, kCommand };
const char* to_topic_word(MessageKind kind);

struct TelemetryMessage {
  MessageKind kind = MessageKind::kData;
  std::int64_t timestamp_ms = 0;
  std::uint64_t seq = 0;     // 0..255, per message (not in NDEATH)
  std::uint64_t bd_seq = 0;  // birth/death sequence (NBIRTH, NDEATH): the "bdSeq" metric
  std::vector<Metric> metrics;
};

// Wire encodings of TelemetryMessage: Sparkplug B protobuf (the default) and JSON (debugging,
// tools that cannot read protobuf). Decoding detects which one a payload is.
enum class Encoding { kSparkplug, kJson };
bool parse_encoding(std::string_view text, Encoding& out);
inline constexpr std::size_t kMaxPayloadBytes = 256 * 1024;
inline constexpr std::size_t kMaxMetrics = 4096;
inline constexpr std::size_t kMaxMetricNameBytes = 200;
inline constexpr std::size_t kMaxUnitBytes = 16;
inline constexpr std::size_t kMaxTextBytes = 64 * 1024;

// Metric names: 1..200 printable ASCII bytes. Units: at most 16 bytes, no control characters.
bool valid_metric_name(std::string_view name);
bool valid_unit(std::string_view unit);

std::string encode(Encoding encoding, const TelemetryMessage& msg);
// Errors: kInvalidArgument with a short reason (also used as the rejection counter's label).
Result<TelemetryMessage> decode(std::string_view payload, MessageKind kind);

struct Topic {
  std::string group;
  MessageKind kind = MessageKind::kData;
  std::string node;
};

inline constexpr std::string_view kTopicNamespace = "spBv1.0";

bool valid_id(std::string_view id);
std::string format_topic(std::string_view group, MessageKind kind, std::string_view node);
// Errors: kInvalidArgument naming what is wrong with the topic.
Result<Topic> parse_topic(std::string_view topic);

}  // namespace edgemon
