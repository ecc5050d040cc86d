// SQLite history: WAL mode, versioned migrations (PRAGMA user_version), one transaction per append.
#include <sqlite3.h>

#include <map>
#include <utility>

#include "edgemon/common/log.h"
#include "edgemon/gateway/store.h"

namespace edgemon::gateway {
namespace {

constexpr const char* kLog = "store";

// Each entry moves the schema from version i to i + 1. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE nodes (
      id INTEGER PRIMARY KEY,
      grp TEXT NOT NULL,
      node TEXT NOT NULL,
      UNIQUE (grp, node)
    );
    CREATE TABLE series (
      id INTEGER PRIMARY KEY,
      node_id INTEGER NOT NULL REFERENCES nodes(id),
      metric TEXT NOT NULL,
      unit TEXT NOT NULL,
      UNIQUE (node_id, metric)
    );
    CREATE TABLE samples (
      series_id INTEGER NOT NULL REFERENCES series(id),
      ts_ms INTEGER NOT NULL,
      value REAL,
      PRIMARY KEY (series_id, ts_ms)
    ) WITHOUT ROWID;
    )sql",
    R"sql(
    CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      at_ms INTEGER NOT NULL,
      subject TEXT NOT NULL,
      rule TEXT NOT NULL,
      type TEXT NOT NULL,
      from_state TEXT NOT NULL,
      to_state TEXT NOT NULL,
      reason TEXT NOT NULL,
      severity TEXT NOT NULL,
      suppressed INTEGER NOT NULL
    );
    CREATE INDEX events_at ON events(at_ms);
    CREATE TABLE incidents (
      id INTEGER PRIMARY KEY,
      subject TEXT NOT NULL,
      rule TEXT NOT NULL,
      type TEXT NOT NULL,
      severity TEXT NOT NULL,
      start_ms INTEGER NOT NULL,
      end_ms INTEGER,
      UNIQUE (subject, rule, start_ms)
    );
    )sql",
};

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    insert_.reset();
    node_.reset();
    series_.reset();
    select_.reset();
    sqlite3_close(db_);
  }

  Status init() {
    if (Status s = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"); !s) return s;
    sqlite3_busy_timeout(db_, 2000);
    int version = 0;
    {
      Statement st(db_, "PRAGMA user_version");
      if (st && sqlite3_step(st.get()) == SQLITE_ROW) version = sqlite3_column_int(st.get(), 0);
    }
    const int target = static_cast<int>(std::size(kMigrations));
    if (version > target) {
      return make_error(ErrorCode::kInvalidArgument, "database schema version " + std::to_string(version) +
                                                         " is newer than this gateway (" + std::to_string(target) + ")");
    }
    for (int v = version; v < target; ++v) {
      std::string sql = "BEGIN;";
      sql += kMigrations[v];
      sql += "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
      if (Status s = exec(sql.c_str()); !s) {
        (void)exec("ROLLBACK;");
        return s;
      }
      log::info(kLog, "schema migrated", {{"to_version", v + 1}});
    }
    version_ = target;
    insert_ = std::make_unique<Statement>(db_, "INSERT OR REPLACE INTO samples(series_id, ts_ms, value) VALUES (?, ?, ?)");
    node_ = std::make_unique<Statement>(db_, "INSERT INTO nodes(grp, node) VALUES (?, ?) ON CONFLICT(grp, node) DO UPDATE SET grp=grp RETURNING id");
    series_ = std::make_unique<Statement>(db_, "INSERT INTO series(node_id, metric, unit) VALUES (?, ?, ?) ON CONFLICT(node_id, metric) DO UPDATE SET unit=excluded.unit RETURNING id");
    select_ = std::make_unique<Statement>(db_,
        "SELECT s.ts_ms, s.value FROM samples s JOIN series r ON r.id = s.series_id JOIN nodes n ON n.id = r.node_id "
        "WHERE n.grp = ? AND n.node = ? AND r.metric = ? AND s.ts_ms BETWEEN ? AND ? ORDER BY s.ts_ms LIMIT ?");
    if (!*insert_ || !*node_ || !*series_ || !*select_) return error("prepare");
    return Status::Ok();
  }

  Status append(const std::string& group, const std::string& node, std::span<const Metric> metrics) override {
    if (Status s = exec("BEGIN IMMEDIATE;"); !s) return s;
    Status result = write_all(group, node, metrics);
    if (result) result = exec("COMMIT;");
    if (!result) {
      (void)exec("ROLLBACK;");
      ids_.clear();  // ids created in the rolled-back transaction are gone
    }
    return result;
  }

  Result<std::vector<SeriesPoint>> query(const std::string& group, const std::string& node, const std::string& metric,
                                         std::int64_t from_ms, std::int64_t to_ms, std::size_t limit) override {
    sqlite3_stmt* st = select_->get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, group.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, node.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, metric.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, from_ms);
    sqlite3_bind_int64(st, 5, to_ms);
    sqlite3_bind_int64(st, 6, static_cast<sqlite3_int64>(limit));
    std::vector<SeriesPoint> out;
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      SeriesPoint p;
      p.ts_ms = sqlite3_column_int64(st, 0);
      if (sqlite3_column_type(st, 1) != SQLITE_NULL) p.value = sqlite3_column_double(st, 1);
      out.push_back(p);
    }
    if (rc != SQLITE_DONE) return error("query").error();
    return out;
  }

  Status append_event(const StoredEvent& e) override {
    Statement st(db_, "INSERT INTO events(at_ms, subject, rule, type, from_state, to_state, reason, severity, suppressed) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return error("prepare event");
    sqlite3_bind_int64(st.get(), 1, e.at_ms);
    const std::string* texts[] = {&e.subject, &e.rule, &e.type, &e.from, &e.to, &e.reason, &e.severity};
    for (int i = 0; i < 7; ++i) sqlite3_bind_text(st.get(), i + 2, texts[i]->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st.get(), 9, e.suppressed ? 1 : 0);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return error("insert event");
    return Status::Ok();
  }

  Status upsert_incident(const StoredIncident& i) override {
    Statement st(db_, "INSERT INTO incidents(subject, rule, type, severity, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT(subject, rule, start_ms) DO UPDATE SET end_ms = excluded.end_ms, severity = excluded.severity");
    if (!st) return error("prepare incident");
    const std::string* texts[] = {&i.subject, &i.rule, &i.type, &i.severity};
    for (int k = 0; k < 4; ++k) sqlite3_bind_text(st.get(), k + 1, texts[k]->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 5, i.start_ms);
    if (i.end_ms) {
      sqlite3_bind_int64(st.get(), 6, *i.end_ms);
    } else {
      sqlite3_bind_null(st.get(), 6);
    }
    if (sqlite3_step(st.get()) != SQLITE_DONE) return error("upsert incident");
    return Status::Ok();
  }

  Result<std::vector<StoredEvent>> events(std::size_t limit, std::size_t offset) override {
    Statement st(db_, "SELECT at_ms, subject, rule, type, from_state, to_state, reason, severity, suppressed FROM events "
                      "ORDER BY id DESC LIMIT ? OFFSET ?");
    if (!st) return error("prepare events").error();
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(limit));
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(offset));
    std::vector<StoredEvent> out;
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      StoredEvent e;
      e.at_ms = sqlite3_column_int64(st.get(), 0);
      std::string* texts[] = {&e.subject, &e.rule, &e.type, &e.from, &e.to, &e.reason, &e.severity};
      for (int i = 0; i < 7; ++i) *texts[i] = column_text(st.get(), i + 1);
      e.suppressed = sqlite3_column_int(st.get(), 8) != 0;
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::vector<StoredIncident>> incidents(std::size_t limit, std::size_t offset) override {
    Statement st(db_, "SELECT subject, rule, type, severity, start_ms, end_ms FROM incidents "
                      "ORDER BY start_ms DESC, id DESC LIMIT ? OFFSET ?");
    if (!st) return error("prepare incidents").error();
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(limit));
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(offset));
    std::vector<StoredIncident> out;
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      StoredIncident i;
      i.subject = column_text(st.get(), 0);
      i.rule = column_text(st.get(), 1);
      i.type = column_text(st.get(), 2);
      i.severity = column_text(st.get(), 3);
      i.start_ms = sqlite3_column_int64(st.get(), 4);
      if (sqlite3_column_type(st.get(), 5) != SQLITE_NULL) i.end_ms = sqlite3_column_int64(st.get(), 5);
      out.push_back(std::move(i));
    }
    return out;
  }

  int schema_version() const override { return version_; }

 private:
  Status write_all(const std::string& group, const std::string& node, std::span<const Metric> metrics) {
    for (const Metric& m : metrics) {
      auto id = series_id(group, node, m);
      if (!id) return id.error();
      sqlite3_stmt* st = insert_->get();
      sqlite3_reset(st);
      sqlite3_bind_int64(st, 1, *id);
      sqlite3_bind_int64(st, 2, m.ts_ms);
      if (m.value) {
        sqlite3_bind_double(st, 3, *m.value);
      } else {
        sqlite3_bind_null(st, 3);
      }
      if (sqlite3_step(st) != SQLITE_DONE) return error("insert sample");
    }
    return Status::Ok();
  }

  Result<sqlite3_int64> series_id(const std::string& group, const std::string& node, const Metric& m) {
    const std::string key = group + '\x1f' + node + '\x1f' + m.name;
    if (const auto it = ids_.find(key); it != ids_.end()) return it->second;
    sqlite3_stmt* st = node_->get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, group.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, node.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) return error("upsert node").error();
    const sqlite3_int64 node_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_stmt* ss = series_->get();
    sqlite3_reset(ss);
    sqlite3_bind_int64(ss, 1, node_id);
    sqlite3_bind_text(ss, 2, m.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ss, 3, m.unit.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ss) != SQLITE_ROW) return error("upsert series").error();
    const sqlite3_int64 id = sqlite3_column_int64(ss, 0);
    sqlite3_reset(ss);
    ids_.emplace(key, id);
    return id;
  }

  static std::string column_text(sqlite3_stmt* st, int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }

  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      Status s = error(msg != nullptr ? msg : "exec");
      sqlite3_free(msg);
      return s;
    }
    return Status::Ok();
  }

  Status error(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db_);
    const ErrorCode ec = (code & 0xff) == SQLITE_FULL ? ErrorCode::kResourceExhausted : ErrorCode::kIo;
    return make_error(ec, "sqlite: " + what + ": " + sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  int version_ = 0;
  std::unique_ptr<Statement> insert_, node_, series_, select_;
  std::map<std::string, sqlite3_int64> ids_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = path + ": cannot open database: " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return make_error(ErrorCode::kIo, msg);
  }
  auto store = std::make_unique<SqliteStore>(db);
  if (Status s = store->init(); !s) {
    return make_error(s.error().code, path + ": " + s.error().message);
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace edgemon::gateway
