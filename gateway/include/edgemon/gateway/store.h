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
  virtual int schema_version() const = 0;
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode and runs migrations.
// Errors: kIo naming the path and SQLite's message.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace edgemon::gateway
