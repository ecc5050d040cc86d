#include "edgemon/board/file_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edgemon::board {

Result<std::string_view> read_small_file(const std::string& path, std::span<char> buffer) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::kUnsupported
                           : (err == EACCES || err == EPERM) ? ErrorCode::kPermissionDenied
                                                             : ErrorCode::kIo;
    return make_error(code, path + ": " + std::strerror(err));
  }
  std::size_t used = 0;
  for (;;) {
    if (used == buffer.size()) {
      ::close(fd);
      return make_error(ErrorCode::kResourceExhausted, path + ": larger than read buffer");
    }
    const ssize_t n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error(ErrorCode::kIo, path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return std::string_view(buffer.data(), used);
}

}  // namespace edgemon::board
