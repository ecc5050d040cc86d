// Router: method + path pattern -> handler, for the REST API (after authentication).
//
// A pattern is a path of literal segments and parameters, "/api/nodes/{group}/{node}/targets/{host}".
// A parameter matches exactly one non-empty segment and is handed to the handler percent-decoded
// (device names may need escapes; "%2F" decodes to '/' inside the value, never splits it). Literal
// segments compare exactly. Matching is by segment count first, so no two patterns of the table
// can be ambiguous unless they differ only in a parameter's place (add() refuses that: a bug).
//
// Answers the router gives itself:
//   404 {"error":"no such endpoint"}   no pattern matches the path
//   405 + Allow                        a pattern matches, the method is not one of its methods
// GET routes also answer HEAD (the server drops the body).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgemon/gateway/api/http_api.h"
#include "edgemon/gateway/asio_prelude.h"

namespace edgemon::gateway {

struct ApiRequest {
  std::string method;  // GET, POST, ... (HEAD arrives as HEAD)
  std::string path;    // without the query string
  QueryParams query;
  std::string body;
  std::string user;  // who asks (logs)
  std::vector<std::pair<std::string, std::string>> params;  // from the pattern, decoded

  // The decoded value of pattern parameter `name` ("" if the pattern has none).
  const std::string& param(std::string_view name) const;
};

using ApiHandler = std::function<asio::awaitable<ApiReply>(const ApiRequest&)>;

class Router {
 public:
  // Registers `method` (GET, POST, PUT, PATCH, DELETE) for `pattern`. Aborts on a malformed or
  // ambiguous pattern, or the same method twice (the table is code, not input).
  void add(std::string_view method, std::string_view pattern, ApiHandler handler);

  struct Match {
    const ApiHandler* handler = nullptr;  // null: `reply` is the answer (404, 405)
    std::vector<std::pair<std::string, std::string>> params;
    ApiReply reply;
  };
  Match match(std::string_view method, std::string_view path) const;

  // Matches `request` and runs its handler, or answers 404/405.
  asio::awaitable<ApiReply> dispatch(ApiRequest request) const;

  // "GET /api/nodes", ... in registration order (documentation checks).
  std::vector<std::string> routes() const;

 private:
  struct Segment {
    std::string text;  // literal, or the parameter's name
    bool param = false;
  };
  struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    std::vector<std::pair<std::string, ApiHandler>> methods;
  };
  std::vector<Route> routes_;
};

}  // namespace edgemon::gateway
