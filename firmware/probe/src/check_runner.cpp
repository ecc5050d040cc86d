#include "edgemon/probe/check_runner.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>

#include "curl_check.h"
#include "errno_text.h"

namespace edgemon::probe {

struct CheckRunner::Running {
  CurlCheck check;
  std::size_t index = 0;
  MonoTime start{};
  bool active = false;
};

namespace {

int socket_cb(CURL*, curl_socket_t s, int what, void* user, void*) {
  static_cast<CheckRunner*>(user)->on_socket(s, what);
  return 0;
}

int timer_cb(CURLM*, long timeout_ms, void* user) {
  static_cast<CheckRunner*>(user)->on_timer(timeout_ms);
  return 0;
}

}  // namespace

const char* to_string(CheckKind k) {
  switch (k) {
    case CheckKind::kTcp:
      return "tcp";
    case CheckKind::kHttp:
      return "http";
    case CheckKind::kGrpcHealth:
      return "grpc";
  }
  return "?";
}

Result<std::unique_ptr<CheckRunner>> CheckRunner::create(const Clock& clock) {
  CurlCheck init;  // runs curl_global_init once
  auto r = std::unique_ptr<CheckRunner>(new CheckRunner(clock));
  CURLM* m = curl_multi_init();
  if (m == nullptr) {
    return make_error(ErrorCode::kInternal, "curl_multi_init failed");
  }
  r->multi_ = m;
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &socket_cb);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, r.get());
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &timer_cb);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, r.get());
  return r;
}

CheckRunner::CheckRunner(const Clock& clock) : clock_(clock) {}

CheckRunner::~CheckRunner() {
  cancel_all();
  if (multi_ != nullptr) {
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
  }
}

void CheckRunner::on_socket(int fd, int what) {
  auto it = std::find_if(fds_.begin(), fds_.end(), [fd](const pollfd& p) { return p.fd == fd; });
  if (what == CURL_POLL_REMOVE) {
    if (it != fds_.end()) {
      fds_.erase(it);
    }
    return;
  }
  short events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
    events |= POLLIN;
  }
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
    events |= POLLOUT;
  }
  if (it == fds_.end()) {
    fds_.push_back(pollfd{fd, events, 0});
  } else {
    it->events = events;
  }
}

void CheckRunner::on_timer(long timeout_ms) {
  if (timeout_ms < 0) {
    timer_.reset();
  } else {
    timer_ = clock_.mono() + std::chrono::milliseconds(timeout_ms);
  }
}

void CheckRunner::set_checks(std::vector<CheckSpec> checks) {
  cancel_all();
  checks_ = std::move(checks);
  reports_.assign(checks_.size(), CheckReport{});
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    reports_[i].name = checks_[i].name;
    reports_[i].kind = checks_[i].kind;
  }
}

void CheckRunner::cancel_all() {
  auto* m = static_cast<CURLM*>(multi_);
  for (auto& r : running_checks_) {
    if (r->active) {
      curl_multi_remove_handle(m, r->check.easy());
      CheckReport& rep = reports_[r->index];
      rep.round = round_;
      rep.result = CheckResult{
          false, std::chrono::duration<double, std::milli>(clock_.mono() - r->start).count(), 0,
          "superseded"};
    }
  }
  running_checks_.clear();
  running_ = 0;
}

void CheckRunner::start_round(MonoTime now) {
  if (running_ > 0) {
    cancel_all();
    complete_ = true;  // the cancelled round is reported
  }
  ++round_;
  auto* m = static_cast<CURLM*>(multi_);
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    auto r = std::make_unique<Running>();
    r->index = i;
    r->start = now;
    const CheckSpec& c = checks_[i];
    const bool ok = c.kind == CheckKind::kTcp    ? r->check.prepare_tcp(c.tcp)
                    : c.kind == CheckKind::kHttp ? r->check.prepare_http(c.http)
                                                 : r->check.prepare_grpc(c.grpc);
    if (!ok || curl_multi_add_handle(m, r->check.easy()) != CURLM_OK) {
      reports_[i].round = round_;
      reports_[i].result = r->check.finish(CURLE_FAILED_INIT, 0.0);
      continue;
    }
    curl_easy_setopt(r->check.easy(), CURLOPT_PRIVATE, r.get());
    r->active = true;
    ++running_;
    running_checks_.push_back(std::move(r));
  }
  if (running_ == 0) {
    complete_ = true;
  }
}

bool CheckRunner::take_round_complete() {
  const bool c = complete_;
  complete_ = false;
  return c;
}

void CheckRunner::collect() {
  auto* m = static_cast<CURLM*>(multi_);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
    if (msg->msg != CURLMSG_DONE) {
      continue;
    }
    Running* r = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&r));
    if (r == nullptr || !r->active) {
      continue;
    }
    const CURLcode rc = msg->data.result;
    curl_multi_remove_handle(m, r->check.easy());
    r->active = false;
    CheckReport& rep = reports_[r->index];
    rep.round = round_;
    rep.result = r->check.finish(
        rc, std::chrono::duration<double, std::milli>(clock_.mono() - r->start).count());
    if (--running_ == 0) {
      complete_ = true;
      running_checks_.clear();
      return;
    }
  }
}

void CheckRunner::drain(MonoTime now, std::span<const pollfd> polled) {
  auto* m = static_cast<CURLM*>(multi_);
  int still = 0;
  for (const pollfd& p : polled) {
    if (p.revents == 0) {
      continue;
    }
    const bool ours =
        std::any_of(fds_.begin(), fds_.end(), [&](const pollfd& f) { return f.fd == p.fd; });
    if (!ours) {
      continue;
    }
    int flags = 0;
    if ((p.revents & POLLIN) != 0) {
      flags |= CURL_CSELECT_IN;
    }
    if ((p.revents & POLLOUT) != 0) {
      flags |= CURL_CSELECT_OUT;
    }
    if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      flags |= CURL_CSELECT_ERR;
    }
    curl_multi_socket_action(m, p.fd, flags, &still);
  }
  if (timer_ && now >= *timer_) {
    timer_.reset();
    curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &still);
  }
  collect();
}

Status CheckRunner::run_round() {
  start_round(clock_.mono());
  while (round_active()) {
    std::vector<pollfd> fds(fds_.begin(), fds_.end());
    int wait_ms = 1000;
    if (timer_) {
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(
          std::chrono::ceil<std::chrono::milliseconds>(*timer_ - clock_.mono()).count(), 0, 1000));
    }
    const int rc = ::poll(fds.data(), fds.size(), wait_ms);
    if (rc < 0 && errno != EINTR) {
      return make_error(ErrorCode::kIo, "poll: " + errno_text(errno));
    }
    drain(clock_.mono(), fds);
  }
  return Status::Ok();
}

}  // namespace edgemon::probe
