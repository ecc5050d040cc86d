// What a benchmark reads about other processes from /proc: CPU time and resident memory.
#pragma once

#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace edgemon::bench {

// utime + stime of a process (all its threads) in seconds, from /proc/<pid>/stat; 0 if it is gone.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "VmRSS:"-style line of /proc/<pid>/status in KiB (0 if the process or the line is gone).
inline std::uint64_t status_kib(pid_t pid, const std::string& key = "VmRSS:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream s(line.substr(key.size()));
    std::uint64_t kib = 0;
    s >> kib;
    return kib;
  }
  return 0;
}

// Every CPU this process may run on except `cpu` (for "everything else" when one CPU is reserved).
inline cpu_set_t all_cpus_but(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  for (long c = 0; c < n && c < CPU_SETSIZE; ++c) {
    if (c != cpu) CPU_SET(static_cast<std::size_t>(c), &set);
  }
  if (CPU_COUNT(&set) == 0) CPU_SET(static_cast<std::size_t>(cpu), &set);  // a 1-CPU machine: share it
  return set;
}

}  // namespace edgemon::bench
