#include "support/mosquitto_broker.h"

#include <stdexcept>

#include "support/net.h"

namespace edgemon::test {

MosquittoBroker::MosquittoBroker(const std::string& dir, const std::string& extra_config)
    : dir_(dir), config_path_(dir + "/mosquitto.conf"), port_(free_tcp_port()) {
  write_file(config_path_, "# generated for one test\n"
                           "listener " + std::to_string(port_) + " 127.0.0.1\n"
                           "allow_anonymous true\n"
                           "persistence false\n"
                           "log_dest stdout\n"
                           "log_type error\nlog_type warning\nlog_type notice\n" + extra_config);
  launch();
}

void MosquittoBroker::launch() {
  process_ = ChildProcess::start({"mosquitto", "-c", config_path_}, dir_ + "/mosquitto.log");
  if (!wait_for_tcp(port_, std::chrono::seconds(10))) {
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ": " + process_.log());
  }
}

void MosquittoBroker::restart() {
  stop();
  launch();
}

}  // namespace edgemon::test
