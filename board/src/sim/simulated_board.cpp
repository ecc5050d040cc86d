#include "edgemon/board/sim/simulated_board.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace edgemon::board::sim {

// ---- PRNG ----

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double SplitMix64::normalish() {
  double sum = 0;
  for (int i = 0; i < 12; ++i) sum += uniform();
  return sum - 6.0;
}

// ---- Scenario parsing ----

namespace {

constexpr std::array<std::string_view, 4> kSignalKeys = {"cpu", "memory", "latency_ms", "error_rate"};

class ScenarioParser {
 public:
  explicit ScenarioParser(std::string source) : source_(std::move(source)) {}

  void fail(const toml::node* node, const std::string& what) {
    std::ostringstream out;
    out << source_;
    if (node != nullptr && node->source().begin.line > 0) {
      out << ':' << node->source().begin.line << ':' << node->source().begin.column;
    }
    out << ": " << what;
    errors_.push_back(out.str());
  }

  bool number(const toml::node& node, const std::string& key, double& out) {
    if (const auto* f = node.as_floating_point()) {
      out = f->get();
    } else if (const auto* i = node.as_integer()) {
      out = static_cast<double>(i->get());
    } else {
      fail(&node, "'" + key + "' must be a number");
      return false;
    }
    if (!std::isfinite(out)) {
      fail(&node, "'" + key + "' must be finite");
      return false;
    }
    return true;
  }

  void windows(const toml::node& node, const std::string& key, bool with_value, std::vector<Window>& out) {
    const auto* arr = node.as_array();
    if (arr == nullptr) return fail(&node, "'" + key + "' must be an array of tables");
    for (const toml::node& item : *arr) {
      const auto* t = item.as_table();
      if (t == nullptr) {
        fail(&item, "'" + key + "' entries must be tables like { at_s = 10, duration_s = 5 }");
        continue;
      }
      Window w;
      bool has_at = false;
      bool has_dur = false;
      bool has_value = false;
      for (const auto& [k, v] : *t) {
        const std::string name(k.str());
        if (name == "at_s") has_at = number(v, key + ".at_s", w.at_s);
        else if (name == "duration_s") has_dur = number(v, key + ".duration_s", w.duration_s);
        else if (name == "value" && with_value) has_value = number(v, key + ".value", w.value);
        else fail(&v, "unknown key '" + key + "." + name + "'");
      }
      if (!has_at || !has_dur || (with_value && !has_value)) {
        fail(&item, "'" + key + "' entry needs at_s, duration_s" + (with_value ? ", value" : ""));
      } else if (w.at_s < 0 || w.duration_s < 0) {
        fail(&item, "'" + key + "' times must not be negative");
      } else {
        out.push_back(w);
      }
    }
  }

  void signal(const toml::table& t, const std::string& name, SignalScript& s) {
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      const std::string full = name + "." + key;
      if (key == "baseline") (void)number(v, full, s.baseline);
      else if (key == "noise") (void)number(v, full, s.noise);
      else if (key == "min") (void)number(v, full, s.min);
      else if (key == "max") (void)number(v, full, s.max);
      else if (key == "spikes") windows(v, full, true, s.spikes);
      else if (key == "stuck") windows(v, full, false, s.stuck);
      else fail(&v, "unknown key '" + full + "'");
    }
    if (s.noise < 0) fail(&t, "'" + name + ".noise' must not be negative");
    if (s.min > s.max) fail(&t, "'" + name + "': min > max");
  }

  Result<Scenario> run(const toml::table& root) {
    Scenario sc;
    const std::array<double, 4> default_max = {100, 100, 1e9, 100};
    const std::array<double, 4> default_base = {20, 40, 50, 0.5};
    for (std::size_t i = 0; i < 4; ++i) {
      sc.signals[i].baseline = default_base[i];
      sc.signals[i].max = default_max[i];
    }
    for (const auto& [k, v] : root) {
      const std::string key(k.str());
      if (key == "seed") {
        const auto* i = v.as_integer();
        if (i == nullptr || i->get() < 0) fail(&v, "'seed' must be a non-negative integer");
        else sc.seed = static_cast<std::uint64_t>(i->get());
        continue;
      }
      if (key == "heartbeat") {
        const auto* t = v.as_table();
        if (t == nullptr) {
          fail(&v, "'heartbeat' must be a table");
          continue;
        }
        for (const auto& [hk, hv] : *t) {
          if (hk.str() == "losses") windows(hv, "heartbeat.losses", false, sc.heartbeat_losses);
          else fail(&hv, "unknown key 'heartbeat." + std::string(hk.str()) + "'");
        }
        continue;
      }
      const auto it = std::find(kSignalKeys.begin(), kSignalKeys.end(), key);
      if (it == kSignalKeys.end()) {
        fail(&v, "unknown key '" + key + "' (expected seed, cpu, memory, latency_ms, error_rate, heartbeat)");
        continue;
      }
      const auto* t = v.as_table();
      if (t == nullptr) {
        fail(&v, "'" + key + "' must be a table");
        continue;
      }
      signal(*t, key, sc.signals[static_cast<std::size_t>(it - kSignalKeys.begin())]);
    }
    if (!errors_.empty()) {
      std::string all;
      for (const std::string& e : errors_) all += (all.empty() ? "" : "\n") + e;
      return make_error(ErrorCode::kInvalidArgument, all);
    }
    return sc;
  }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

}  // namespace

Result<Scenario> parse_scenario(std::string_view text, const std::string& source_name) {
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source_name << ':' << e.source().begin.line << ':' << e.source().begin.column << ": TOML syntax error: "
        << e.description();
    return make_error(ErrorCode::kInvalidArgument, out.str());
  }
  ScenarioParser parser(source_name);
  return parser.run(table);
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, path + ": cannot open scenario");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

// ---- SimulatedBoard ----

SimulatedBoard::SimulatedBoard(Scenario scenario, const Clock& clock)
    : scenario_(std::move(scenario)),
      clock_(clock),
      start_(clock.mono()),
      rng_{SplitMix64(scenario_.seed * 4 + 0), SplitMix64(scenario_.seed * 4 + 1), SplitMix64(scenario_.seed * 4 + 2),
           SplitMix64(scenario_.seed * 4 + 3)},
      values_{{"cpu/total", "%", {}},
              {"mem/used_percent", "%", {}},
              {"service/latency_ms", "ms", {}},
              {"service/error_rate", "%", {}},
              {"service/heartbeat", "", {}}} {}

double SimulatedBoard::elapsed_s() const { return std::chrono::duration<double>(clock_.mono() - start_).count(); }

Status SimulatedBoard::fetch() {
  const double t = elapsed_s();
  for (std::size_t i = 0; i < 4; ++i) {
    const SignalScript& s = scenario_.signals[i];
    // One draw per fetch whatever the window, so a spike does not shift the noise after it.
    const double noise = rng_[i].normalish() * s.noise;
    const bool stuck = have_last_[i] && std::any_of(s.stuck.begin(), s.stuck.end(), [t](const Window& w) {
                         return w.contains(t);
                       });
    double v = last_[i];
    if (!stuck) {
      v = s.baseline + noise;
      for (const Window& w : s.spikes) {
        if (w.contains(t)) v = w.value;
      }
      v = std::clamp(v, s.min, s.max);
    }
    last_[i] = v;
    have_last_[i] = true;
    values_[i].value = v;
  }
  alive_ = std::none_of(scenario_.heartbeat_losses.begin(), scenario_.heartbeat_losses.end(),
                        [t](const Window& w) { return w.contains(t); });
  if (alive_) values_[4].value = 1.0;
  else values_[4].value.reset();
  return Status::Ok();
}

}  // namespace edgemon::board::sim
