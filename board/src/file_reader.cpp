#include "edgemon/board/file_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
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
      // Full buffer: the file fits only if the next read says end-of-file.
      char probe = 0;
      ssize_t more = 0;
      do {
        more = ::read(fd, &probe, 1);
      } while (more < 0 && errno == EINTR);
      ::close(fd);
      if (more == 0) return std::string_view(buffer.data(), used);
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

namespace edgemon::board {

Result<std::string_view> read_file_growing(const std::string& path, std::vector<char>& buffer,
                                           std::size_t max_bytes) {
  if (buffer.empty()) buffer.resize(4096);
  for (;;) {
    auto r = read_small_file(path, buffer);
    if (r || r.error().code != ErrorCode::kResourceExhausted || buffer.size() >= max_bytes) return r;
    buffer.resize(std::min(buffer.size() * 2, max_bytes));
  }
}

}  // namespace edgemon::board

#include <dirent.h>

namespace edgemon::board {

Result<std::vector<std::string>> list_directory(const std::string& dir, std::string_view prefix) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    const ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::kUnsupported : ErrorCode::kIo;
    return make_error(code, dir + ": " + std::strerror(err));
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    if (name.substr(0, prefix.size()) == prefix) names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return names;
}

}  // namespace edgemon::board
