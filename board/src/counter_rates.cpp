#include "edgemon/board/counter_rates.h"

#include <cassert>

namespace edgemon::board {

CounterRates::CounterRates(std::string prefix, std::vector<Column> columns, const Clock& clock,
                           std::shared_ptr<const BootEpoch> epoch)
    : prefix_(std::move(prefix)), columns_(std::move(columns)), clock_(clock), epoch_(std::move(epoch)) {
  assert(columns_.size() <= kMaxCounters);
  if (epoch_) generation_ = epoch_->generation;
}

void CounterRates::begin() {
  now_ = clock_.mono();
  dt_s_ = have_last_ ? std::chrono::duration<double>(now_ - last_).count() : 0.0;
  reset_all_ = false;
  if (epoch_ && epoch_->generation != generation_) {
    generation_ = epoch_->generation;
    reset_all_ = true;
  }
  for (Row& r : rows_) r.seen = false;
}

void CounterRates::update(std::string_view key, std::span<const std::uint64_t> counters) {
  assert(counters.size() == columns_.size());
  std::size_t index = 0;
  while (index < rows_.size() && rows_[index].key != key) ++index;
  if (index == rows_.size()) {
    Row row;
    row.key = std::string(key);
    rows_.push_back(std::move(row));
    const std::string base = prefix_ + "/" + sanitize_name(key) + "/";
    for (const Column& c : columns_) values_.push_back(SensorValue{base + c.suffix, c.unit, {}});
  }
  Row& row = rows_[index];
  SensorValue* out = values_.data() + index * columns_.size();
  row.seen = true;
  const bool can_rate = row.primed && !reset_all_ && dt_s_ > 0;
  if (row.primed && !reset_all_ && dt_s_ <= 0) return;  // no time passed: keep the last rates
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const auto delta = can_rate ? counter_delta(row.previous[i], counters[i]) : std::nullopt;
    if (delta) {
      out[i].value = static_cast<double>(*delta) * columns_[i].scale / dt_s_;
    } else {
      out[i].value.reset();
    }
    row.previous[i] = counters[i];
  }
  row.primed = true;
}

void CounterRates::end() {
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    if (rows_[r].seen) continue;
    rows_[r].primed = false;
    for (std::size_t i = 0; i < columns_.size(); ++i) values_[r * columns_.size() + i].value.reset();
  }
  last_ = now_;
  have_last_ = true;
}

}  // namespace edgemon::board
