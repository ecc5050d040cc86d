// Result<T> and Status: expected failures are values the caller must look at.
// A small fixed set of error codes (after Abseil's canonical codes) keeps handling uniform.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace edgemon {

enum class ErrorCode {
  kInvalidArgument,   // the input is malformed or out of range
  kNotFound,          // a file, key or object does not exist
  kUnsupported,       // this board/kernel/build cannot do it
  kPermissionDenied,  // missing capability or file permission
  kUnavailable,       // transient: peer gone, would block, try later
  kResourceExhausted, // disk full, queue full
  kConflict,          // exists already, or is not this caller's to change (read-only)
  kIo,                // any other system call failure
  kInternal,          // a bug: should not happen
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace edgemon
