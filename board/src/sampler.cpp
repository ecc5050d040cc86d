#include "edgemon/board/sampler.h"

#include "edgemon/common/log.h"

namespace edgemon::board {
namespace {
constexpr const char* kLog = "board";
}  // namespace

Sampler::Sampler(std::vector<std::unique_ptr<Sensor>> sensors, const BoardConfig& config) {
  entries_.reserve(sensors.size());
  for (auto& s : sensors) {
    Entry e;
    e.interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(config.interval_for(s->id())));
    e.sensor = std::move(s);
    entries_.push_back(std::move(e));
  }
}

void Sampler::sample(MonoTime now) {
  for (Entry& e : entries_) {
    if (e.state == State::kUnsupported) continue;
    if (e.state != State::kNew && now < e.next_due) continue;
    // Next due counted from the previous due time so the cadence does not drift; after a long
    // stall it restarts from now instead of firing repeatedly.
    e.next_due = (e.state == State::kNew || now - e.next_due > e.interval) ? now + e.interval : e.next_due + e.interval;
    const Status s = e.sensor->fetch();
    if (s) {
      if (e.state == State::kFailing) log::info(kLog, "sensor recovered", {{"sensor", e.sensor->id()}});
      e.state = State::kOk;
      continue;
    }
    if (s.error().code == ErrorCode::kUnsupported) {
      e.state = State::kUnsupported;
      log::warn(kLog, "sensor unsupported on this board, disabled",
                {{"sensor", e.sensor->id()}, {"reason", s.error().message}});
      continue;
    }
    if (e.state != State::kFailing) {
      log::warn(kLog, "sensor read failed",
                {{"sensor", e.sensor->id()}, {"code", to_string(s.error().code)}, {"error", s.error().message}});
    }
    e.state = State::kFailing;
  }
}

}  // namespace edgemon::board
