#include "edgemon/auth/user_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>

#include "edgemon/common/log.h"

namespace edgemon::auth {
namespace {

constexpr const char* kLog = "auth";

// Each entry moves the schema from version i to i + 1. Never edit a released entry; append.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE users (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL CHECK (role IN ('viewer', 'admin')),
      password_hash TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      password_changed_ms INTEGER NOT NULL
    );
    CREATE TABLE sessions (
      id_hash BLOB PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_ms INTEGER NOT NULL,
      last_seen_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE api_tokens (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL CHECK (role IN ('viewer', 'admin')),
      token_hash BLOB NOT NULL UNIQUE,
      created_ms INTEGER NOT NULL,
      last_used_ms INTEGER,
      created_by TEXT NOT NULL
    );
    )sql",
};

Role role_from(std::string_view text) {
  Role r = Role::kViewer;  // the CHECK constraint allows only the two names
  (void)parse_role(text, r);
  return r;
}

// A prepared statement in use: bound, stepped, finalized when it goes out of scope.
class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) st_ = nullptr;
  }
  ~Query() { sqlite3_finalize(st_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int i, std::int64_t v) {
    if (st_ != nullptr) sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Query& bind(int i, std::string_view v) {
    if (st_ != nullptr) sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& bind_blob(int i, std::string_view v) {
    if (st_ != nullptr) sqlite3_bind_blob(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& bind_opt(int i, std::optional<std::int64_t> v) {
    if (st_ != nullptr) {
      if (v) {
        sqlite3_bind_int64(st_, i, *v);
      } else {
        sqlite3_bind_null(st_, i);
      }
    }
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code (also when preparing failed).
  int step() { return st_ == nullptr ? SQLITE_ERROR : sqlite3_step(st_); }

  std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  bool null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(st_, c);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
  }
  std::string blob(int c) const {
    const void* p = sqlite3_column_blob(st_, c);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
  }
  Error error(std::string_view what) const {
    const int code = sqlite3_extended_errcode(db_);
    const ErrorCode ec = (code & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kInvalidArgument
                         : (code & 0xff) == SQLITE_FULL     ? ErrorCode::kResourceExhausted
                                                            : ErrorCode::kIo;
    return make_error(ec, std::string(what) + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

constexpr const char* kUserColumns = "id, name, role, password_hash, created_ms, password_changed_ms";

UserRecord read_user(const Query& q) {
  UserRecord u;
  u.id = q.i64(0);
  u.name = q.text(1);
  u.role = role_from(q.text(2));
  u.password_hash = q.text(3);
  u.created_ms = q.i64(4);
  u.password_changed_ms = q.i64(5);
  return u;
}

constexpr const char* kTokenColumns = "id, name, role, token_hash, created_ms, last_used_ms, created_by";

TokenRecord read_token(const Query& q) {
  TokenRecord t;
  t.id = q.i64(0);
  t.name = q.text(1);
  t.role = role_from(q.text(2));
  t.token_hash = q.blob(3);
  t.created_ms = q.i64(4);
  if (!q.null(5)) t.last_used_ms = q.i64(5);
  t.created_by = q.text(6);
  return t;
}

}  // namespace

const char* to_string(Role role) { return role == Role::kAdmin ? "admin" : "viewer"; }

bool parse_role(std::string_view text, Role& out) {
  if (text == "viewer") {
    out = Role::kViewer;
    return true;
  }
  if (text == "admin") {
    out = Role::kAdmin;
    return true;
  }
  return false;
}

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

struct UserStore::Impl {
  sqlite3* db = nullptr;
  ~Impl() { sqlite3_close(db); }

  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg != nullptr ? msg : sqlite3_errmsg(db);
      sqlite3_free(msg);
      return make_error(ErrorCode::kIo, text);
    }
    return Status::Ok();
  }

  // Runs a statement that returns no rows.
  Status done(Query& q, std::string_view what) {
    if (q.step() != SQLITE_DONE) return q.error(what);
    return Status::Ok();
  }

  Result<std::int64_t> count(const char* sql) {
    Query q(db, sql);
    if (q.step() != SQLITE_ROW) return q.error("count");
    return q.i64(0);
  }

  Status migrate() {
    sqlite3_busy_timeout(db, 2000);
    if (Status s = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !s) return s;
    const int target = static_cast<int>(std::size(kMigrations));
    int version = 0;
    {
      Query q(db, "PRAGMA user_version");
      if (q.step() == SQLITE_ROW) version = static_cast<int>(q.i64(0));
    }
    if (version > target) {
      return make_error(ErrorCode::kInvalidArgument, "auth database schema version " + std::to_string(version) +
                                                         " is newer than this gateway (" + std::to_string(target) + ")");
    }
    for (int v = version; v < target; ++v) {
      std::string sql = "BEGIN IMMEDIATE;";
      sql += kMigrations[v];
      sql += "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
      if (Status s = exec(sql.c_str()); !s) {
        (void)exec("ROLLBACK;");
        return make_error(ErrorCode::kInternal, "auth schema migration to v" + std::to_string(v + 1) +
                                                    " failed: " + s.error().message);
      }
      log::info(kLog, "auth schema migrated", {{"to_version", v + 1}});
    }
    return Status::Ok();
  }
};

UserStore::UserStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UserStore::~UserStore() = default;

Result<std::unique_ptr<UserStore>> UserStore::open(const std::string& path) {
  // Create the file ourselves so it is 0600 from the first byte; SQLite gives -wal and -shm the
  // main file's permissions.
  if (path != ":memory:") {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return make_error(ErrorCode::kIo, path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) (void)::fchmod(fd, 0600);
    ::close(fd);
  }
  auto impl = std::make_unique<Impl>();
  const int rc = sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    return make_error(ErrorCode::kIo, path + ": cannot open database: " +
                                          (impl->db != nullptr ? sqlite3_errmsg(impl->db) : sqlite3_errstr(rc)));
  }
  if (Status s = impl->migrate(); !s) return make_error(s.error().code, path + ": " + s.error().message);
  return std::unique_ptr<UserStore>(new UserStore(std::move(impl)));
}

// ---- users --------------------------------------------------------------------------------------

Result<std::int64_t> UserStore::insert_user(const UserRecord& u) {
  Query q(impl_->db,
          "INSERT INTO users(name, role, password_hash, created_ms, password_changed_ms) VALUES (?, ?, ?, ?, ?)");
  q.bind(1, u.name).bind(2, std::string_view(to_string(u.role))).bind(3, u.password_hash).bind(4, u.created_ms).bind(5, u.password_changed_ms);
  if (q.step() != SQLITE_DONE) {
    Error e = q.error("insert user");
    if (e.code == ErrorCode::kInvalidArgument) e.message = "user '" + u.name + "' already exists";
    return e;
  }
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Result<std::optional<UserRecord>> UserStore::find_user(std::string_view name) {
  const std::string sql = std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?";
  Query q(impl_->db, sql.c_str());
  q.bind(1, name);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<UserRecord>();
  if (rc != SQLITE_ROW) return q.error("find user");
  return std::optional<UserRecord>(read_user(q));
}

Result<std::vector<UserRecord>> UserStore::list_users() {
  const std::string sql = std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name";
  Query q(impl_->db, sql.c_str());
  std::vector<UserRecord> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_user(q));
  if (rc != SQLITE_DONE) return q.error("list users");
  return out;
}

Result<std::int64_t> UserStore::count_users() { return impl_->count("SELECT COUNT(*) FROM users"); }
Result<std::int64_t> UserStore::count_admins() { return impl_->count("SELECT COUNT(*) FROM users WHERE role = 'admin'"); }

Status UserStore::update_password(std::int64_t user_id, std::string_view hash, std::int64_t now_ms, bool revoke_sessions,
                                  std::string_view keep_session) {
  if (Status s = impl_->exec("BEGIN IMMEDIATE;"); !s) return s;
  Status result = [&]() -> Status {
    Query q(impl_->db, "UPDATE users SET password_hash = ?, password_changed_ms = ? WHERE id = ?");
    q.bind(1, hash).bind(2, now_ms).bind(3, user_id);
    if (Status s = impl_->done(q, "update password"); !s) return s;
    if (sqlite3_changes(impl_->db) == 0) return make_error(ErrorCode::kNotFound, "no such user");
    if (revoke_sessions) {
      // (An empty string_view may bind SQL NULL, and "!= NULL" matches nothing: two statements.)
      Query d(impl_->db, keep_session.empty() ? "DELETE FROM sessions WHERE user_id = ?"
                                              : "DELETE FROM sessions WHERE user_id = ? AND id_hash != ?");
      d.bind(1, user_id);
      if (!keep_session.empty()) d.bind_blob(2, keep_session);
      if (Status s = impl_->done(d, "revoke sessions"); !s) return s;
    }
    return Status::Ok();
  }();
  if (!result) {
    (void)impl_->exec("ROLLBACK;");
    return result;
  }
  return impl_->exec("COMMIT;");
}

Status UserStore::update_role(std::int64_t user_id, Role role) {
  Query q(impl_->db, "UPDATE users SET role = ? WHERE id = ?");
  q.bind(1, std::string_view(to_string(role))).bind(2, user_id);
  if (Status s = impl_->done(q, "update role"); !s) return s;
  if (sqlite3_changes(impl_->db) == 0) return make_error(ErrorCode::kNotFound, "no such user");
  return Status::Ok();
}

Status UserStore::delete_user(std::int64_t user_id) {
  Query q(impl_->db, "DELETE FROM users WHERE id = ?");  // sessions go by ON DELETE CASCADE
  q.bind(1, user_id);
  if (Status s = impl_->done(q, "delete user"); !s) return s;
  if (sqlite3_changes(impl_->db) == 0) return make_error(ErrorCode::kNotFound, "no such user");
  return Status::Ok();
}

// ---- sessions -----------------------------------------------------------------------------------

Status UserStore::insert_session(std::string_view id_hash, std::int64_t user_id, std::int64_t now_ms) {
  Query q(impl_->db, "INSERT INTO sessions(id_hash, user_id, created_ms, last_seen_ms) VALUES (?, ?, ?, ?)");
  q.bind_blob(1, id_hash).bind(2, user_id).bind(3, now_ms).bind(4, now_ms);
  return impl_->done(q, "insert session");
}

Result<std::optional<SessionRecord>> UserStore::find_session(std::string_view id_hash) {
  Query q(impl_->db,
          "SELECT s.id_hash, s.user_id, u.name, u.role, s.created_ms, s.last_seen_ms "
          "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?");
  q.bind_blob(1, id_hash);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<SessionRecord>();
  if (rc != SQLITE_ROW) return q.error("find session");
  SessionRecord s;
  s.id_hash = q.blob(0);
  s.user_id = q.i64(1);
  s.user = q.text(2);
  s.role = role_from(q.text(3));
  s.created_ms = q.i64(4);
  s.last_seen_ms = q.i64(5);
  return std::optional<SessionRecord>(std::move(s));
}

Status UserStore::touch_session(std::string_view id_hash, std::int64_t now_ms) {
  Query q(impl_->db, "UPDATE sessions SET last_seen_ms = max(last_seen_ms, ?) WHERE id_hash = ?");
  q.bind(1, now_ms).bind_blob(2, id_hash);
  return impl_->done(q, "touch session");
}

Status UserStore::delete_session(std::string_view id_hash) {
  Query q(impl_->db, "DELETE FROM sessions WHERE id_hash = ?");
  q.bind_blob(1, id_hash);
  return impl_->done(q, "delete session");
}

Status UserStore::delete_user_sessions(std::int64_t user_id) {
  Query q(impl_->db, "DELETE FROM sessions WHERE user_id = ?");
  q.bind(1, user_id);
  return impl_->done(q, "delete sessions");
}

Result<std::int64_t> UserStore::delete_expired_sessions(std::int64_t idle_cutoff_ms, std::int64_t lifetime_cutoff_ms) {
  Query q(impl_->db, "DELETE FROM sessions WHERE last_seen_ms < ? OR created_ms < ?");
  q.bind(1, idle_cutoff_ms).bind(2, lifetime_cutoff_ms);
  if (Status s = impl_->done(q, "delete expired sessions"); !s) return s.error();
  return static_cast<std::int64_t>(sqlite3_changes(impl_->db));
}

Result<std::int64_t> UserStore::count_sessions() { return impl_->count("SELECT COUNT(*) FROM sessions"); }

// ---- API tokens ---------------------------------------------------------------------------------

Result<std::int64_t> UserStore::insert_token(const TokenRecord& t) {
  Query q(impl_->db,
          "INSERT INTO api_tokens(name, role, token_hash, created_ms, last_used_ms, created_by) VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, t.name).bind(2, std::string_view(to_string(t.role))).bind_blob(3, t.token_hash).bind(4, t.created_ms);
  q.bind_opt(5, t.last_used_ms).bind(6, t.created_by);
  if (q.step() != SQLITE_DONE) {
    Error e = q.error("insert token");
    if (e.code == ErrorCode::kInvalidArgument) e.message = "a token named '" + t.name + "' already exists";
    return e;
  }
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Result<std::optional<TokenRecord>> UserStore::find_token_by_hash(std::string_view token_hash) {
  const std::string sql = std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE token_hash = ?";
  Query q(impl_->db, sql.c_str());
  q.bind_blob(1, token_hash);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<TokenRecord>();
  if (rc != SQLITE_ROW) return q.error("find token");
  return std::optional<TokenRecord>(read_token(q));
}

Result<std::vector<TokenRecord>> UserStore::list_tokens() {
  const std::string sql = std::string("SELECT ") + kTokenColumns + " FROM api_tokens ORDER BY name";
  Query q(impl_->db, sql.c_str());
  std::vector<TokenRecord> out;
  int rc = 0;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_token(q));
  if (rc != SQLITE_DONE) return q.error("list tokens");
  return out;
}

Status UserStore::touch_token(std::int64_t token_id, std::int64_t now_ms) {
  Query q(impl_->db, "UPDATE api_tokens SET last_used_ms = ? WHERE id = ?");
  q.bind(1, now_ms).bind(2, token_id);
  return impl_->done(q, "touch token");
}

Status UserStore::delete_token(std::string_view name) {
  Query q(impl_->db, "DELETE FROM api_tokens WHERE name = ?");
  q.bind(1, name);
  if (Status s = impl_->done(q, "delete token"); !s) return s;
  if (sqlite3_changes(impl_->db) == 0) return make_error(ErrorCode::kNotFound, "no token named '" + std::string(name) + "'");
  return Status::Ok();
}

}  // namespace edgemon::auth
