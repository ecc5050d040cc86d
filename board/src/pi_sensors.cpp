#include "edgemon/board/pi_sensors.h"

#include "edgemon/board/file_reader.h"
#include "edgemon/board/text_fields.h"

namespace edgemon::board {

bool parse_throttled(std::string_view text, std::uint32_t& bits) {
  text = trim(text);
  if (text.substr(0, 10) == "throttled=") text.remove_prefix(10);
  return parse_hex_u32(text, bits);
}

ThrottleSensor::ThrottleSensor(std::string_view root, std::string vcgencmd, std::unique_ptr<CommandRunner> runner)
    : sysfs_path_(join_root(root, "sys/devices/platform/soc/soc:firmware/get_throttled")),
      runner_(std::move(runner)),
      values_{{"throttle/raw", "", {}},
              {"throttle/under_voltage", "", {}},
              {"throttle/freq_capped", "", {}},
              {"throttle/throttled", "", {}},
              {"throttle/soft_temp_limit", "", {}},
              {"throttle/under_voltage_occurred", "", {}},
              {"throttle/freq_capped_occurred", "", {}},
              {"throttle/throttled_occurred", "", {}},
              {"throttle/soft_temp_limit_occurred", "", {}}} {
  if (!vcgencmd.empty()) argv_ = {std::move(vcgencmd), "get_throttled"};
  if (!runner_) runner_ = std::make_unique<PosixCommandRunner>();
}

Status ThrottleSensor::fetch() {
  if (!use_command_) {
    auto text = read_small_file(sysfs_path_, buffer_);
    if (text) return ingest(*text);
    if (text.error().code != ErrorCode::kUnsupported || argv_.empty()) return text.error();
    use_command_ = true;  // no sysfs node (older kernel): vcgencmd from now on
  }
  auto text = runner_->run(argv_, buffer_);
  if (!text) {
    if (text.error().code == ErrorCode::kUnsupported) {
      return make_error(ErrorCode::kUnsupported, sysfs_path_ + " missing and " + text.error().message);
    }
    return text.error();
  }
  return ingest(*text);
}

Status ThrottleSensor::ingest(std::string_view text) {
  std::uint32_t bits = 0;
  if (!parse_throttled(text, bits)) {
    return make_error(ErrorCode::kInvalidArgument,
                      (use_command_ ? argv_.front() : sysfs_path_) + ": not a get_throttled value");
  }
  static constexpr std::array<std::uint32_t, 8> kBits = {
      ThrottleFlags::kUnderVoltageNow,      ThrottleFlags::kFreqCappedNow,      ThrottleFlags::kThrottledNow,
      ThrottleFlags::kSoftTempLimitNow,     ThrottleFlags::kUnderVoltageOccurred, ThrottleFlags::kFreqCappedOccurred,
      ThrottleFlags::kThrottledOccurred,    ThrottleFlags::kSoftTempLimitOccurred};
  values_[0].value = static_cast<double>(bits);
  for (std::size_t i = 0; i < kBits.size(); ++i) values_[i + 1].value = (bits & kBits[i]) != 0 ? 1.0 : 0.0;
  return Status::Ok();
}

}  // namespace edgemon::board
