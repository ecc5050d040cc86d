// The API's request and reply types, shared by the HTTP server, the router and the resources.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace edgemon::gateway {

// Percent-escapes decoded; `plus_is_space` for query strings (application/x-www-form-urlencoded).
// Malformed escapes stay as they are.
std::string percent_decode(std::string_view in, bool plus_is_space);

// Decoded query parameters (the last of repeated keys wins; at most 32 are read).
using QueryParams = std::map<std::string, std::string, std::less<>>;
QueryParams parse_query(std::string_view target);

// A reply with its status (errors: {"error": message}).
struct ApiReply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string attachment;  // a file name: sent as a download (Content-Disposition)
  std::vector<std::pair<std::string, std::string>> headers;  // more response headers (Set-Cookie, Retry-After, Allow)
};

// {"error": message} with `status`.
ApiReply error_reply(unsigned status, std::string_view message);
// A body already written as JSON (JsonWriter) with `status`.
ApiReply json_reply(unsigned status, std::string body);
// `body` as compact JSON (invalid UTF-8 replaced) with `status`: for the authentication room's
// small replies.
ApiReply json_reply(unsigned status, const nlohmann::json& body);
// 405 with the Allow header.
ApiReply method_not_allowed(std::string_view allow);

}  // namespace edgemon::gateway
