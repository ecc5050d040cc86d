#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace edgemon::probe::testing {

int sh(const std::string& cmd, std::string* out) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 512> buf{};
  std::string text;
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) text += buf.data();
  const int st = ::pclose(p);
  if (out) *out += text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool running_as_root() {
  return ::geteuid() == 0;
}

NetnsSet::NetnsSet() : prefix_("edgemon-probe-" + std::to_string(::getpid())) {
  home_fd_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

NetnsSet::~NetnsSet() {
  leave();
  for (const std::string& n : names_) sh("ip netns del " + n);  // deletes their veths too
  if (home_fd_ >= 0) ::close(home_fd_);
}

std::string NetnsSet::add(const std::string& short_name) {
  const std::string name = prefix_ + "-" + short_name;
  sh("ip netns del " + name);
  std::string out;
  if (sh("ip netns add " + name, &out) != 0)
    throw std::runtime_error("ip netns add " + name + ": " + out);
  names_.push_back(name);
  exec(name, "ip link set lo up");
  return name;
}

void NetnsSet::exec(const std::string& ns, const std::string& cmd) {
  std::string out;
  if (sh("ip netns exec " + ns + " sh -c '" + cmd + "'", &out) != 0) {
    throw std::runtime_error("in " + ns + ": " + cmd + ": " + out);
  }
}

void NetnsSet::link(const std::string& a, const std::string& a_if, const std::string& a_cidr,
                    const std::string& b, const std::string& b_if, const std::string& b_cidr) {
  std::string out;
  // Created directly inside `a` with the peer placed in `b`: nothing appears in the caller's
  // namespace.
  if (sh("ip -n " + a + " link add " + a_if + " type veth peer name " + b_if + " netns " + b,
         &out) != 0) {
    throw std::runtime_error("veth " + a_if + ": " + out);
  }
  exec(a, "ip addr add " + a_cidr + " dev " + a_if + " && ip link set " + a_if + " up");
  exec(b, "ip addr add " + b_cidr + " dev " + b_if + " && ip link set " + b_if + " up");
}

void NetnsSet::enter(const std::string& ns) {
  const int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("setns " + ns);
  ::close(fd);
}

void NetnsSet::leave() {
  if (home_fd_ >= 0) (void)::setns(home_fd_, CLONE_NEWNET);
}

}  // namespace edgemon::probe::testing
