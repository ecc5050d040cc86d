// StoreReader: history queries on a thread of their own, so the io thread that relays telemetry
// and WebSocket frames never waits on SQLite (a 30-day history query takes 30-70 ms).
//
// It owns a read-only Store (its own SQLite connection: WAL readers do not block the writer) and
// one thread. query() runs a function on that thread and resumes the awaiting coroutine on its own
// executor with the result, like AuthService does for the user database. At most `max_pending`
// queries wait or run at once; beyond that query() answers kUnavailable at once ("busy"), so a
// client looping on heavy queries cannot queue unbounded work.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include "edgemon/common/result.h"
#include "edgemon/gateway/asio_prelude.h"
#include "edgemon/gateway/store/store.h"

namespace edgemon::gateway {

class StoreReader {
 public:
  // `nice`: the reader thread's scheduling niceness (Linux; 0 leaves it): history queries are
  // background work, and on a small board the live path (ingest, WebSocket frames) must win the
  // CPU when both want it.
  StoreReader(std::unique_ptr<Store> store, std::size_t max_pending = 16, int nice = 10)
      : store_(std::move(store)), max_pending_(max_pending) {
    if (nice != 0) {
      asio::post(pool_, [nice] {
        errno = 0;
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);  // best effort
      });
    }
  }
  ~StoreReader() { pool_.join(); }  // finishes what is queued
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  // Runs f(Store&) -> Result<T> on the reader thread. Errors: f's, or kUnavailable when
  // max_pending queries are already waiting. Pass a named function object (std::move(job)), not
  // a temporary built inside the co_await expression: GCC 12 destroys such temporaries twice.
  template <typename F>
  auto query(F f) -> asio::awaitable<decltype(f(std::declval<Store&>()))> {
    using R = decltype(f(std::declval<Store&>()));
    if (pending_.fetch_add(1) >= max_pending_) {
      pending_.fetch_sub(1);
      ++refused_;
      co_return R(make_error(ErrorCode::kUnavailable, "history reader busy: too many queries at once, try again"));
    }
    // co_spawn hands the result back through a default-constructible slot: wrap it. The coroutine
    // lambda captures only trivially copyable values (GCC 12 destroys non-trivial captures of a
    // coroutine lambda twice); `f` lives in this frame, which waits for it.
    F* job = &f;
    std::optional<R> out = co_await asio::co_spawn(
        pool_.get_executor(),
        [this, job]() -> asio::awaitable<std::optional<R>> {
          std::optional<R> r((*job)(*store_));
          pending_.fetch_sub(1);
          ++served_;
          co_return r;
        },
        asio::use_awaitable);
    co_return std::move(*out);
  }

  std::size_t pending() const { return pending_.load(); }
  std::uint64_t served() const { return served_.load(); }
  std::uint64_t refused() const { return refused_.load(); }
  int schema_version() const { return store_->schema_version(); }

 private:
  std::unique_ptr<Store> store_;
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> refused_{0};
  asio::thread_pool pool_{1};
};

}  // namespace edgemon::gateway
