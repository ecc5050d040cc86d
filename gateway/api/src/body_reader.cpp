#include "edgemon/gateway/api/body_reader.h"

#include <cmath>
#include <limits>

namespace edgemon::gateway {
namespace {

std::string range_text(std::int64_t min, std::int64_t max) {
  return "between " + std::to_string(min) + " and " + std::to_string(max);
}

}  // namespace

BodyReader::BodyReader(std::string_view body, std::string usage) : usage_(std::move(usage)) {
  body_ = nlohmann::json::parse(body, nullptr, false);
  const auto with_usage = [this](std::string what) { return usage_.empty() ? what : what + "; needs " + usage_; };
  if (body_.is_discarded()) {
    error_ = with_usage("the body is not JSON");
  } else if (!body_.is_object()) {
    error_ = with_usage("the body must be a JSON object");
  }
}

bool BodyReader::has(std::string_view key) const {
  if (!ok()) return false;
  const auto it = body_.find(key);
  return it != body_.end() && !it->is_null();
}

bool BodyReader::contains(std::string_view key) const { return ok() && body_.find(key) != body_.end(); }

const nlohmann::json* BodyReader::find(std::string_view key, bool required) {
  if (!ok()) return nullptr;
  known_.emplace(key);
  const auto it = body_.find(key);
  if (it == body_.end() || it->is_null()) {
    if (required) fail(std::string(key) + ": required" + (usage_.empty() ? "" : "; needs " + usage_));
    return nullptr;
  }
  return &*it;
}

void BodyReader::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

void BodyReader::allow(std::string_view key) { known_.emplace(key); }

const nlohmann::json* BodyReader::member(std::string_view key, bool required) { return find(key, required); }

std::optional<std::string> BodyReader::text(std::string_view key, std::size_t max_bytes, bool required) {
  const nlohmann::json* v = find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string() || v->get_ref<const std::string&>().size() > max_bytes) {
    fail(std::string(key) + ": must be a string of at most " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::int64_t> BodyReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                                bool required) {
  const nlohmann::json* v = find(key, required);
  if (v == nullptr) return std::nullopt;
  const std::string err = std::string(key) + ": must be an integer " + range_text(min, max);
  if (v->is_number_unsigned()) {
    const std::uint64_t u = v->get<std::uint64_t>();
    if (max < 0 || u > static_cast<std::uint64_t>(max)) {
      fail(err);
      return std::nullopt;
    }
    const auto i = static_cast<std::int64_t>(u);
    if (i < min) {
      fail(err);
      return std::nullopt;
    }
    return i;
  }
  if (v->is_number_integer()) {
    const std::int64_t i = v->get<std::int64_t>();
    if (i < min || i > max) {
      fail(err);
      return std::nullopt;
    }
    return i;
  }
  fail(err);  // floats (1e300), strings, booleans
  return std::nullopt;
}

std::optional<double> BodyReader::number(std::string_view key, double min, double max, bool required) {
  const nlohmann::json* v = find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < min || v->get<double>() > max) {
    fail(std::string(key) + ": must be a number between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> BodyReader::boolean(std::string_view key, bool required) {
  const nlohmann::json* v = find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(std::string(key) + ": must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> BodyReader::strings(std::string_view key, std::size_t max_items,
                                                           std::size_t max_bytes, bool required) {
  const nlohmann::json* v = find(key, required);
  if (v == nullptr) return std::nullopt;
  const std::string err = std::string(key) + ": must be an array of at most " + std::to_string(max_items) +
                          " strings of at most " + std::to_string(max_bytes) + " bytes";
  if (!v->is_array() || v->size() > max_items) {
    fail(err);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const nlohmann::json& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().size() > max_bytes) {
      fail(err);
      return std::nullopt;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

const nlohmann::json& BodyReader::all() {
  if (ok()) {
    for (const auto& [k, v] : body_.items()) known_.insert(k);
  }
  return body_;
}

Status BodyReader::finish() {
  if (ok()) {
    std::string unknown;
    for (const auto& [k, v] : body_.items()) {
      if (known_.contains(k)) continue;
      if (!unknown.empty()) unknown += ", ";
      unknown += k.size() > 64 ? k.substr(0, 64) + "..." : k;
    }
    if (!unknown.empty()) {
      std::string known;
      for (const std::string& k : known_) known += (known.empty() ? "" : ", ") + k;
      fail("unknown member(s): " + unknown + " (known: " + known + ")");
    }
  }
  if (!ok()) return make_error(ErrorCode::kInvalidArgument, error_);
  return Status::Ok();
}

}  // namespace edgemon::gateway
