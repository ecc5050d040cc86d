// Test network namespaces: created with `ip netns add`, joined by veth pairs, addresses assigned
// only inside them. Every namespace made here is deleted by the destructor (also when a test
// fails); leftovers of a crashed run are named edgemon-probe-<pid>-* and removed by name.
#pragma once

#include <string>
#include <vector>

namespace edgemon::probe::testing {

// Runs a shell command, returns its exit status; output is appended to `out` when given.
int sh(const std::string& cmd, std::string* out = nullptr);

class NetnsSet {
 public:
  NetnsSet();
  ~NetnsSet();
  NetnsSet(const NetnsSet&) = delete;
  NetnsSet& operator=(const NetnsSet&) = delete;

  // Adds namespace `<prefix>-<short>`, loopback up; returns its full name.
  std::string add(const std::string& short_name);
  // `ip netns exec ns sh -c cmd`; throws on failure.
  void exec(const std::string& ns, const std::string& cmd);
  // veth pair between two namespaces with the given CIDR addresses, both up.
  void link(const std::string& a, const std::string& a_if, const std::string& a_cidr,
            const std::string& b, const std::string& b_if, const std::string& b_cidr);

  // Moves this thread into `ns` (sockets created afterwards live there) and back.
  void enter(const std::string& ns);
  void leave();

  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  std::vector<std::string> names_;
  int home_fd_ = -1;
};

bool running_as_root();

}  // namespace edgemon::probe::testing
