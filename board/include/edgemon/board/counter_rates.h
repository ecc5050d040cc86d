// Per-second rates from monotonically increasing kernel counters, one row per device or interface.
// Rows are created the first time a key appears (the only allocation) and keep their slot in
// values() afterwards. The first reading of a row, a counter reset that is not a 32-bit wrap, and
// a new boot (BootEpoch generation changed) leave that row's rates empty for one round instead
// of reporting a negative or absurd number.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/board/sensor.h"
#include "edgemon/board/text_fields.h"
#include "edgemon/common/clock.h"

namespace edgemon::board {

class CounterRates {
 public:
  static constexpr std::size_t kMaxCounters = 8;
  struct Column {
    std::string suffix;  // e.g. "rx_bytes_per_s"
    std::string unit;    // e.g. "B/s"
    double scale = 1.0;  // multiplies the counter delta (e.g. 512 for sectors -> bytes)
  };

  // prefix: "net" gives "net/<key>/<suffix>".
  CounterRates(std::string prefix, std::vector<Column> columns, const Clock& clock,
               std::shared_ptr<const BootEpoch> epoch);

  // Starts one reading at the clock's current time.
  void begin();
  // Records one row's counters (counters.size() == columns.size()).
  void update(std::string_view key, std::span<const std::uint64_t> counters);
  // Ends the reading: rows absent this time (device removed) get empty values.
  void end();

  std::span<const SensorValue> values() const { return values_; }
  std::size_t rows() const { return rows_.size(); }

 private:
  struct Row {
    std::string key;
    std::array<std::uint64_t, kMaxCounters> previous{};
    bool primed = false;
    bool seen = false;
  };

  std::string prefix_;
  std::vector<Column> columns_;
  const Clock& clock_;
  std::shared_ptr<const BootEpoch> epoch_;
  std::uint64_t generation_ = 0;
  std::vector<Row> rows_;
  std::vector<SensorValue> values_;  // rows_.size() * columns_.size(), row-major
  MonoTime now_{};
  MonoTime last_{};
  bool have_last_ = false;
  double dt_s_ = 0;
  bool reset_all_ = false;
};

}  // namespace edgemon::board
