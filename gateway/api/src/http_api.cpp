#include "edgemon/gateway/api/http_api.h"

#include <nlohmann/json.hpp>

#include "edgemon/gateway/api/json_writer.h"

namespace edgemon::gateway {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

QueryParams parse_query(std::string_view target) {
  QueryParams out;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  std::size_t pairs = 0;
  while (!query.empty() && pairs < 32) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      ++pairs;
      out[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

ApiReply json_reply(unsigned status, std::string body) {
  ApiReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

ApiReply json_reply(unsigned status, const nlohmann::json& body) {
  return json_reply(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

ApiReply error_reply(unsigned status, std::string_view message) {
  JsonWriter w;
  w.begin_object().member("error", message).end_object();
  return json_reply(status, w.take());
}

ApiReply method_not_allowed(std::string_view allow) {
  ApiReply r = error_reply(405, "method not allowed");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace edgemon::gateway
