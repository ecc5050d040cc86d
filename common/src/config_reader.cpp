#include "edgemon/common/config_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace edgemon {
std::string describe_toml_value(const toml::node& node) {
  std::ostringstream out;
  if (node.is_string()) {
    out << '"' << node.as_string()->get() << '"';
  } else if (node.is_table()) {
    out << "a table";
  } else if (node.is_array()) {
    out << "an array";
  } else if (const auto* i = node.as_integer()) {
    out << i->get();
  } else if (const auto* f = node.as_floating_point()) {
    out << f->get();
  } else if (const auto* b = node.as_boolean()) {
    out << (b->get() ? "true" : "false");
  } else {
    out << "a " << node.type();
  }
  return out.str();
}


Result<ConfigReader> ConfigReader::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      path + ": cannot open config file: " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<ConfigReader> ConfigReader::parse(std::string_view text, std::string source_name) {
  ConfigReader reader;
  reader.source_ = std::move(source_name);
  try {
    reader.root_ = toml::parse(text, reader.source_);
  } catch (const toml::parse_error& err) {
    std::ostringstream msg;
    msg << reader.source_ << ':' << err.source().begin.line << ':' << err.source().begin.column
        << ": TOML syntax error: " << err.description();
    return make_error(ErrorCode::kInvalidArgument, msg.str());
  }
  return reader;
}

const toml::node* ConfigReader::find(std::string_view key) {
  known_.emplace(key);
  return root_.at_path(key).node();
}

bool ConfigReader::has(std::string_view key) const { return root_.at_path(key).node() != nullptr; }

std::string ConfigReader::where(std::string_view key, const toml::node* node) const {
  std::ostringstream out;
  out << source_;
  if (node != nullptr && node->source().begin.line > 0) {
    out << ':' << node->source().begin.line << ':' << node->source().begin.column;
  }
  out << ": key '" << key << "': ";
  return out.str();
}

void ConfigReader::add_error(std::string_view key, std::string_view message) {
  errors_.push_back(where(key, root_.at_path(key).node()) + std::string(message));
}

std::string ConfigReader::get_string(std::string_view key, std::string def) {
  const toml::node* node = find(key);
  if (node == nullptr) return def;
  if (const auto* s = node->as_string()) return s->get();
  errors_.push_back(where(key, node) + "must be a string, got " + describe_toml_value(*node));
  return def;
}

std::int64_t ConfigReader::get_int(std::string_view key, std::int64_t def, std::int64_t min,
                                   std::int64_t max) {
  const toml::node* node = find(key);
  if (node == nullptr) return def;
  const auto* i = node->as_integer();
  if (i == nullptr) {
    errors_.push_back(where(key, node) + "must be an integer, got " + describe_toml_value(*node));
    return def;
  }
  if (i->get() < min || i->get() > max) {
    errors_.push_back(where(key, node) + "must be between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got " + std::to_string(i->get()));
    return def;
  }
  return i->get();
}

double ConfigReader::get_double(std::string_view key, double def, double min, double max) {
  const toml::node* node = find(key);
  if (node == nullptr) return def;
  double v = 0;
  if (const auto* f = node->as_floating_point()) {
    v = f->get();
  } else if (const auto* i = node->as_integer()) {
    v = static_cast<double>(i->get());
  } else {
    errors_.push_back(where(key, node) + "must be a number, got " + describe_toml_value(*node));
    return def;
  }
  if (!(v >= min && v <= max)) {  // also rejects NaN
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max << ", got " << describe_toml_value(*node);
    errors_.push_back(where(key, node) + msg.str());
    return def;
  }
  return v;
}

bool ConfigReader::get_bool(std::string_view key, bool def) {
  const toml::node* node = find(key);
  if (node == nullptr) return def;
  if (const auto* b = node->as_boolean()) return b->get();
  errors_.push_back(where(key, node) + "must be true or false, got " + describe_toml_value(*node));
  return def;
}

std::vector<std::string> ConfigReader::get_string_array(std::string_view key,
                                                        std::vector<std::string> def) {
  const toml::node* node = find(key);
  if (node == nullptr) return def;
  const auto* arr = node->as_array();
  if (arr == nullptr) {
    errors_.push_back(where(key, node) + "must be an array of strings, got " + describe_toml_value(*node));
    return def;
  }
  std::vector<std::string> out;
  for (const toml::node& item : *arr) {
    const auto* s = item.as_string();
    if (s == nullptr) {
      errors_.push_back(where(key, &item) + "must be an array of strings, got element " +
                        describe_toml_value(item));
      return def;
    }
    out.push_back(s->get());
  }
  return out;
}

std::map<std::string, double> ConfigReader::get_number_table(std::string_view key, double min, double max) {
  std::map<std::string, double> out;
  const toml::node* node = find(key);
  if (node == nullptr) return out;
  const auto* table = node->as_table();
  if (table == nullptr) {
    errors_.push_back(where(key, node) + "must be a table of numbers, got " + describe_toml_value(*node));
    return out;
  }
  for (const auto& [k, v] : *table) {
    double d = 0;
    if (const auto* f = v.as_floating_point()) {
      d = f->get();
    } else if (const auto* i = v.as_integer()) {
      d = static_cast<double>(i->get());
    } else {
      errors_.push_back(where(std::string(key) + "." + std::string(k.str()), &v) + "must be a number");
      continue;
    }
    if (!(d >= min && d <= max)) {
      errors_.push_back(where(std::string(key) + "." + std::string(k.str()), &v) + "out of range");
      continue;
    }
    out.emplace(std::string(k.str()), d);
  }
  return out;
}

void ConfigReader::collect_unknown(const toml::table& table, const std::string& prefix) {
  for (const auto& [k, node] : table) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (known_.count(path) != 0) continue;
    if (const auto* sub = node.as_table()) {
      // A table is known if any key under it was asked for.
      const auto it = known_.lower_bound(path + ".");
      if (it != known_.end() && it->rfind(path + ".", 0) == 0) {
        collect_unknown(*sub, path);
        continue;
      }
    }
    errors_.push_back(where(path, &node) + "unknown key (check the spelling; see docs/config.md)");
  }
}

Status ConfigReader::finish() {
  collect_unknown(root_, "");
  if (errors_.empty()) return Status::Ok();
  std::string all;
  for (const std::string& e : errors_) {
    if (!all.empty()) all += '\n';
    all += e;
  }
  errors_.clear();
  return make_error(ErrorCode::kInvalidArgument, all);
}

}  // namespace edgemon
