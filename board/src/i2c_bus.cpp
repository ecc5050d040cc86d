#include "edgemon/board/i2c_bus.h"

#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edgemon::board {

Result<std::unique_ptr<LinuxI2cBus>> LinuxI2cBus::open(const std::string& device) {
  const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const ErrorCode code = (err == ENOENT || err == ENODEV) ? ErrorCode::kUnsupported
                           : (err == EACCES || err == EPERM) ? ErrorCode::kPermissionDenied
                                                             : ErrorCode::kIo;
    return make_error(code, device + ": " + std::strerror(err));
  }
  return std::unique_ptr<LinuxI2cBus>(new LinuxI2cBus(fd, device));
}

LinuxI2cBus::~LinuxI2cBus() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

Status transfer(int fd, const std::string& device, i2c_msg* msgs, unsigned count) {
  i2c_rdwr_ioctl_data data{msgs, count};
  for (;;) {
    if (::ioctl(fd, I2C_RDWR, &data) >= 0) return Status::Ok();
    if (errno == EINTR) continue;
    const int err = errno;
    return make_error(err == EAGAIN || err == EBUSY ? ErrorCode::kUnavailable : ErrorCode::kIo,
                      device + ": " + std::strerror(err));
  }
}

}  // namespace

Status LinuxI2cBus::write_register(std::uint8_t address, std::uint8_t reg, std::uint8_t value) {
  std::uint8_t buf[2] = {reg, value};
  i2c_msg msg{address, 0, 2, buf};
  return transfer(fd_, device_, &msg, 1);
}

Status LinuxI2cBus::read_registers(std::uint8_t address, std::uint8_t reg, std::span<std::uint8_t> out) {
  if (out.size() > 255) return make_error(ErrorCode::kInvalidArgument, "i2c read too long");
  i2c_msg msgs[2] = {{address, 0, 1, &reg}, {address, I2C_M_RD, static_cast<std::uint16_t>(out.size()), out.data()}};
  return transfer(fd_, device_, msgs, 2);
}

}  // namespace edgemon::board
