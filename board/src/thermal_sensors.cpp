#include "edgemon/board/thermal_sensors.h"

#include "edgemon/board/file_reader.h"
#include "edgemon/board/text_fields.h"

namespace edgemon::board {

bool parse_millidegrees(std::string_view text, double& celsius) {
  std::int64_t milli = 0;
  // -273150 .. 1000000: anything outside is not a temperature a board can have.
  if (!parse_i64(trim(text), milli) || milli < -273150 || milli > 1'000'000) return false;
  celsius = static_cast<double>(milli) / 1000.0;
  return true;
}

// ---- ThermalZoneSensor ----

ThermalZoneSensor::ThermalZoneSensor(std::string_view root) : root_(root) {}

Status ThermalZoneSensor::discover() {
  discovered_ = true;
  const std::string dir = join_root(root_, "sys/class/thermal");
  auto zones = list_directory(dir, "thermal_zone");
  if (!zones) return zones.error();
  for (const std::string& zone : *zones) {
    std::array<char, 128> type_buf{};
    auto type = read_small_file(dir + "/" + zone + "/type", type_buf);
    std::string name = type ? sanitize_name(trim(*type)) : zone;
    for (const SensorValue& v : values_) {
      if (v.name == "thermal/" + name) name += "_" + zone.substr(12);
    }
    temp_paths_.push_back(dir + "/" + zone + "/temp");
    values_.push_back(SensorValue{"thermal/" + name, "°C", {}});
  }
  if (values_.empty()) return make_error(ErrorCode::kUnsupported, dir + ": no thermal zones");
  return Status::Ok();
}

Status ThermalZoneSensor::fetch() {
  if (!discovered_) {
    if (Status s = discover(); !s) return s;
  }
  if (values_.empty()) return make_error(ErrorCode::kUnsupported, root_ + ": no thermal zones");
  std::size_t ok = 0;
  for (std::size_t i = 0; i < temp_paths_.size(); ++i) {
    values_[i].value.reset();
    auto text = read_small_file(temp_paths_[i], buffer_);
    double c = 0;
    if (text && parse_millidegrees(*text, c)) {
      values_[i].value = c;
      ++ok;
    }
  }
  if (ok == 0) return make_error(ErrorCode::kInvalidArgument, temp_paths_.front() + ": no readable thermal zone");
  return Status::Ok();
}

// ---- SocTemperatureSensor ----

SocTemperatureSensor::SocTemperatureSensor(std::string_view root)
    : root_(root), values_{{"soc/temperature", "°C", {}}} {}

Status SocTemperatureSensor::fetch() {
  if (!searched_) {
    searched_ = true;
    const std::string dir = join_root(root_, "sys/class/thermal");
    auto zones = list_directory(dir, "thermal_zone");
    if (zones) {
      for (const std::string& zone : *zones) {
        std::array<char, 128> type_buf{};
        auto type = read_small_file(dir + "/" + zone + "/type", type_buf);
        if (type && trim(*type) == "cpu-thermal") {
          temp_path_ = dir + "/" + zone + "/temp";
          break;
        }
      }
    }
  }
  if (temp_path_.empty()) return make_error(ErrorCode::kUnsupported, root_ + ": no cpu-thermal zone (not a Raspberry Pi)");
  auto text = read_small_file(temp_path_, buffer_);
  if (!text) return text.error();
  double c = 0;
  if (!parse_millidegrees(*text, c)) return make_error(ErrorCode::kInvalidArgument, temp_path_ + ": not a temperature");
  values_[0].value = c;
  return Status::Ok();
}

// ---- CpuFrequencySensor ----

CpuFrequencySensor::CpuFrequencySensor(std::string_view root) : root_(root) {}

Status CpuFrequencySensor::discover() {
  discovered_ = true;
  const std::string dir = join_root(root_, "sys/devices/system/cpu");
  auto cpus = list_directory(dir, "cpu");
  if (!cpus) return cpus.error();
  for (const std::string& cpu : *cpus) {
    std::uint64_t n = 0;
    if (!parse_u64(std::string_view(cpu).substr(3), n)) continue;  // cpufreq, cpuidle
    std::string path = dir + "/" + cpu + "/cpufreq/scaling_cur_freq";
    std::array<char, 64> probe{};
    if (!read_small_file(path, probe)) continue;
    paths_.push_back(std::move(path));
    values_.push_back(SensorValue{"cpu/freq/core" + std::to_string(n), "MHz", {}});
  }
  if (paths_.empty()) return make_error(ErrorCode::kUnsupported, dir + ": no cpufreq");
  return Status::Ok();
}

Status CpuFrequencySensor::fetch() {
  if (!discovered_) {
    if (Status s = discover(); !s) return s;
  }
  if (paths_.empty()) return make_error(ErrorCode::kUnsupported, root_ + ": no cpufreq");
  std::size_t ok = 0;
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    values_[i].value.reset();
    auto text = read_small_file(paths_[i], buffer_);
    std::uint64_t khz = 0;
    if (text && parse_u64(trim(*text), khz) && khz < 100'000'000) {
      values_[i].value = static_cast<double>(khz) / 1000.0;
      ++ok;
    }
  }
  if (ok == 0) return make_error(ErrorCode::kInvalidArgument, paths_.front() + ": not a frequency");
  return Status::Ok();
}

}  // namespace edgemon::board
