// The seam for running a helper program (vcgencmd) and capturing its output into a fixed buffer.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"

namespace edgemon::board {

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv[0] (an absolute path) with the arguments, returns its stdout (at most out.size()
  // bytes). Errors: kUnsupported (program missing), kUnavailable (timed out: killed),
  // kIo (spawn failed or non-zero exit).
  virtual Result<std::string_view> run(const std::vector<std::string>& argv, std::span<char> out) = 0;
};

// posix_spawn + pipe, with a deadline; the child is killed and reaped on timeout.
class PosixCommandRunner final : public CommandRunner {
 public:
  explicit PosixCommandRunner(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000))
      : timeout_(timeout) {}
  Result<std::string_view> run(const std::vector<std::string>& argv, std::span<char> out) override;

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace edgemon::board
