// SQLite history: open_sqlite_store(), maintain() and the plumbing (transactions, cached
// statements, errors). The design is described at the top of sqlite_store_impl.h.
#include "sqlite_store_impl.h"

#include <memory>
#include <string>
#include <utility>

namespace edgemon::gateway::sqlite {

SqliteStore::SqliteStore(sqlite3* db, const SqliteOptions& options) : db_(db), options_(options) {
  options_.maintenance_chunk = std::max<std::size_t>(options_.maintenance_chunk, 1);
}

SqliteStore::~SqliteStore() {
  statements_.clear();
  sqlite3_close(db_);
}

Result<MaintenanceReport> SqliteStore::maintain(std::int64_t now_ms) {
  if (options_.read_only) return read_only_error().error();
  MaintenanceReport report;
  // Rollups first: retention below is capped by what is still dirty.
  if (Status s = transaction([&] { return roll_up_chunk(now_ms, report); }); !s) return s.error();
  if (Status s = apply_retention(now_ms, report); !s) return s.error();
  if (Status s = transaction([&] { return build_reports(now_ms, report); }); !s) return s.error();
  return report;
}

// The cached prepared statement for `sql` (a string that outlives the store), or nullptr.
sqlite3_stmt* SqliteStore::stmt(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto st = std::make_unique<Statement>(db_, sql);
    if (!*st) return nullptr;
    it = statements_.emplace(sql, std::move(st)).first;
  }
  return it->second->get();
}

Status SqliteStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    Status s = error(msg != nullptr ? msg : "exec");
    sqlite3_free(msg);
    return s;
  }
  return Status::Ok();
}

Status SqliteStore::error(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_);
  const ErrorCode ec = (code & 0xff) == SQLITE_FULL ? ErrorCode::kResourceExhausted : ErrorCode::kIo;
  return make_error(ec, "sqlite: " + what + ": " + sqlite3_errmsg(db_));
}

Status SqliteStore::read_only_error() {
  return make_error(ErrorCode::kPermissionDenied, "sqlite: this store was opened read-only");
}

}  // namespace edgemon::gateway::sqlite

namespace edgemon::gateway {

using sqlite::SqliteStore;

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  sqlite3* db = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": cannot open database: " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return make_error(ErrorCode::kIo, msg);
  }
  auto store = std::make_unique<SqliteStore>(db, options);
  if (Status s = store->init(); !s) {
    return make_error(s.error().code, path + ": " + s.error().message);
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) { return open_sqlite_store(path, SqliteOptions{}); }

}  // namespace edgemon::gateway
