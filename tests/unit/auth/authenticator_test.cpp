#include "edgemon/auth/authenticator.h"

#include <sqlite3.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "edgemon/auth/crypto.h"
#include "edgemon/auth/http_auth.h"
#include "edgemon/common/log.h"
#include "temp_dir.h"

namespace edgemon::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::TempDir;
using namespace std::chrono_literals;

constexpr PasswordParams kCheap{10, 8, 1};
constexpr const char* kAddr = "192.0.2.10";

// Owns the header strings a RequestCredentials points into.
struct Request {
  std::string cookie, authorization, method = "GET", csrf, client = kAddr;
  RequestCredentials creds() const { return {cookie, authorization, method, csrf, client}; }
};

Request with_cookie(const Session& s, std::string method = "GET", std::string csrf = "") {
  Request r;
  r.cookie = "theme=dark; edgemon_session=" + s.id;
  r.method = std::move(method);
  r.csrf = std::move(csrf);
  return r;
}

Request with_auth(std::string authorization, std::string method = "GET") {
  Request r;
  r.authorization = std::move(authorization);
  r.method = std::move(method);
  return r;
}

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

// Every text and blob value in every table of the database file, for "is it stored in clear?".
std::string dump_database(const std::string& path) {
  sqlite3* db = nullptr;
  std::string all;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return all;
  }
  for (const char* table : {"users", "sessions", "api_tokens"}) {
    sqlite3_stmt* st = nullptr;
    const std::string sql = std::string("SELECT * FROM ") + table;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << table;
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const void* p = sqlite3_column_blob(st, c);
        if (p != nullptr) all.append(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
        all += '\x1f';
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return all;
}

// Log lines go here instead of stderr (the garbage test checks them).
std::vector<std::string>& captured_log() {
  static std::vector<std::string> lines;
  return lines;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() {
    captured_log().clear();
    log::set_sink([](log::Level, const std::string& line) { captured_log().push_back(line); });
    reopen();
  }
  ~AuthenticatorTest() override { log::set_sink(nullptr); }

  static AuthOptions options() {
    AuthOptions o;
    o.session_idle = 30min;
    o.session_lifetime = 8h;
    o.login_attempts_per_minute = 10;
    o.password_params = kCheap;
    return o;
  }

  // Closes and reopens the store and a fresh Authenticator (a gateway restart).
  void reopen(AuthOptions o = options()) {
    auth_.reset();
    store_.reset();
    auto s = UserStore::open(path());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auth_ = std::make_unique<Authenticator>(*store_, clock_, o);
  }

  std::string path() const { return dir_.file("auth.db"); }

  void add_user(std::string_view name, std::string_view password, Role role = Role::kViewer) {
    auto u = auth_->create_user(name, password, role);
    ASSERT_TRUE(u) << u.error().message;
  }

  Session login_ok(std::string_view user, std::string_view password, std::string_view addr = kAddr) {
    auto s = auth_->login(user, password, addr);
    if (!s) {
      ADD_FAILURE() << "login failed: " << s.error().message;
      return {};
    }
    return std::move(*s);
  }

  Result<Principal> authenticate(const Request& r) { return auth_->authenticate(r.creds()); }

  bool accepted(const Request& r) { return authenticate(r).ok(); }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<UserStore> store_;
  std::unique_ptr<Authenticator> auth_;
};

// ---- login ----------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, LoginReturnsASessionWithCsrfTokenAndExpiry) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  EXPECT_TRUE(is_base64url(s.id, 43));
  EXPECT_TRUE(is_base64url(s.csrf_token, 43));
  EXPECT_NE(s.csrf_token, s.id);
  EXPECT_EQ(s.csrf_token, csrf_token_for(s.id));
  EXPECT_EQ(s.user, "alice");
  EXPECT_EQ(s.role, Role::kViewer);
  EXPECT_EQ(s.created, clock_.wall());
  EXPECT_EQ(s.idle_expires, clock_.wall() + 30min);
  EXPECT_EQ(s.absolute_expires, clock_.wall() + 8h);
  const Session other = login_ok("alice", "alice-password");
  EXPECT_NE(other.id, s.id);
  EXPECT_NE(other.csrf_token, s.csrf_token);
}

TEST_F(AuthenticatorTest, WrongPasswordAndUnknownUserGiveIdenticalErrors) {
  add_user("alice", "alice-password");
  auto wrong = auth_->login("alice", "not-the-password", kAddr);
  auto unknown = auth_->login("mallory", "not-the-password", kAddr);
  auto malformed = auth_->login("<script>", "not-the-password", kAddr);
  auto short_pw = auth_->login("alice", "short", kAddr);
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  ASSERT_FALSE(malformed);
  ASSERT_FALSE(short_pw);
  for (const auto* r : {&unknown, &malformed, &short_pw}) {
    EXPECT_EQ(r->error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(r->error().message, wrong.error().message);
  }
  EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied);
  EXPECT_THAT(wrong.error().message, Not(HasSubstr("alice")));
}

TEST_F(AuthenticatorTest, EleventhLoginAttemptInAMinuteFromOneAddressIsRateLimited) {
  add_user("alice", "alice-password");
  for (int i = 0; i < 10; ++i) {
    auto r = auth_->login(i % 2 == 0 ? "alice" : "bob", "wrong-password", kAddr);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied) << i;
    clock_.advance(2s);
  }
  // Even the right password is refused now, with a Retry-After.
  auto limited = auth_->login("alice", "alice-password", kAddr);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::kResourceExhausted);
  EXPECT_THAT(limited.error().message, HasSubstr("try again in 40 s"));
  EXPECT_EQ(auth_->login_retry_after("alice", kAddr), 40s);
  // Another address is not affected.
  EXPECT_TRUE(auth_->login("alice", "alice-password", "198.51.100.1"));
  // A minute after the first attempt, one more is allowed.
  clock_.advance(40s);
  EXPECT_EQ(auth_->login_retry_after("alice", kAddr), 0s);
  EXPECT_TRUE(auth_->login("alice", "alice-password", kAddr));
}

TEST_F(AuthenticatorTest, SuccessfulLoginsCountPerAddressToo) {
  add_user("alice", "alice-password");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(auth_->login("alice", "alice-password", kAddr)) << i;
  auto r = auth_->login("alice", "alice-password", kAddr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(auth_->login_retry_after("alice", kAddr), 60s);
  clock_.advance(60s);
  EXPECT_TRUE(auth_->login("alice", "alice-password", kAddr));
}

TEST_F(AuthenticatorTest, FailedLoginsAreLimitedPerUserNameAcrossAddresses) {
  add_user("alice", "alice-password");
  add_user("bob", "bob-password");
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(auth_->login("alice", "wrong-password", "203.0.113." + std::to_string(i)).error().code,
              ErrorCode::kPermissionDenied);
  }
  auto r = auth_->login("alice", "alice-password", "203.0.113.200");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_TRUE(auth_->login("bob", "bob-password", "203.0.113.200"));
  clock_.advance(61s);
  EXPECT_TRUE(auth_->login("alice", "alice-password", "203.0.113.200"));
}

TEST_F(AuthenticatorTest, OneIpv6Slash64IsOneClient) {
  add_user("alice", "alice-password");
  for (int i = 0; i < 10; ++i) {
    (void)auth_->login("user" + std::to_string(i), "wrong-password", "2001:db8:0:1::" + std::to_string(i + 1));
  }
  EXPECT_EQ(auth_->login("alice", "alice-password", "2001:db8:0:1:ffff::1").error().code, ErrorCode::kResourceExhausted);
  EXPECT_TRUE(auth_->login("alice", "alice-password", "2001:db8:0:2::1"));
}

// ---- sessions -------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, SessionCookieAuthenticates) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  auto p = authenticate(with_cookie(s));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->role, Role::kViewer);
  EXPECT_EQ(p->via, Via::kCookie);
  EXPECT_EQ(p->csrf_token, s.csrf_token);

  Request none;
  auto anonymous = authenticate(none);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, ErrorCode::kPermissionDenied);

  Request forged = with_cookie(s);
  forged.cookie = "edgemon_session=" + std::string(43, 'A');
  EXPECT_EQ(authenticate(forged).error().code, ErrorCode::kPermissionDenied);
}

TEST_F(AuthenticatorTest, SessionExpiresWhenIdle) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  clock_.advance(29min);
  EXPECT_TRUE(accepted(with_cookie(s)));  // and marks the session used
  clock_.advance(29min);
  EXPECT_TRUE(accepted(with_cookie(s)));  // 58 min after login, 29 min idle
  clock_.advance(30min);
  auto r = authenticate(with_cookie(s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(store_->count_sessions().value(), 0);  // deleted on sight
}

TEST_F(AuthenticatorTest, SessionExpiresAtItsAbsoluteLifetimeEvenWhenUsed) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  for (int i = 0; i < 47; ++i) {  // every 10 min for 7 h 50 min
    clock_.advance(10min);
    ASSERT_TRUE(accepted(with_cookie(s))) << i;
  }
  clock_.advance(9min);
  EXPECT_TRUE(accepted(with_cookie(s)));
  clock_.advance(1min);  // 8 h
  EXPECT_FALSE(accepted(with_cookie(s)));
}

TEST_F(AuthenticatorTest, ExpiredSessionsArePruned) {
  add_user("alice", "alice-password");
  (void)login_ok("alice", "alice-password");
  (void)login_ok("alice", "alice-password");
  clock_.advance(31min);
  const Session fresh = login_ok("alice", "alice-password");  // login prunes
  EXPECT_EQ(store_->count_sessions().value(), 1);
  EXPECT_TRUE(accepted(with_cookie(fresh)));
}

TEST_F(AuthenticatorTest, LogoutRevokesTheSession) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  const Session other = login_ok("alice", "alice-password");
  ASSERT_TRUE(accepted(with_cookie(s)));
  ASSERT_TRUE(auth_->logout(s.id));
  EXPECT_FALSE(accepted(with_cookie(s)));
  EXPECT_TRUE(accepted(with_cookie(other)));
  EXPECT_TRUE(auth_->logout(s.id));  // twice: fine
  EXPECT_TRUE(auth_->logout("garbage;\n"));
}

TEST_F(AuthenticatorTest, PasswordChangeRevokesAllOfThatUsersSessions) {
  add_user("alice", "alice-password");
  add_user("bob", "bob-password");
  const Session a1 = login_ok("alice", "alice-password");
  const Session a2 = login_ok("alice", "alice-password");
  const Session b = login_ok("bob", "bob-password");
  ASSERT_TRUE(auth_->set_password("alice", "new-alice-password"));
  EXPECT_FALSE(accepted(with_cookie(a1)));
  EXPECT_FALSE(accepted(with_cookie(a2)));
  EXPECT_TRUE(accepted(with_cookie(b)));
  EXPECT_EQ(auth_->login("alice", "alice-password", kAddr).error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(auth_->login("alice", "new-alice-password", kAddr));
  EXPECT_EQ(auth_->set_password("alice", "short").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(auth_->set_password("nobody", "long-enough").error().code, ErrorCode::kNotFound);
}

TEST_F(AuthenticatorTest, AStaleCookieBeforeAValidOneIsSkipped) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  Request r = with_cookie(s);
  r.cookie = "edgemon_session=" + std::string(43, 'x') + "; edgemon_session=" + s.id;
  EXPECT_TRUE(accepted(r));
}

TEST_F(AuthenticatorTest, ABadAuthorizationHeaderFailsEvenWithAValidCookie) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  Request r = with_cookie(s);
  r.authorization = "Bearer emt_nope";
  EXPECT_FALSE(accepted(r));
  r.authorization = "Digest x";
  EXPECT_FALSE(accepted(r));
}

TEST_F(AuthenticatorTest, CookieAttributes) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  EXPECT_EQ(session_cookie(s, false),
            "edgemon_session=" + s.id + "; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict");
  EXPECT_EQ(session_cookie(s, true),
            "edgemon_session=" + s.id + "; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(expired_cookie(false), "edgemon_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  EXPECT_EQ(expired_cookie(true), "edgemon_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

// ---- CSRF -----------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, CsrfTokenRequiredForStateChangingCookieRequests) {
  add_user("alice", "alice-password", Role::kAdmin);
  const Session s = login_ok("alice", "alice-password");
  const Session other = login_ok("alice", "alice-password");
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "post", "PROPFIND"}) {
    const Request missing = with_cookie(s, method);
    auto p = authenticate(missing);
    ASSERT_TRUE(p);  // authenticated, but ...
    auto st = Authenticator::check_csrf(*p, missing.creds());
    ASSERT_FALSE(st) << method;
    EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied);
    const Request wrong = with_cookie(s, method, other.csrf_token);
    EXPECT_FALSE(Authenticator::check_csrf(*p, wrong.creds())) << method;
    const Request right = with_cookie(s, method, s.csrf_token);
    EXPECT_TRUE(Authenticator::check_csrf(*p, right.creds())) << method;
  }
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    const Request r = with_cookie(s, method);
    auto p = authenticate(r);
    ASSERT_TRUE(p);
    EXPECT_TRUE(Authenticator::check_csrf(*p, r.creds())) << method;
  }
}

TEST_F(AuthenticatorTest, TokenAndBasicRequestsNeedNoCsrfToken) {
  add_user("alice", "alice-password", Role::kAdmin);
  auto token = auth_->create_token("ci", Role::kAdmin);
  ASSERT_TRUE(token);
  for (const Request& r : {with_auth("Bearer " + token->token, "POST"), with_auth(basic("alice", "alice-password"), "DELETE")}) {
    auto p = authenticate(r);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_TRUE(Authenticator::check_csrf(*p, r.creds()));
  }
}

// ---- API tokens -----------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, TokenWorksAsBearerAndAsBasic) {
  auto created = auth_->create_token("grafana", Role::kViewer, "alice");
  ASSERT_TRUE(created) << created.error().message;
  const std::string& token = created->token;
  EXPECT_TRUE(looks_like_token(token));
  EXPECT_EQ(created->info.name, "grafana");
  EXPECT_EQ(created->info.created_by, "alice");
  EXPECT_FALSE(created->info.last_used.has_value());

  for (const Request& r : {with_auth("Bearer " + token), with_auth(basic("token", token)), with_auth(basic("", token)),
                           with_auth(basic(token, ""))}) {
    auto p = authenticate(r);
    ASSERT_TRUE(p) << r.authorization << ": " << p.error().message;
    EXPECT_EQ(p->user, "grafana");
    EXPECT_EQ(p->role, Role::kViewer);
    EXPECT_EQ(p->via, Via::kToken);
  }
  auto list = auth_->list_tokens();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].last_used, clock_.wall());

  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(accepted(with_auth("Bearer " + flipped)));
  EXPECT_FALSE(accepted(with_auth("Bearer " + token.substr(4))));
}

TEST_F(AuthenticatorTest, RevokedTokenFails) {
  auto a = auth_->create_token("a", Role::kAdmin);
  auto b = auth_->create_token("b", Role::kAdmin);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(auth_->revoke_token("a"));
  EXPECT_FALSE(accepted(with_auth("Bearer " + a->token)));
  EXPECT_FALSE(accepted(with_auth(basic("token", a->token))));
  EXPECT_TRUE(accepted(with_auth("Bearer " + b->token)));
  EXPECT_EQ(auth_->revoke_token("a").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(auth_->list_tokens().value().size(), 1u);
}

TEST_F(AuthenticatorTest, TokenNamesAreValidatedAndUnique) {
  ASSERT_TRUE(auth_->create_token("ci", Role::kViewer));
  EXPECT_EQ(auth_->create_token("ci", Role::kAdmin).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(auth_->create_token("<b>", Role::kAdmin).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(auth_->create_token("", Role::kAdmin).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, NoSecretIsStoredInClear) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  auto token = auth_->create_token("ci", Role::kViewer);
  ASSERT_TRUE(token);
  auto boot = auth_->bootstrap(AuthConfig{});  // users exist: nothing generated
  ASSERT_TRUE(boot);
  const std::string dump = dump_database(path());
  EXPECT_THAT(dump, HasSubstr("alice"));  // the dump does see the rows
  for (const std::string& secret : {std::string("alice-password"), s.id, s.csrf_token, token->token,
                                    token->token.substr(4)}) {
    EXPECT_THAT(dump, Not(HasSubstr(secret))) << secret;
  }
  // What is stored is the SHA-256 of the token and of the session id.
  EXPECT_THAT(dump, HasSubstr(sha256(token->token)));
  EXPECT_THAT(dump, HasSubstr(sha256(s.id)));
}

// ---- roles ----------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, RoleIsCarriedInThePrincipal) {
  add_user("vera", "viewer-password", Role::kViewer);
  add_user("adam", "admin-password", Role::kAdmin);
  auto vt = auth_->create_token("view-token", Role::kViewer);
  auto at = auth_->create_token("admin-token", Role::kAdmin);
  ASSERT_TRUE(vt && at);
  const std::pair<Request, Role> cases[] = {
      {with_cookie(login_ok("vera", "viewer-password")), Role::kViewer},
      {with_cookie(login_ok("adam", "admin-password")), Role::kAdmin},
      {with_auth(basic("vera", "viewer-password")), Role::kViewer},
      {with_auth(basic("adam", "admin-password")), Role::kAdmin},
      {with_auth("Bearer " + vt->token), Role::kViewer},
      {with_auth("Bearer " + at->token), Role::kAdmin},
  };
  for (const auto& [request, role] : cases) {
    auto p = authenticate(request);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->role, role) << p->user << " via " << to_string(p->via);
    EXPECT_EQ(p->is_admin(), role == Role::kAdmin);
  }
}

TEST_F(AuthenticatorTest, RoleChangeAppliesToExistingSessions) {
  add_user("adam", "admin-password", Role::kAdmin);
  add_user("vera", "viewer-password", Role::kViewer);
  const Session s = login_ok("vera", "viewer-password");
  ASSERT_TRUE(auth_->set_role("vera", Role::kAdmin));
  EXPECT_EQ(authenticate(with_cookie(s))->role, Role::kAdmin);
  ASSERT_TRUE(auth_->set_role("vera", Role::kViewer));
  EXPECT_EQ(authenticate(with_cookie(s))->role, Role::kViewer);
}

// ---- Basic ----------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, BasicWithPassword) {
  add_user("alice", "alice-password");
  auto p = authenticate(with_auth(basic("alice", "alice-password")));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->via, Via::kBasic);
  EXPECT_EQ(p->csrf_token, "");
  auto wrong = authenticate(with_auth(basic("alice", "wrong-password")));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied);
  // Successes do not count against the limit (a script sends Basic with every request) ...
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(accepted(with_auth(basic("alice", "alice-password")))) << i;
  // ... failures do, and share the limiter with login().
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(accepted(with_auth(basic("alice", "wrong-password"))));
  auto limited = authenticate(with_auth(basic("alice", "alice-password")));
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(auth_->login("alice", "alice-password", kAddr).error().code, ErrorCode::kResourceExhausted);
  clock_.advance(60s);
  EXPECT_TRUE(accepted(with_auth(basic("alice", "alice-password"))));
}

// ---- users ----------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, UserManagement) {
  add_user("adam", "admin-password", Role::kAdmin);
  EXPECT_EQ(auth_->create_user("adam", "other-password", Role::kViewer).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(auth_->create_user("a b", "other-password", Role::kViewer).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(auth_->create_user("bob", "short", Role::kViewer).error().code, ErrorCode::kInvalidArgument);
  add_user("bob", "bob-password");
  auto users = auth_->list_users();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "adam");
  EXPECT_EQ((*users)[0].role, Role::kAdmin);
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_EQ((*users)[1].created, clock_.wall());

  // The last admin can be neither demoted nor deleted.
  EXPECT_EQ(auth_->set_role("adam", Role::kViewer).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(auth_->delete_user("adam").error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(auth_->set_role("bob", Role::kAdmin));
  ASSERT_TRUE(auth_->set_role("adam", Role::kViewer));

  const Session s = login_ok("adam", "admin-password");
  ASSERT_TRUE(auth_->delete_user("adam"));
  EXPECT_FALSE(accepted(with_cookie(s)));
  EXPECT_EQ(auth_->login("adam", "admin-password", kAddr).error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(auth_->delete_user("adam").error().code, ErrorCode::kNotFound);
}

TEST_F(AuthenticatorTest, OldHashParametersAreUpgradedAtLogin) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  AuthOptions stronger = options();
  stronger.password_params = PasswordParams{11, 8, 1};
  reopen(stronger);
  ASSERT_TRUE(auth_->login("alice", "alice-password", kAddr));
  auto u = store_->find_user("alice");
  ASSERT_TRUE(u && u->has_value());
  EXPECT_THAT((*u)->password_hash, ::testing::StartsWith("$scrypt$ln=11,"));
  EXPECT_TRUE(accepted(with_cookie(s)));  // a re-hash is not a password change
  EXPECT_TRUE(auth_->login("alice", "alice-password", kAddr));
}

// ---- persistence ----------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, EverythingSurvivesAReopen) {
  add_user("alice", "alice-password", Role::kAdmin);
  const Session s = login_ok("alice", "alice-password");
  auto token = auth_->create_token("ci", Role::kViewer);
  ASSERT_TRUE(token);
  reopen();
  EXPECT_TRUE(accepted(with_cookie(s)));
  EXPECT_TRUE(accepted(with_auth("Bearer " + token->token)));
  EXPECT_TRUE(auth_->login("alice", "alice-password", kAddr));
  EXPECT_EQ(auth_->list_users().value().size(), 1u);
  // Expiry is wall-clock and stored, so a restart does not extend a session.
  clock_.advance(31min);
  reopen();
  EXPECT_FALSE(accepted(with_cookie(s)));
}

// ---- bootstrap ------------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, BootstrapGeneratesAnAdminPasswordOnceOnly) {
  auto first = auth_->bootstrap(AuthConfig{});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->user, "admin");
  ASSERT_TRUE(first->generated_password.has_value());
  const std::string password = *first->generated_password;
  EXPECT_GE(password.size(), 20u);
  EXPECT_THAT(dump_database(path()), Not(HasSubstr(password)));

  const Session s = login_ok("admin", password);
  EXPECT_EQ(s.role, Role::kAdmin);

  reopen();  // the second start
  auto second = auth_->bootstrap(AuthConfig{});
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_FALSE(second->generated_password.has_value());
  EXPECT_TRUE(auth_->login("admin", password, kAddr));
  EXPECT_EQ(auth_->list_users().value().size(), 1u);
}

TEST_F(AuthenticatorTest, BootstrapFromConfiguredPassword) {
  AuthConfig config;
  config.admin_user = "root";
  config.admin_password = "configured-password";
  auto first = auth_->bootstrap(config);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->user, "root");
  EXPECT_FALSE(first->generated_password.has_value());
  EXPECT_EQ(login_ok("root", "configured-password").role, Role::kAdmin);

  // A later start with another configured password does not overwrite the existing user.
  config.admin_password = "changed-in-config";
  reopen();
  auto second = auth_->bootstrap(config);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_TRUE(auth_->login("root", "configured-password", kAddr));
  EXPECT_FALSE(auth_->login("root", "changed-in-config", kAddr));
}

TEST_F(AuthenticatorTest, BootstrapFromPasswordFile) {
  AuthConfig config;
  config.admin_password_file = dir_.write("admin-password", "file-password\n");
  auto r = auth_->bootstrap(config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->created);
  EXPECT_TRUE(auth_->login("admin", "file-password", kAddr));

  AuthConfig missing;
  missing.admin_user = "other";
  missing.admin_password_file = dir_.file("nope");
  EXPECT_EQ(auth_->bootstrap(missing).error().code, ErrorCode::kNotFound);

  AuthConfig weak;
  weak.admin_user = "other";
  weak.admin_password_file = dir_.write("weak", "short\n");
  EXPECT_EQ(auth_->bootstrap(weak).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, BootstrapDoesNothingWhenUsersExist) {
  add_user("vera", "viewer-password");
  auto r = auth_->bootstrap(AuthConfig{});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->created);
  EXPECT_EQ(auth_->list_users().value().size(), 1u);
}

// ---- WebSocket Origin -----------------------------------------------------------------------------

TEST_F(AuthenticatorTest, WebSocketOrigin) {
  const Principal browser{"alice", Role::kViewer, Via::kCookie, "csrf", ""};
  const Principal script{"ci", Role::kViewer, Via::kToken, "", ""};
  const std::vector<std::string> allowed{"https://dash.example.org:443"};
  EXPECT_TRUE(websocket_origin_ok(browser, "http://gw.lan:8080", "gw.lan:8080", allowed));
  EXPECT_TRUE(websocket_origin_ok(browser, "https://dash.example.org", "gw.lan:8080", allowed));
  EXPECT_FALSE(websocket_origin_ok(browser, "http://evil.example", "gw.lan:8080", allowed));
  EXPECT_FALSE(websocket_origin_ok(browser, "", "gw.lan:8080", allowed));
  EXPECT_FALSE(websocket_origin_ok(browser, "null", "gw.lan:8080", allowed));
  EXPECT_TRUE(websocket_origin_ok(script, "", "gw.lan:8080", allowed));
  EXPECT_FALSE(websocket_origin_ok(script, "http://evil.example", "gw.lan:8080", allowed));
}

// ---- hostile input --------------------------------------------------------------------------------

TEST_F(AuthenticatorTest, GarbageCredentialsNeverAuthenticate) {
  add_user("alice", "alice-password");
  const Session s = login_ok("alice", "alice-password");
  std::mt19937 rng(99);
  const std::vector<std::string> seeds = {"edgemon_session=" + s.id, basic("alice", "alice-password"),
                                          "Bearer emt_" + std::string(43, 'A'), "Basic " + std::string(40, 'Q')};
  int accepted_count = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    if (i % 3 == 0) {
      text.resize(rng() % 200);
      for (char& c : text) c = static_cast<char>(rng());
    } else {
      text = seeds[rng() % seeds.size()];
      for (int m = 0; m < 3; ++m) {
        const std::size_t at = rng() % text.size();
        text[at] = static_cast<char>(rng());
      }
    }
    Request r;
    r.method = "POST";
    r.csrf = text;
    r.client = text;
    if (i % 2 == 0) {
      r.cookie = text;
    } else {
      r.authorization = text;
    }
    auto p = authenticate(r);
    if (p) {
      // Only a mutation that left a valid credential intact may pass (e.g. the cookie prefix).
      ++accepted_count;
      EXPECT_EQ(p->user, "alice");
      EXPECT_FALSE(Authenticator::check_csrf(*p, r.creds()));
    } else {
      EXPECT_THAT(p.error().code, ::testing::AnyOf(ErrorCode::kPermissionDenied, ErrorCode::kResourceExhausted));
    }
    (void)auth_->login(text, text, text);
    (void)auth_->logout(text);
    clock_.advance(1s);
  }
  EXPECT_LT(accepted_count, 3000);
  // Hostile names and addresses reach the log escaped: one record per line.
  EXPECT_FALSE(captured_log().empty());
  for (const std::string& line : captured_log()) {
    const std::string body = line.substr(0, line.size() - (line.empty() || line.back() != '\n' ? 0 : 1));
    EXPECT_EQ(body.find('\n'), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace edgemon::auth
