// A private mosquitto for one test: its own config and a free loopback port.
#pragma once

#include <cstdint>
#include <string>

#include "support/process.h"

namespace edgemon::test {

class MosquittoBroker {
 public:
  // Starts mosquitto with a generated config in `dir`; waits until it accepts connections.
  // `extra_config` is appended to the generated config. Throws std::runtime_error on failure.
  explicit MosquittoBroker(const std::string& dir, const std::string& extra_config = "");
  std::uint16_t port() const { return port_; }
  void stop() { process_.stop(15, std::chrono::seconds(5)); }
  void kill() { process_.kill_now(); }
  // Restarts on the same port (for outage tests).
  void restart();
  const ChildProcess& process() const { return process_; }

 private:
  void launch();
  std::string dir_;
  std::string config_path_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

}  // namespace edgemon::test
