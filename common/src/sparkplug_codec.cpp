#include "edgemon/common/sparkplug_codec.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "sparkplug_b.pb-c.h"

namespace edgemon {
namespace {

using PbPayload = Org__Eclipse__Tahu__Protobuf__Payload;
using PbMetric = Org__Eclipse__Tahu__Protobuf__Payload__Metric;
using PbPropertySet = Org__Eclipse__Tahu__Protobuf__Payload__PropertySet;
using PbPropertyValue = Org__Eclipse__Tahu__Protobuf__Payload__PropertyValue;

constexpr const char* kBdSeq = "bdSeq";
constexpr const char* kUnitKey = "engUnit";
constexpr std::uint32_t kDtUInt64 = 8;
constexpr std::uint32_t kDtString = 12;

Error invalid(std::string reason) { return make_error(ErrorCode::kInvalidArgument, std::move(reason)); }

std::uint64_t as_u64(std::int64_t v) { return v < 0 ? 0 : static_cast<std::uint64_t>(v); }

// Per-metric scratch space that must outlive protobuf_c_message_pack().
struct MetricScratch {
  PbMetric metric = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__INIT;
  PbPropertySet props = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_SET__INIT;
  PbPropertyValue unit_value = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__INIT;
  char* key = nullptr;
  PbPropertyValue* value_ptr = nullptr;
};

void fill_value(PbMetric& pm, const Metric& m) {
  if (m.type == MetricType::kString) {
    pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_STRING_VALUE;
    pm.string_value = const_cast<char*>(m.text.c_str());
    return;
  }
  if (!m.value || !std::isfinite(*m.value)) {
    pm.has_is_null = 1;
    pm.is_null = 1;
    return;
  }
  const double v = *m.value;
  switch (m.type) {
    case MetricType::kBoolean:
      pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE;
      pm.boolean_value = v != 0.0;
      break;
    case MetricType::kUInt64:
      pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE;
      pm.long_value = v <= 0 ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : static_cast<std::uint64_t>(v);
      break;
    case MetricType::kInt64:
      // Sparkplug carries signed 64-bit values two's-complement in long_value.
      pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE;
      pm.long_value = static_cast<std::uint64_t>(
          v <= -9223372036854775808.0 ? INT64_MIN : v >= 9223372036854775807.0 ? INT64_MAX : static_cast<std::int64_t>(v));
      break;
    case MetricType::kFloat:
      pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_FLOAT_VALUE;
      pm.float_value = static_cast<float>(v);
      break;
    default:
      pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE;
      pm.double_value = v;
  }
}

// protobuf-c allocates every sub-message, repeated field and string of a payload on its own
// (an NDATA of 60 metrics: about 200 mallocs and frees): a third of the gateway's ingest CPU. The
// unpack here takes them from an arena, one per thread, reused: blocks that are bumped and
// dropped together once the message is decoded. Bounded: blocks beyond kKeep are freed again.
class UnpackArena {
 public:
  static constexpr std::size_t kBlock = 64 * 1024;
  static constexpr std::size_t kKeep = 4;  // blocks kept between messages (256 KiB)

  ProtobufCAllocator* allocator() { return &allocator_; }
  // Forgets everything allocated (the memory stays for the next message).
  void reset() {
    if (blocks_.size() > kKeep) blocks_.resize(kKeep);
    current_ = 0;
    used_ = 0;
  }

 private:
  struct Block {
    std::unique_ptr<unsigned char[]> data;
    std::size_t size = 0;
  };
  static void* alloc(void* self, std::size_t n) { return static_cast<UnpackArena*>(self)->take(n); }
  static void release(void*, void*) {}  // everything goes at reset()

  void* take(std::size_t n) {
    constexpr std::size_t kAlign = alignof(std::max_align_t);
    n = (n + kAlign - 1) / kAlign * kAlign;
    while (current_ < blocks_.size()) {
      Block& b = blocks_[current_];
      if (b.size - used_ >= n) {
        void* p = b.data.get() + used_;
        used_ += n;
        return p;
      }
      ++current_;
      used_ = 0;
    }
    const std::size_t size = std::max(kBlock, n);
    blocks_.push_back(Block{std::make_unique<unsigned char[]>(size), size});
    current_ = blocks_.size() - 1;
    used_ = n;
    return blocks_.back().data.get();
  }

  std::vector<Block> blocks_;
  std::size_t current_ = 0;
  std::size_t used_ = 0;
  ProtobufCAllocator allocator_{&UnpackArena::alloc, &UnpackArena::release, this};
};

// Resets the thread's arena when the decoded payload is no longer needed.
struct ArenaReset {
  UnpackArena& arena;
  ~ArenaReset() { arena.reset(); }
};

Result<std::string> unit_of(const PbMetric& pm) {
  const PbPropertySet* ps = pm.properties;
  if (ps == nullptr) return std::string();
  for (std::size_t i = 0; i < ps->n_keys && i < ps->n_values; ++i) {
    if (ps->keys[i] == nullptr) continue;
    const std::string_view key(ps->keys[i]);
    if (key != kUnitKey && key != "unit") continue;
    const PbPropertyValue* v = ps->values[i];
    if (v == nullptr || v->value_case != ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_STRING_VALUE ||
        v->string_value == nullptr) {
      return invalid("unit property is not a string");
    }
    std::string unit(v->string_value);
    if (!valid_unit(unit)) return invalid("unit invalid");
    return unit;
  }
  return std::string();
}

}  // namespace

std::string encode_sparkplug(const TelemetryMessage& msg) {
  const bool birth = msg.kind == MessageKind::kBirth;
  const bool with_bdseq = birth || msg.kind == MessageKind::kDeath;
  const std::size_t n = msg.metrics.size() + (with_bdseq ? 1 : 0);
  std::vector<MetricScratch> scratch(n);
  std::vector<PbMetric*> ptrs(n);
  char unit_key[] = "engUnit";
  char bdseq_name[] = "bdSeq";

  std::size_t k = 0;
  if (with_bdseq) {
    PbMetric& pm = scratch[k].metric;
    pm.name = bdseq_name;
    pm.has_datatype = 1;
    pm.datatype = kDtUInt64;
    pm.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE;
    pm.long_value = msg.bd_seq;
    ptrs[k] = &pm;
    ++k;
  }
  for (const Metric& m : msg.metrics) {
    MetricScratch& s = scratch[k];
    PbMetric& pm = s.metric;
    if (birth || !m.alias) pm.name = const_cast<char*>(m.name.c_str());
    if (m.alias) {
      pm.has_alias = 1;
      pm.alias = *m.alias;
    }
    // A metric without its own timestamp has the payload's (Sparkplug): omit it when equal.
    if (m.ts_ms != msg.timestamp_ms) {
      pm.has_timestamp = 1;
      pm.timestamp = as_u64(m.ts_ms);
    }
    // Int64 keeps its datatype even with an alias: long_value is unsigned on the wire, and only
    // the datatype tells a receiver to read it as two's complement.
    if (birth || !m.alias || m.type == MetricType::kInt64) {
      pm.has_datatype = 1;
      pm.datatype = static_cast<std::uint32_t>(m.type);
    }
    if (m.historical) {
      pm.has_is_historical = 1;
      pm.is_historical = 1;
    }
    if (birth && !m.unit.empty()) {
      s.unit_value.has_type = 1;
      s.unit_value.type = kDtString;
      s.unit_value.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_STRING_VALUE;
      s.unit_value.string_value = const_cast<char*>(m.unit.c_str());
      s.key = unit_key;
      s.value_ptr = &s.unit_value;
      s.props.n_keys = 1;
      s.props.keys = &s.key;
      s.props.n_values = 1;
      s.props.values = &s.value_ptr;
      pm.properties = &s.props;
    }
    fill_value(pm, m);
    ptrs[k] = &pm;
    ++k;
  }

  PbPayload payload = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__INIT;
  payload.has_timestamp = 1;
  payload.timestamp = as_u64(msg.timestamp_ms);
  if (msg.kind != MessageKind::kDeath) {
    payload.has_seq = 1;
    payload.seq = msg.seq;
  }
  payload.n_metrics = n;
  payload.metrics = ptrs.data();

  std::string out(org__eclipse__tahu__protobuf__payload__get_packed_size(&payload), '\0');
  org__eclipse__tahu__protobuf__payload__pack(&payload, reinterpret_cast<std::uint8_t*>(out.data()));
  return out;
}

Result<TelemetryMessage> decode_sparkplug(std::string_view bytes, MessageKind kind) {
  if (bytes.size() > kMaxPayloadBytes) return invalid("payload too large");
  thread_local UnpackArena arena;
  const ArenaReset done{arena};
  const PbPayload* p = org__eclipse__tahu__protobuf__payload__unpack(arena.allocator(), bytes.size(),
                                                                     reinterpret_cast<const std::uint8_t*>(bytes.data()));
  if (p == nullptr) return invalid("not a Sparkplug B payload");
  if (p->n_metrics > kMaxMetrics + 1) return invalid("too many metrics");

  TelemetryMessage msg;
  msg.kind = kind;
  if (!p->has_timestamp) return invalid("missing timestamp");
  if (p->timestamp > static_cast<std::uint64_t>(INT64_MAX)) return invalid("timestamp out of range");
  msg.timestamp_ms = static_cast<std::int64_t>(p->timestamp);
  if (kind == MessageKind::kBirth || kind == MessageKind::kData) {
    if (!p->has_seq) return invalid("missing seq");
    if (p->seq > 255) return invalid("seq must be 0..255");
    msg.seq = p->seq;
  }
  bool saw_bdseq = false;
  msg.metrics.reserve(p->n_metrics);
  for (std::size_t i = 0; i < p->n_metrics; ++i) {
    const PbMetric* pm = p->metrics[i];
    if (pm == nullptr) return invalid("null metric");
    Metric m;
    if (pm->name != nullptr) {
      m.name = pm->name;
      if (!valid_metric_name(m.name)) return invalid("metric name invalid");
    }
    if (pm->has_alias) m.alias = pm->alias;
    if (m.name.empty() && !m.alias) return invalid("metric without name or alias");
    if (pm->has_datatype) {
      if (!metric_type_from_sparkplug(pm->datatype, m.type)) return invalid("unsupported datatype");
    } else if (kind == MessageKind::kBirth) {
      return invalid("birth metric without datatype");
    }
    if (pm->has_timestamp) {
      if (pm->timestamp > static_cast<std::uint64_t>(INT64_MAX)) return invalid("metric timestamp out of range");
      m.ts_ms = static_cast<std::int64_t>(pm->timestamp);
    } else {
      m.ts_ms = msg.timestamp_ms;
    }
    m.historical = pm->has_is_historical && pm->is_historical;
    auto unit = unit_of(*pm);
    if (!unit) return unit.error();
    m.unit = std::move(*unit);

    const bool is_null = pm->has_is_null && pm->is_null;
    switch (pm->value_case) {
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE__NOT_SET:
        if (!is_null && kind != MessageKind::kCommand) return invalid("metric without value");
        break;
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_INT_VALUE:
        m.value = static_cast<double>(pm->int_value);
        break;
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE:
        m.value = m.type == MetricType::kInt64 ? static_cast<double>(static_cast<std::int64_t>(pm->long_value))
                                               : static_cast<double>(pm->long_value);
        break;
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_FLOAT_VALUE:
        if (!std::isfinite(pm->float_value)) return invalid("value not finite");
        m.value = static_cast<double>(pm->float_value);
        break;
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE:
        if (!std::isfinite(pm->double_value)) return invalid("value not finite");
        m.value = pm->double_value;
        break;
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE:
        m.value = pm->boolean_value ? 1.0 : 0.0;
        if (!pm->has_datatype) m.type = MetricType::kBoolean;
        break;
      case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_STRING_VALUE:
        if (pm->string_value == nullptr) return invalid("null string value");
        m.text = pm->string_value;
        if (m.text.size() > kMaxTextBytes) return invalid("string value too long");
        m.type = MetricType::kString;
        break;
      default:
        return invalid("unsupported value kind");
    }
    if (m.name == kBdSeq) {
      // Read exactly from the integer field: never through a double (precision, and UB for
      // out-of-range values on hostile input).
      if (is_null) return invalid("bdSeq without a value");
      if (pm->value_case == ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE) {
        msg.bd_seq = pm->long_value;
      } else if (pm->value_case == ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_INT_VALUE) {
        msg.bd_seq = pm->int_value;
      } else {
        return invalid("bdSeq is not an integer");
      }
      saw_bdseq = true;
      continue;
    }
    if (is_null) m.value.reset();
    msg.metrics.push_back(std::move(m));
  }
  if ((kind == MessageKind::kBirth || kind == MessageKind::kDeath) && !saw_bdseq) return invalid("missing bdSeq");
  return msg;
}

}  // namespace edgemon
