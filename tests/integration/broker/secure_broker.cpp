#include "secure_broker.h"

#include <sys/stat.h>

#include <regex>
#include <sstream>
#include <stdexcept>

#include "support/net.h"

namespace edgemon::test {
namespace {

const std::string kDist = EDGEMON_DIST_DIR;  // <source>/gateway/dist

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// The shipped edgemon.conf, pointed at `dir`, its listeners on loopback ports, the commented
// TLS block switched on. Fails loudly if the shipped file no longer has the expected shape.
std::string derive_config(const std::string& dir, std::uint16_t port, std::uint16_t tls_port) {
  std::string shipped = read_file(kDist + "/mosquitto/edgemon.conf");
  if (shipped.find("\nlistener 1883\n") == std::string::npos) {
    throw std::runtime_error("edgemon.conf: no 'listener 1883' line");
  }
  shipped = replace_all(shipped, "/etc/mosquitto/edgemon", dir);
  std::istringstream in(shipped);
  std::ostringstream out;
  bool in_tls = false;
  bool saw_tls_listener = false;
  const std::regex commented_option("^#([a-z_]+ .*)$");
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# --- TLS listener", 0) == 0) {
      in_tls = true;
    } else if (in_tls && line.rfind("# ---", 0) == 0) {
      in_tls = false;
    } else if (line == "listener 1883") {
      line = "listener " + std::to_string(port) + " 127.0.0.1";
    } else if (in_tls && std::regex_match(line, m, commented_option)) {
      line = m[1];
      if (line == "listener 8883") {
        line = "listener " + std::to_string(tls_port) + " 127.0.0.1";
        saw_tls_listener = true;
      }
    }
    out << line << '\n';
  }
  if (!saw_tls_listener) throw std::runtime_error("edgemon.conf: no '#listener 8883' in the TLS block");
  // Test-only additions: no disk state, a log file the tests read, a pid file for the
  // provisioning command's reload, and (when the test runs as root) no privilege drop, so the
  // broker can read the private temporary directory.
  // (log_dest file, not stdout: mosquitto flushes its log file per line, stdout only when full.)
  out << "\n# test additions\npersistence false\nlog_dest file " << dir << "/broker.log\nlog_type all\n"
      << "pid_file " << dir << "/mosquitto.pid\nuser root\n";
  return out.str();
}

}  // namespace

CommandResult run_dist_script(const std::string& script, std::vector<std::string> args) {
  args.insert(args.begin(), kDist + "/" + script);
  return run_command(args, std::chrono::seconds(20));
}

std::string password_from_snippet(const std::string& snippet) {
  std::smatch m;
  static const std::regex re("\npassword = \"([^\"]+)\"");
  return std::regex_search(snippet, m, re) ? m[1].str() : std::string();
}

SecureBroker::SecureBroker(const std::string& dir, const std::vector<std::string>& nodes)
    : dir_(dir), port_(free_tcp_port()), tls_port_(free_tcp_port()) {
  while (tls_port_ == port_) tls_port_ = free_tcp_port();
  std::vector<std::pair<std::string, std::vector<std::string>>> accounts;
  for (const std::string& n : nodes) accounts.push_back({n, {"node", n}});
  accounts.push_back({"edgemon-gateway", {"gateway"}});
  for (auto& [user, args] : accounts) {
    const std::string out = dir_ + "/" + user + ".toml";
    args.insert(args.end(), {"--passwd-file", passwd_file(), "--no-reload", "--output", out});
    const CommandResult r = run_dist_script("edgemon-provision", args);
    if (r.exit_code != 0) throw std::runtime_error("edgemon-provision failed: " + r.output);
    passwords_[user] = password_from_snippet(read_file(out));
    if (passwords_[user].empty()) throw std::runtime_error("no password in " + out);
  }
  std::vector<std::string> ca_args = {"-d", tls_dir(), "--days", "2"};
  ca_args.insert(ca_args.end(), nodes.begin(), nodes.end());
  const CommandResult ca = run_dist_script("edgemon-make-test-ca", ca_args);
  if (ca.exit_code != 0) throw std::runtime_error("edgemon-make-test-ca failed: " + ca.output);

  write_file(dir_ + "/acl", read_file(kDist + "/mosquitto/acl"));
  const std::string conf = dir_ + "/mosquitto.conf";
  write_file(conf, derive_config(dir_, port_, tls_port_));
  process_ = ChildProcess::start({EDGEMON_MOSQUITTO, "-c", conf}, dir_ + "/mosquitto.log");
  if (!wait_for_tcp(port_, std::chrono::seconds(10)) || !wait_for_tcp(tls_port_, std::chrono::seconds(5))) {
    throw std::runtime_error("mosquitto did not start: " + process_.log() + log());
  }
}

SecureBroker::~SecureBroker() { process_.stop(15, std::chrono::seconds(5)); }

}  // namespace edgemon::test
