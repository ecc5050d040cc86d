#include "edgemon/firmware/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace edgemon::firmware {

Status write_file_atomic(const std::string& path, const std::string& body) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::kIo, tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, tmp + ": " + std::strerror(saved != 0 ? saved : errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, path + ": cannot rename into place: " + std::strerror(e));
  }
  return {};
}

BdSeqFile::Loaded BdSeqFile::load() const {
  Loaded out;
  std::ifstream in(path_);
  if (!in) return out;  // first start
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value > 255) {
    out.problem = "does not hold a bdSeq (0..255): \"" + s.substr(0, 32) + "\"";
    return out;
  }
  out.last = static_cast<std::uint8_t>(value);
  return out;
}

Status BdSeqFile::store(std::uint8_t bd_seq) const { return write_file_atomic(path_, std::to_string(bd_seq) + "\n"); }

}  // namespace edgemon::firmware
