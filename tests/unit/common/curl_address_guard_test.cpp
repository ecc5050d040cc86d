// The guard on real libcurl easy handles. Nothing is sent anywhere: a refused address never gets
// a socket (the socket-open hook refuses it), and where the guard lets a socket be made the test's
// CURLOPT_SOCKOPTFUNCTION, which curl calls after creating the socket and before connect(),
// aborts the transfer. Names are resolved through CURLOPT_RESOLVE, never DNS; proxies from the
// environment are switched off. So none of this depends on the machine's routes or resolver.
#include "edgemon/common/curl_address_guard.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace edgemon::net {
namespace {

struct Sockets {
  int opened = 0;  // sockets curl got from the guard and was about to connect
};

int abort_before_connect(void* clientp, curl_socket_t, curlsocktype) {
  ++static_cast<Sockets*>(clientp)->opened;
  return CURL_SOCKOPT_ERROR;
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Attempt {
  CURLcode rc = CURLE_OK;
  int sockets = 0;
  bool refused = false;
  std::string message;
};

Attempt attempt(const std::string& url, bool allow, const std::vector<std::string>& resolve = {}) {
  static const bool once = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  EXPECT_TRUE(once);
  std::unique_ptr<CURL, EasyDeleter> h(curl_easy_init());
  EXPECT_NE(h, nullptr);
  if (h == nullptr) return {};
  std::unique_ptr<curl_slist, SlistDeleter> hosts;
  for (const std::string& r : resolve) hosts.reset(curl_slist_append(hosts.release(), r.c_str()));
  Sockets sockets;
  CurlAddressGuard guard;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_PROXY, "");
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 2000L);
  if (hosts) curl_easy_setopt(h.get(), CURLOPT_RESOLVE, hosts.get());
  curl_easy_setopt(h.get(), CURLOPT_SOCKOPTFUNCTION, &abort_before_connect);
  curl_easy_setopt(h.get(), CURLOPT_SOCKOPTDATA, &sockets);
  guard.install(h.get(), allow, "test.allow_link_local = true");
  Attempt a;
  a.rc = curl_easy_perform(h.get());
  a.sockets = sockets.opened;
  a.refused = guard.refused();
  a.message = guard.message();
  return a;
}

TEST(CurlAddressGuard, RefusesMetadataLiteralsBeforeASocketExists) {
  const struct {
    const char* url;
    const char* message;
  } cases[] = {
      {"http://169.254.169.254/latest/meta-data/",
       "refused: 169.254.169.254 is link-local (set test.allow_link_local = true to allow)"},
      {"http://169.254.0.1:8080/",
       "refused: 169.254.0.1 is link-local (set test.allow_link_local = true to allow)"},
      {"http://[::ffff:169.254.169.254]/",
       "refused: ::ffff:169.254.169.254 is link-local (set test.allow_link_local = true to allow)"},
      {"http://[fe80::1%25lo]:9/",
       "refused: fe80::1 is link-local (set test.allow_link_local = true to allow)"},
      {"http://[fd00:ec2::254]/",
       "refused: fd00:ec2::254 is a cloud metadata address (set test.allow_link_local = true to "
       "allow)"},
  };
  for (const auto& c : cases) {
    const Attempt a = attempt(c.url, false);
    EXPECT_EQ(a.rc, CURLE_COULDNT_CONNECT) << c.url << ": " << curl_easy_strerror(a.rc);
    EXPECT_TRUE(a.refused) << c.url;
    EXPECT_EQ(a.message, c.message) << c.url;
    EXPECT_EQ(a.sockets, 0) << c.url << ": no socket may be opened";
  }
}

TEST(CurlAddressGuard, RefusesANameThatResolvesToAMetadataAddress) {
  const Attempt a = attempt("http://metadata.test/computeMetadata/v1/", false,
                            {"metadata.test:80:169.254.169.254"});
  EXPECT_EQ(a.rc, CURLE_COULDNT_CONNECT) << curl_easy_strerror(a.rc);
  EXPECT_TRUE(a.refused);
  EXPECT_EQ(a.message,
            "refused: 169.254.169.254 is link-local (set test.allow_link_local = true to allow)");
  EXPECT_EQ(a.sockets, 0);

  const Attempt v6 = attempt("https://imds.test/", false, {"imds.test:443:[fd00:ec2::254]"});
  EXPECT_TRUE(v6.refused);
  EXPECT_EQ(v6.sockets, 0);
}

TEST(CurlAddressGuard, ANameWithAnOrdinaryAddressBesideAMetadataOneGetsOnlyTheOrdinaryOne) {
  const Attempt a =
      attempt("http://mixed.test/", false, {"mixed.test:80:169.254.169.254,127.0.0.1"});
  EXPECT_TRUE(a.refused);
  EXPECT_EQ(a.sockets, 1) << "127.0.0.1 gets its socket (and the test aborts before connect)";
}

TEST(CurlAddressGuard, OrdinaryAddressesAndAllowedLinkLocalGetTheirSocket) {
  for (const char* url : {"http://127.0.0.1:9/", "http://10.0.0.1/"}) {
    const Attempt a = attempt(url, false);
    EXPECT_FALSE(a.refused) << url;
    EXPECT_TRUE(a.message.empty()) << url;
    EXPECT_EQ(a.sockets, 1) << url;
    EXPECT_EQ(a.rc, CURLE_ABORTED_BY_CALLBACK) << url << ": " << curl_easy_strerror(a.rc);
  }
  const Attempt allowed = attempt("http://169.254.169.254/", true);
  EXPECT_FALSE(allowed.refused);
  EXPECT_EQ(allowed.sockets, 1);
}

TEST(CurlAddressGuard, InstallOnNoHandleIsHarmless) {
  CurlAddressGuard g;
  g.install(nullptr, false, "x = true");
  EXPECT_FALSE(g.refused());
}

}  // namespace
}  // namespace edgemon::net
