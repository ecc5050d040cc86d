#include "edgemon/board/system_sensors.h"

#include <algorithm>
#include <cstring>

#include "edgemon/board/file_reader.h"

namespace edgemon::board {
namespace {

Error bad(const std::string& path, std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument, path + ": " + std::string(what));
}

}  // namespace

// ---- CpuCountSensor ----

CpuCountSensor::CpuCountSensor(std::string_view root)
    : path_(join_root(root, "sys/devices/system/cpu/online")), values_{{"cpu/count", "", {}}} {}

Status CpuCountSensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status CpuCountSensor::ingest(std::string_view text) {
  text = trim(text);
  if (text.empty()) return bad(path_, "empty");
  std::uint64_t count = 0;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view range = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t dash = range.find('-');
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    if (!parse_u64(range.substr(0, dash), lo)) return bad(path_, "bad cpu list");
    hi = lo;
    if (dash != std::string_view::npos && !parse_u64(range.substr(dash + 1), hi)) return bad(path_, "bad cpu list");
    if (hi < lo || hi > 65535) return bad(path_, "bad cpu range");
    count += hi - lo + 1;
  }
  values_[0].value = static_cast<double>(count);
  return Status::Ok();
}

// ---- LoadAverageSensor ----

LoadAverageSensor::LoadAverageSensor(std::string_view root)
    : path_(join_root(root, "proc/loadavg")),
      values_{{"load/1m", "", {}}, {"load/5m", "", {}}, {"load/15m", "", {}}, {"proc/running", "", {}},
              {"proc/total", "", {}}} {}

Status LoadAverageSensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status LoadAverageSensor::ingest(std::string_view text) {
  double load[3] = {};
  for (double& l : load) {
    if (!parse_double(next_field(text), l) || l < 0) return bad(path_, "bad load average");
  }
  const std::string_view procs = next_field(text);
  const std::size_t slash = procs.find('/');
  std::uint64_t running = 0;
  std::uint64_t total = 0;
  if (slash == std::string_view::npos || !parse_u64(procs.substr(0, slash), running) ||
      !parse_u64(procs.substr(slash + 1), total)) {
    return bad(path_, "bad running/total field");
  }
  for (std::size_t i = 0; i < 3; ++i) values_[i].value = load[i];
  values_[3].value = static_cast<double>(running);
  values_[4].value = static_cast<double>(total);
  return Status::Ok();
}

// ---- MemorySensor ----

namespace {
enum MemSlot : std::size_t { kTotal, kAvailable, kUsed, kFree, kBuffCache, kUsedPct, kSwapTotal, kSwapUsed, kSwapPct };
}  // namespace

MemorySensor::MemorySensor(std::string_view root)
    : path_(join_root(root, "proc/meminfo")),
      values_{{"mem/total", "B", {}},      {"mem/available", "B", {}}, {"mem/used", "B", {}},
              {"mem/free", "B", {}},       {"mem/buff_cache", "B", {}}, {"mem/used_percent", "%", {}},
              {"swap/total", "B", {}},     {"swap/used", "B", {}},     {"swap/used_percent", "%", {}}} {}

Status MemorySensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status MemorySensor::ingest(std::string_view text) {
  struct Key {
    std::string_view name;
    std::uint64_t kb = 0;
    bool seen = false;
  };
  std::array<Key, 8> keys{{{"MemTotal"}, {"MemFree"}, {"MemAvailable"}, {"Buffers"}, {"Cached"},
                           {"SReclaimable"}, {"SwapTotal"}, {"SwapFree"}}};
  LineScanner lines(text);
  std::string_view line;
  while (lines.next(line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    for (Key& k : keys) {
      if (k.name != name) continue;
      std::string_view rest = line.substr(colon + 1);
      const std::string_view number = next_field(rest);
      const std::string_view unit = next_field(rest);
      if (!parse_u64(number, k.kb) || (!unit.empty() && unit != "kB") || k.kb > (std::uint64_t{1} << 50)) {
        return bad(path_, "bad value for " + std::string(name));
      }
      k.seen = true;
    }
  }
  const auto& [total, free, avail, buffers, cached, sreclaim, swap_total, swap_free] = keys;
  if (!total.seen || !free.seen || total.kb == 0) return bad(path_, "no MemTotal/MemFree");
  const std::uint64_t kb = 1024;
  const std::uint64_t available = avail.seen ? avail.kb : std::min(total.kb, free.kb + buffers.kb + cached.kb);
  const std::uint64_t used = total.kb > available ? total.kb - available : 0;
  values_[kTotal].value = static_cast<double>(total.kb * kb);
  values_[kAvailable].value = static_cast<double>(available * kb);
  values_[kUsed].value = static_cast<double>(used * kb);
  values_[kFree].value = static_cast<double>(free.kb * kb);
  values_[kBuffCache].value = static_cast<double>((buffers.kb + cached.kb + sreclaim.kb) * kb);
  values_[kUsedPct].value = 100.0 * static_cast<double>(used) / static_cast<double>(total.kb);
  if (swap_total.seen && swap_free.seen) {
    const std::uint64_t swap_used = swap_total.kb > swap_free.kb ? swap_total.kb - swap_free.kb : 0;
    values_[kSwapTotal].value = static_cast<double>(swap_total.kb * kb);
    values_[kSwapUsed].value = static_cast<double>(swap_used * kb);
    if (swap_total.kb > 0) {
      values_[kSwapPct].value = 100.0 * static_cast<double>(swap_used) / static_cast<double>(swap_total.kb);
    } else {
      values_[kSwapPct].value.reset();
    }
  }
  return Status::Ok();
}

// ---- UptimeSensor ----

UptimeSensor::UptimeSensor(std::string_view root)
    : path_(join_root(root, "proc/uptime")), values_{{"uptime", "s", {}}} {}

Status UptimeSensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status UptimeSensor::ingest(std::string_view text) {
  double up = 0;
  if (!parse_double(next_field(text), up) || up < 0) return bad(path_, "bad uptime");
  values_[0].value = up;
  return Status::Ok();
}

// ---- BootIdSensor ----

BootIdSensor::BootIdSensor(std::string_view root, std::shared_ptr<BootEpoch> epoch)
    : path_(join_root(root, "proc/sys/kernel/random/boot_id")),
      epoch_(std::move(epoch)),
      values_{{"boot/reboots_seen", "", {}}} {}

Status BootIdSensor::fetch() {
  auto text = read_small_file(path_, buffer_);
  if (!text) return text.error();
  return ingest(*text);
}

Status BootIdSensor::ingest(std::string_view text) {
  text = trim(text);
  // A UUID: 36 characters of hex digits and dashes.
  if (text.size() != 36 ||
      !std::all_of(text.begin(), text.end(), [](char c) {
        return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      })) {
    return bad(path_, "not a boot id");
  }
  if (boot_id_len_ != 0 && text != boot_id()) {
    ++changes_;
    if (epoch_) ++epoch_->generation;
  }
  std::memcpy(boot_id_.data(), text.data(), text.size());
  boot_id_len_ = text.size();
  values_[0].value = static_cast<double>(changes_);
  return Status::Ok();
}

}  // namespace edgemon::board
