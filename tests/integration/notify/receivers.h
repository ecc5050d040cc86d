// Real receivers for notification tests, each on its own free 127.0.0.1 port, each serving
// connections one at a time on a background thread: a tiny HTTP server that records POSTs and an
// SMTP sink that records envelopes and messages. Destructors stop and join.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace edgemon::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpReceiver {
 public:
  explicit HttpReceiver(unsigned status = 200);
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;
  std::uint16_t port() const { return port_; }
  // Waits until at least `count` requests arrived; returns them all.
  std::vector<ReceivedRequest> wait_for(std::size_t count, std::chrono::milliseconds timeout);

 private:
  void serve();
  struct Impl;
  Impl* impl_;
  unsigned status_;
  std::uint16_t port_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<ReceivedRequest> requests_;
  bool stopping_ = false;
  std::thread thread_;
};

struct SmtpMessage {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // as received, dot-unstuffed, without the final ".\r\n"
};

class SmtpSink {
 public:
  SmtpSink();
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;
  std::uint16_t port() const { return port_; }
  std::vector<SmtpMessage> wait_for(std::size_t count, std::chrono::milliseconds timeout);

 private:
  void serve();
  struct Impl;
  Impl* impl_;
  std::uint16_t port_ = 0;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<SmtpMessage> messages_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace edgemon::test
