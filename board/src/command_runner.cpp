#include "edgemon/board/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "edgemon/common/clock.h"

extern char** environ;

namespace edgemon::board {

Result<std::string_view> PosixCommandRunner::run(const std::vector<std::string>& argv, std::span<char> out) {
  if (argv.empty() || argv.size() > 8) return make_error(ErrorCode::kInvalidArgument, "bad argv");
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return make_error(ErrorCode::kUnsupported, argv[0] + ": " + std::strerror(errno));
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(ErrorCode::kIo, std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::array<char*, 9> args{};
  for (std::size_t i = 0; i < argv.size(); ++i) args[i] = const_cast<char*>(argv[i].c_str());  // NOLINT
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return make_error(ErrorCode::kIo, argv[0] + ": spawn: " + std::strerror(rc));
  }
  const MonoTime deadline = MonoClock::now() + timeout_;
  std::size_t used = 0;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - MonoClock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    if (used == out.size()) break;
    const ssize_t got = ::read(fds[0], out.data() + used, out.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    used += static_cast<std::size_t>(got);
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return make_error(ErrorCode::kUnavailable, argv[0] + ": timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return make_error(ErrorCode::kIo, argv[0] + ": failed");
  return std::string_view(out.data(), used);
}

}  // namespace edgemon::board
