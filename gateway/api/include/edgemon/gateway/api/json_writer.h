// JsonWriter: the gateway's one way of writing JSON (API replies, WebSocket frames, readable MQTT).
// Appends straight into a string: no tree is built, so writing a node or a snapshot of the whole
// fleet costs one pass over typed values.
//
// Output is always valid JSON: strings are escaped (", \, control characters) and invalid UTF-8 is
// replaced by U+FFFD (device-supplied strings are untrusted); non-finite numbers are written as
// null; doubles in their shortest round-trip form. Commas are placed by the writer; keys and
// values must alternate inside objects (a bug otherwise: asserted in debug builds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::gateway {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(double v);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  template <typename T>
  JsonWriter& value(const std::optional<T>& v) {
    return v ? value(*v) : null();
  }
  // Already-serialized JSON (a frame's body written by another JsonWriter).
  JsonWriter& raw(std::string_view json);

  // key(k).value(v)
  template <typename T>
  JsonWriter& member(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();  // the comma before an element, if it is not the first
  void write_string(std::string_view s);

  std::string out_;
  std::vector<bool> first_;  // per open container: no element yet
  bool after_key_ = false;
};

// `s` as a JSON string literal (with quotes), escaped and UTF-8-repaired as above.
std::string json_string(std::string_view s);

}  // namespace edgemon::gateway
