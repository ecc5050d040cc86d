#include "edgemon/firmware/node_telemetry.h"

#include <cmath>

namespace edgemon::firmware {

std::uint64_t NodeTelemetry::alias_for(const std::string& name) {
  const auto [it, inserted] = aliases_.emplace(name, next_alias_);
  if (inserted) ++next_alias_;
  return it->second;
}

std::optional<std::uint64_t> NodeTelemetry::alias_of(const std::string& name) const {
  const auto it = born_.find(name);
  if (it == born_.end()) return std::nullopt;
  return it->second.alias;
}

double NodeTelemetry::deadband_for(const std::string& name) const {
  // The longest matching prefix wins.
  double band = policy_.default_deadband;
  std::size_t best = 0;
  for (const auto& [prefix, value] : policy_.deadbands) {
    if (prefix.size() >= best && name.compare(0, prefix.size(), prefix) == 0) {
      band = value;
      best = prefix.size();
    }
  }
  return band;
}

TelemetryMessage NodeTelemetry::make_birth(std::vector<Metric> current, std::int64_t now_ms, std::uint64_t bd_seq,
                                           MonoTime now) {
  born_.clear();
  for (Metric& m : current) {
    m.alias = alias_for(m.name);
    born_[m.name] = Sent{*m.alias, m.value, m.text};
  }
  last_keyframe_ = now;
  TelemetryMessage msg;
  msg.kind = MessageKind::kBirth;
  msg.timestamp_ms = now_ms;
  msg.bd_seq = bd_seq;
  msg.metrics = std::move(current);
  return msg;
}

NodeTelemetry::Data NodeTelemetry::make_data(const std::vector<Metric>& current, std::int64_t now_ms, MonoTime now) {
  Data out;
  out.message.kind = MessageKind::kData;
  out.message.timestamp_ms = now_ms;
  const bool keyframe = now - last_keyframe_ >= policy_.keyframe_every;
  if (keyframe) last_keyframe_ = now;
  for (const Metric& m : current) {
    const auto it = born_.find(m.name);
    if (it == born_.end()) {
      out.needs_rebirth = true;
      out.message.metrics.push_back(m);  // sent by name; still recorded
      continue;
    }
    Sent& sent = it->second;
    bool changed = keyframe;
    if (!changed) {
      if (m.type == MetricType::kString) {
        changed = m.text != sent.text;
      } else if (m.value.has_value() != sent.value.has_value()) {
        changed = true;
      } else if (m.value) {
        const double band = deadband_for(m.name);
        const double delta = std::fabs(*m.value - *sent.value);
        changed = band <= 0.0 ? delta > 0.0 : delta > band;
      }
    }
    if (!changed) continue;
    sent.value = m.value;
    sent.text = m.text;
    out.message.metrics.push_back(m);
  }
  return out;
}

void NodeTelemetry::assign_aliases(std::vector<Metric>& metrics) const {
  for (Metric& m : metrics) {
    const auto it = born_.find(m.name);
    if (it != born_.end()) {
      m.alias = it->second.alias;
    } else {
      m.alias.reset();
    }
  }
}

}  // namespace edgemon::firmware
