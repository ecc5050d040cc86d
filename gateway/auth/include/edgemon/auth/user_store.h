// Persistence of users, sessions and API tokens in their own SQLite file (<state_dir>/auth.db,
// created with mode 0600): WAL, synchronous=FULL (password changes and revocations must survive a
// power cut), versioned migrations through PRAGMA user_version.
//
// What is stored: user names, roles and scrypt password hashes (see password.h); for sessions and
// API tokens only the SHA-256 of the secret. No plaintext secret ever reaches the file.
// Times are wall-clock Unix milliseconds (sessions survive a restart, the monotonic clock does not).
//
// Not thread-safe: one owner (the Authenticator) uses it from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgemon/common/result.h"

namespace edgemon::auth {

enum class Role { kViewer, kAdmin };
const char* to_string(Role role);
bool parse_role(std::string_view text, Role& out);

// [A-Za-z0-9_.@-], 1-64 characters. Also used for API token names.
bool valid_user_name(std::string_view name);

struct UserRecord {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  std::string password_hash;
  std::int64_t created_ms = 0;
  std::int64_t password_changed_ms = 0;
};

struct SessionRecord {
  std::string id_hash;  // SHA-256 of the session id (32 raw bytes)
  std::int64_t user_id = 0;
  std::string user;     // joined from users
  Role role = Role::kViewer;
  std::int64_t created_ms = 0;
  std::int64_t last_seen_ms = 0;
};

struct TokenRecord {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  std::string token_hash;  // SHA-256 of the token (32 raw bytes)
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> last_used_ms;
  std::string created_by;  // informational
};

class UserStore {
 public:
  // Creates the file (0600) and migrates it. Errors: kIo (cannot open/create), kInvalidArgument
  // (schema newer than this build, or not an auth database), kInternal (migration failed).
  static Result<std::unique_ptr<UserStore>> open(const std::string& path);
  ~UserStore();
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // ---- users. Duplicate names: kInvalidArgument; unknown ids or names: kNotFound. -------------
  Result<std::int64_t> insert_user(const UserRecord& user);  // returns the new id
  Result<std::optional<UserRecord>> find_user(std::string_view name);
  Result<std::vector<UserRecord>> list_users();  // by name
  Result<std::int64_t> count_users();
  Result<std::int64_t> count_admins();
  // Replaces the hash; with revoke_sessions, deletes all the user's sessions in the same
  // transaction (a password change) except the one whose id hash is `keep_session` (a user's own
  // change keeps the session it was made from), without it only the hash changes (a re-hash at login).
  Status update_password(std::int64_t user_id, std::string_view hash, std::int64_t now_ms, bool revoke_sessions,
                         std::string_view keep_session = {});
  Status update_role(std::int64_t user_id, Role role);
  Status delete_user(std::int64_t user_id);  // and its sessions

  // ---- sessions ---------------------------------------------------------------------------------
  Status insert_session(std::string_view id_hash, std::int64_t user_id, std::int64_t now_ms);
  Result<std::optional<SessionRecord>> find_session(std::string_view id_hash);
  Status touch_session(std::string_view id_hash, std::int64_t now_ms);
  Status delete_session(std::string_view id_hash);
  Status delete_user_sessions(std::int64_t user_id);
  // Deletes sessions idle since before `idle_cutoff_ms` or created before `lifetime_cutoff_ms`.
  Result<std::int64_t> delete_expired_sessions(std::int64_t idle_cutoff_ms, std::int64_t lifetime_cutoff_ms);
  Result<std::int64_t> count_sessions();

  // ---- API tokens -------------------------------------------------------------------------------
  Result<std::int64_t> insert_token(const TokenRecord& token);  // duplicate name: kInvalidArgument
  Result<std::optional<TokenRecord>> find_token_by_hash(std::string_view token_hash);
  Result<std::vector<TokenRecord>> list_tokens();  // by name
  Status touch_token(std::int64_t token_id, std::int64_t now_ms);
  Status delete_token(std::string_view name);  // kNotFound if there is none

 private:
  struct Impl;
  explicit UserStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::auth
