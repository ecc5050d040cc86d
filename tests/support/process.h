// ChildProcess: a real program started for a test, its stdout+stderr captured to a log file.
// The destructor kills and reaps it, so a failing test leaves nothing running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgemon::test {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (searched in PATH if it has no '/'). Throws std::runtime_error on failure.
  static ChildProcess start(const std::vector<std::string>& argv, const std::string& log_path);

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits up to `timeout` for exit; returns the wait status if it exited.
  std::optional<int> stop(int sig, std::chrono::milliseconds timeout);
  // Waits for exit without signalling.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill_now();
  const std::string& log_path() const { return log_path_; }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Runs a command to completion (bounded by timeout, then killed); returns exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// A fresh directory under /tmp, removed by the destructor unless the test failed.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "edgemon-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `done` every 100 ms until it holds or `timeout` passed; the last answer.
bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

}  // namespace edgemon::test
