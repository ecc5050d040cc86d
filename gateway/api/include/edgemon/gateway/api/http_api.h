// The API's request and reply types, shared by the HTTP server and the handlers behind it.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgemon::gateway {

// Decoded query parameters (percent-escapes and '+' decoded; the last of repeated keys wins).
using QueryParams = std::map<std::string, std::string>;
QueryParams parse_query(std::string_view target);
// One path segment with its percent-escapes decoded ('+' stays '+'); malformed escapes stay as they are.
std::string decode_path_segment(std::string_view segment);

// A JSON answer with its status (errors: {"error": message}).
struct ApiReply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string attachment;  // a file name: sent as a download (Content-Disposition)
  std::vector<std::pair<std::string, std::string>> headers;  // more response headers (Set-Cookie, Retry-After)
};

// {"error": message} with `status`.
ApiReply error_reply(unsigned status, std::string_view message);
// `body` as compact JSON (invalid UTF-8 replaced) with `status`.
ApiReply json_reply(unsigned status, const nlohmann::json& body);

// JSON producers for the API; they run on the io thread.
struct HttpApi {
  std::function<std::string()> health;
  std::function<std::string()> nodes;
  std::function<std::string()> fleet;                                   // status counts per node
  std::function<ApiReply()> targets;                                    // every node's probe targets
  std::function<std::string()> alerts;                                  // active alerts
  std::function<std::string(std::size_t, std::size_t)> events;          // limit, offset
  std::function<std::string(std::size_t, std::size_t)> incidents;       // limit, offset
  std::function<ApiReply(const QueryParams&)> history;                  // docs: history_api.h
  std::function<ApiReply(const QueryParams&)> reports;                  // docs: reports_api.h
  std::function<ApiReply()> metrics;                                    // Prometheus text, GET /metrics
  // /api/nodes/<...> below the node list (method, path, body); the server has checked that a
  // state-changing method comes from an admin.
  std::function<ApiReply(const std::string&, std::string_view, const std::string&)> node_resource;
  // /api/silences, /api/silences/<id> and /api/maintenance (method, path, body, the caller's name).
  std::function<ApiReply(const std::string&, std::string_view, const std::string&, const std::string&)> silences;
  // /api/rules and /api/rules/<name> (method, path, body, the caller's name).
  std::function<ApiReply(const std::string&, std::string_view, const std::string&, const std::string&)> rules;
};

}  // namespace edgemon::gateway
