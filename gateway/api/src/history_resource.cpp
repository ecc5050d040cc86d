// GET /api/history (one series, history_api.h) and GET /api/reports (daily reports as JSON or CSV,
// reports_api.h). Both query SQLite on the history reader's thread: the io thread never waits.
// A failed query answers 500 (503 when the reader is busy) with the reason, never an empty 200.
#include "edgemon/gateway/api/api_context.h"
#include "edgemon/gateway/api/history_api.h"
#include "edgemon/gateway/api/reports_api.h"

namespace edgemon::gateway {
void add_history_routes(Router& router, ApiContext& api) {
  router.add("GET", "/api/history", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    auto query = parse_history_query(req.query, to_unix_ms(api.clock.wall()));
    if (!query) co_return error_reply(400, query.error().message);
    // A named job, not a temporary inside the co_await expression: GCC 12 destroys such
    // temporaries twice when they own memory.
    auto job = [q = std::move(*query)](Store& s) { return history_json(s, q); };
    co_return co_await stored_json(api.reader, std::move(job));
  });

  router.add("GET", "/api/reports", [&api](const ApiRequest& req) -> asio::awaitable<ApiReply> {
    auto query = parse_report_query(req.query, to_unix_ms(api.clock.wall()), api.sla_pct);
    if (!query) co_return error_reply(400, query.error().message);
    auto job = [q = std::move(*query)](Store& s) -> Result<ApiReply> {
      auto rows = s.daily_reports(q.from_day, q.to_day);
      if (!rows) return rows.error();
      if (q.csv) {
        return ApiReply{200, reports_csv(*rows, q), "text/csv; charset=utf-8",
                        "edgemon-reports-" + q.from_day + "-" + q.to_day + ".csv", {}};
      }
      return json_reply(200, reports_json(*rows, q));
    };
    auto reply = co_await api.reader.query(std::move(job));
    if (!reply) co_return storage_error(reply.error());
    co_return std::move(*reply);
  });
}

}  // namespace edgemon::gateway
