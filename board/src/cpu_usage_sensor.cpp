#include "edgemon/board/cpu_usage_sensor.h"

#include <charconv>

#include "edgemon/board/file_reader.h"

namespace edgemon::board {
namespace {

constexpr std::size_t kMaxCores = 1024;

// Parses the numbers after "cpuN" on one line. Returns false if fewer than 4 fields.
bool parse_fields(std::string_view line, std::uint64_t& busy, std::uint64_t& total) {
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
  // counted in user/nice, so only the first eight fields make up the total.
  std::uint64_t f[8] = {};
  std::size_t count = 0;
  const char* p = line.data();
  const char* end = line.data() + line.size();
  while (p < end && count < 8) {
    while (p < end && *p == ' ') ++p;
    if (p == end) break;
    const auto [next, ec] = std::from_chars(p, end, f[count]);
    if (ec != std::errc() || (next < end && *next != ' ')) return false;
    ++count;
    p = next;
  }
  if (count < 4) return false;
  total = 0;
  for (std::size_t i = 0; i < count; ++i) total += f[i];
  const std::uint64_t idle = f[3] + (count > 4 ? f[4] : 0);
  busy = total - idle;
  return true;
}

}  // namespace

CpuUsageSensor::CpuUsageSensor(std::string root) : path_(std::move(root)) {
  if (path_.empty() || path_.back() != '/') path_ += '/';
  path_ += "proc/stat";
}

Status CpuUsageSensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status CpuUsageSensor::ingest(std::string_view text) {
  bool saw_total = false;
  for (Counters& c : previous_) c.seen = false;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.size() < 4 || line.substr(0, 3) != "cpu") continue;

    std::size_t slot = 0;
    std::string_view rest;
    if (line[3] == ' ') {
      rest = line.substr(4);
      saw_total = true;
    } else {
      std::size_t core = 0;
      const std::size_t space = line.find(' ');
      if (space == std::string_view::npos) continue;
      const auto [ptr, ec] = std::from_chars(line.data() + 3, line.data() + space, core);
      if (ec != std::errc() || ptr != line.data() + space || core >= kMaxCores) {
        return make_error(ErrorCode::kInvalidArgument, path_ + ": bad cpu line");
      }
      slot = core + 1;
      rest = line.substr(space + 1);
    }
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
    if (!parse_fields(rest, busy, total)) {
      return make_error(ErrorCode::kInvalidArgument, path_ + ": bad cpu counters");
    }
    if (slot >= previous_.size()) {
      // Sized once per newly seen core; steady state does not grow.
      const std::size_t old = values_.size();
      previous_.resize(slot + 1);
      values_.resize(slot + 1);
      for (std::size_t i = old; i < values_.size(); ++i) {
        values_[i].name = i == 0 ? "cpu/total" : "cpu/core" + std::to_string(i - 1);
        values_[i].unit = "%";
      }
    }
    Counters& prev = previous_[slot];
    SensorValue& out = values_[slot];
    if (prev.primed && total > prev.total && busy >= prev.busy) {
      const double d_total = static_cast<double>(total - prev.total);
      const double d_busy = static_cast<double>(busy - prev.busy);
      out.value = d_busy > d_total ? 100.0 : 100.0 * d_busy / d_total;
    } else if (prev.primed && total == prev.total) {
      // No time passed for this line: keep the last value.
    } else {
      out.value.reset();
    }
    prev = Counters{busy, total, true, true};
  }
  if (!saw_total) return make_error(ErrorCode::kInvalidArgument, path_ + ": no aggregate cpu line");
  for (std::size_t i = 0; i < previous_.size(); ++i) {
    if (previous_[i].seen) continue;
    previous_[i].primed = false;
    values_[i].value.reset();
  }
  return Status::Ok();
}

}  // namespace edgemon::board
