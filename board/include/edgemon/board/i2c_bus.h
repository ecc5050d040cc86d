// The I2C bus seam: chip drivers (Bme280) talk to this interface, never to /dev/i2c-N directly,
// so tests feed them recorded register bytes (after ESPHome's bme280_base / bme280_i2c split).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "edgemon/common/result.h"

namespace edgemon::board {

class I2cBus {
 public:
  virtual ~I2cBus() = default;
  // Writes one register. Errors: kIo (NACK, bus error), kUnavailable (bus busy).
  virtual Status write_register(std::uint8_t address, std::uint8_t reg, std::uint8_t value) = 0;
  // Reads out.size() consecutive registers starting at `reg` (a write of the register pointer
  // followed by a repeated-start read). Errors: kIo, kUnavailable.
  virtual Status read_registers(std::uint8_t address, std::uint8_t reg, std::span<std::uint8_t> out) = 0;
};

// /dev/i2c-N through the kernel's i2c-dev (I2C_RDWR ioctl). Errors from open():
// kUnsupported (no such device: i2c not enabled in config.txt), kPermissionDenied (not in the
// i2c group), kIo.
class LinuxI2cBus final : public I2cBus {
 public:
  static Result<std::unique_ptr<LinuxI2cBus>> open(const std::string& device);
  ~LinuxI2cBus() override;
  LinuxI2cBus(const LinuxI2cBus&) = delete;
  LinuxI2cBus& operator=(const LinuxI2cBus&) = delete;

  Status write_register(std::uint8_t address, std::uint8_t reg, std::uint8_t value) override;
  Status read_registers(std::uint8_t address, std::uint8_t reg, std::span<std::uint8_t> out) override;

 private:
  LinuxI2cBus(int fd, std::string device) : fd_(fd), device_(std::move(device)) {}
  int fd_ = -1;
  std::string device_;
};

}  // namespace edgemon::board
