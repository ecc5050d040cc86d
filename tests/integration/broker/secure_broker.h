// A private mosquitto running the *shipped* edgemon broker configuration
// (gateway/dist/mosquitto/edgemon.conf + acl), its TLS listener enabled, with accounts made by
// the shipped edgemon-provision and certificates by edgemon-make-test-ca. Loopback, free ports,
// everything in one temporary directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/process.h"

namespace edgemon::test {

// Runs one of the shipped scripts in gateway/dist/ and returns its result (stdout + stderr).
CommandResult run_dist_script(const std::string& script, std::vector<std::string> args);
// The password line of a TOML snippet printed by edgemon-provision ("" if none).
std::string password_from_snippet(const std::string& snippet);

class SecureBroker {
 public:
  // Provisions `nodes` and the gateway into `dir`/passwd, makes a test CA in `dir`/tls (server
  // certificate for 127.0.0.1, one client certificate per node) and starts mosquitto.
  SecureBroker(const std::string& dir, const std::vector<std::string>& nodes);
  ~SecureBroker();
  SecureBroker(const SecureBroker&) = delete;
  SecureBroker& operator=(const SecureBroker&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint16_t tls_port() const { return tls_port_; }
  const std::string& dir() const { return dir_; }
  std::string passwd_file() const { return dir_ + "/passwd"; }
  std::string pid_file() const { return dir_ + "/mosquitto.pid"; }
  std::string tls_dir() const { return dir_ + "/tls"; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  // Password of a provisioned account ("edgemon-gateway" for the gateway).
  const std::string& password(const std::string& user) const { return passwords_.at(user); }
  // The broker's log (log_type all: connects, denials, SUBACKs), flushed per line.
  std::string log() const { return read_file(dir_ + "/broker.log"); }

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::map<std::string, std::string> passwords_;
  ChildProcess process_;
};

}  // namespace edgemon::test
