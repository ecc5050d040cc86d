#include "edgemon/auth/user_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "temp_dir.h"

namespace edgemon::auth {
namespace {

using testing_support::TempDir;

UserRecord user(std::string name, Role role = Role::kViewer) {
  UserRecord u;
  u.name = std::move(name);
  u.role = role;
  u.password_hash = "$scrypt$placeholder";
  u.created_ms = u.password_changed_ms = 1000;
  return u;
}

TEST(UserStore, NamesAndRoles) {
  EXPECT_TRUE(valid_user_name("alice"));
  EXPECT_TRUE(valid_user_name("ops.team-1_x@site"));
  EXPECT_TRUE(valid_user_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_user_name(std::string(65, 'a')));
  for (const char* bad : {"", "a b", "a:b", "<script>", "a/b", "é", "a\nb", "a;b"}) EXPECT_FALSE(valid_user_name(bad)) << bad;
  Role r = Role::kViewer;
  EXPECT_TRUE(parse_role("admin", r));
  EXPECT_EQ(r, Role::kAdmin);
  EXPECT_FALSE(parse_role("Admin", r));
  EXPECT_STREQ(to_string(Role::kViewer), "viewer");
}

TEST(UserStore, PersistsAcrossReopenAndIsPrivate) {
  TempDir dir;
  const std::string path = dir.file("auth.db");
  {
    auto store = UserStore::open(path);
    ASSERT_TRUE(store) << store.error().message;
    auto id = (*store)->insert_user(user("alice", Role::kAdmin));
    ASSERT_TRUE(id);
    ASSERT_TRUE((*store)->insert_session(std::string(32, 's'), *id, 2000));
    TokenRecord t;
    t.name = "ci";
    t.token_hash = std::string(32, 't');
    t.created_ms = 3000;
    ASSERT_TRUE((*store)->insert_token(t));
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto store = UserStore::open(path);
  ASSERT_TRUE(store);
  auto alice = (*store)->find_user("alice");
  ASSERT_TRUE(alice && alice->has_value());
  EXPECT_EQ((*alice)->role, Role::kAdmin);
  auto session = (*store)->find_session(std::string(32, 's'));
  ASSERT_TRUE(session && session->has_value());
  EXPECT_EQ((*session)->user, "alice");
  EXPECT_EQ((*session)->created_ms, 2000);
  auto token = (*store)->find_token_by_hash(std::string(32, 't'));
  ASSERT_TRUE(token && token->has_value());
  EXPECT_EQ((*token)->name, "ci");
  EXPECT_FALSE((*token)->last_used_ms.has_value());
}

TEST(UserStore, DuplicatesAndMissingRows) {
  TempDir dir;
  auto store = UserStore::open(dir.file("auth.db"));
  ASSERT_TRUE(store);
  UserStore& s = **store;
  ASSERT_TRUE(s.insert_user(user("alice")));
  auto dup = s.insert_user(user("alice"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.delete_user(999).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(s.update_role(999, Role::kAdmin).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(s.update_password(999, "x", 1, true).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(s.delete_token("nope").error().code, ErrorCode::kNotFound);
  auto missing = s.find_user("bob");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST(UserStore, DeletingAUserDeletesItsSessions) {
  TempDir dir;
  auto store = UserStore::open(dir.file("auth.db"));
  ASSERT_TRUE(store);
  UserStore& s = **store;
  auto a = s.insert_user(user("alice"));
  auto b = s.insert_user(user("bob"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(s.insert_session(std::string(32, 'a'), *a, 1));
  ASSERT_TRUE(s.insert_session(std::string(32, 'b'), *b, 1));
  ASSERT_TRUE(s.delete_user(*a));
  EXPECT_EQ(s.count_sessions().value(), 1);
  EXPECT_FALSE(s.find_session(std::string(32, 'a')).value().has_value());
}

TEST(UserStore, RefusesANewerSchemaAndForeignFiles) {
  TempDir dir;
  const std::string path = dir.file("auth.db");
  { ASSERT_TRUE(UserStore::open(path)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto newer = UserStore::open(path);
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(newer.error().message, ::testing::HasSubstr("newer"));

  const std::string junk = dir.write("junk.db", std::string(4096, 'j'));
  auto foreign = UserStore::open(junk);
  ASSERT_FALSE(foreign);
  EXPECT_THAT(foreign.error().message, ::testing::HasSubstr("junk.db"));

  auto nodir = UserStore::open(dir.file("no/such/dir/auth.db"));
  ASSERT_FALSE(nodir);
  EXPECT_EQ(nodir.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace edgemon::auth
