#include "edgemon/gateway/http_api.h"

namespace edgemon::gateway {

ApiReply json_reply(unsigned status, const nlohmann::json& body) {
  ApiReply reply;
  reply.status = status;
  reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return reply;
}

ApiReply error_reply(unsigned status, std::string_view message) {
  return json_reply(status, nlohmann::json{{"error", std::string(message)}});
}

}  // namespace edgemon::gateway
