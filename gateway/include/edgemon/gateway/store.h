// Store: durable history behind an interface, so a PostgreSQL implementation can follow the
// SQLite one. Calls are made from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgemon/common/result.h"
#include "edgemon/common/telemetry.h"

namespace edgemon::gateway {

struct SeriesPoint {
  std::int64_t ts_ms = 0;
  std::optional<double> value;
};

// A state transition of an alert rule: {subject, from, to, at, reason}.
struct StoredEvent {
  std::int64_t at_ms = 0;
  std::string subject;   // "<group>/<node>" or "<group>/<node>/<metric>"
  std::string rule;
  std::string type;      // e.g. HIGH_CPU, NODE_DOWN
  std::string from;
  std::string to;
  std::string reason;
  std::string severity;
  bool suppressed = false;  // inside a silence or maintenance window: recorded, not notified
};

struct StoredIncident {
  std::string subject;
  std::string rule;
  std::string type;
  std::string severity;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;  // open while empty
};

class Store {
 public:
  virtual ~Store() = default;
  // Appends one node's metrics in one transaction. Errors: kResourceExhausted (disk full),
  // kIo (other storage failure). Nothing is partially written.
  virtual Status append(const std::string& group, const std::string& node, std::span<const Metric> metrics) = 0;
  // Raw samples of one series in [from_ms, to_ms], oldest first, at most `limit`.
  virtual Result<std::vector<SeriesPoint>> query(const std::string& group, const std::string& node,
                                                 const std::string& metric, std::int64_t from_ms,
                                                 std::int64_t to_ms, std::size_t limit) = 0;
  // Errors as append().
  virtual Status append_event(const StoredEvent& event) = 0;
  // Inserts or closes the incident identified by (subject, rule, start).
  virtual Status upsert_incident(const StoredIncident& incident) = 0;
  // Newest first, at most `limit`, skipping `offset`.
  virtual Result<std::vector<StoredEvent>> events(std::size_t limit, std::size_t offset) = 0;
  virtual Result<std::vector<StoredIncident>> incidents(std::size_t limit, std::size_t offset) = 0;
  virtual int schema_version() const = 0;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode and runs migrations.
// Errors: kIo naming the path and SQLite's message.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace edgemon::gateway
