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

struct Metric {
  std::string name;              // hierarchical with '/', e.g. "cpu/total", "ping/127.0.0.1/rtt"
  std::string unit;              // "%", "ms", "" ...
  std::optional<double> value;   // nullopt: no value this time (e.g. ping timeout)
  std::int64_t ts_ms = 0;        // wall time of the reading, ms since the epoch
};

enum class MessageKind { kBirth, kData, kDeath, kCommand };
const char* to_topic_word(MessageKind kind);

struct TelemetryMessage {
  MessageKind kind = MessageKind::kData;
  std::int64_t timestamp_ms = 0;
  std::uint64_t seq = 0;     // 0..255, per message
  std::uint64_t bd_seq = 0;  // birth/death sequence
  std::vector<Metric> metrics;
};

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
