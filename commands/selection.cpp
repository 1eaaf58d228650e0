#include "selection.h"

#include <limits>

namespace sessionctl::cli {

void add_selection_flags(CLI::App& app, SelectionFlags& f) {
  const std::string group = "Selection";
  app.add_option("ID", f.ids, "session ids (any profile); exit 5 when a named one does not exist")->type_name("ID");
  app.add_option("--match", f.match, "only sessions whose id matches GLOB (Redis glob rules)")
      ->group(group)
      ->type_name("GLOB");
  app.add_option("--state", f.state, "only sessions in STATE (btrix current, trt current_stage, telegram open/closed)")
      ->group(group)
      ->type_name("STATE");
  auto* below = app.add_option("--ttl-below", f.ttl_below, "only sessions expiring within DURATION")
                    ->group(group)
                    ->type_name("DURATION");
  auto* above = app.add_option("--ttl-above", f.ttl_above, "only sessions with more than DURATION left")
                    ->group(group)
                    ->type_name("DURATION");
  app.add_flag("--no-ttl", f.no_ttl, "only sessions that never expire")->group(group)->excludes(below)->excludes(above);
  app.add_option("--idle-over", f.idle_over, "only sessions idle for longer than DURATION (90s, 15m, 24h, 7d)")
      ->group(group)
      ->type_name("DURATION");
  app.add_option("--where", f.where,
                 "only sessions whose FIELD (dotted JSON path or hash field) equals VALUE, raw (repeatable)")
      ->group(group)
      ->type_name("FIELD=VALUE")
      ->allow_extra_args(false);  // one value per --where, so ids may follow it
  // Parsed as signed so that "-1" is refused instead of wrapping to "no limit".
  app.add_option_function<long long>(
         "--limit", [&f](const long long& n) { f.limit = static_cast<std::size_t>(n); }, "stop after N sessions")
      ->group(group)
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<long long>::max()));
}

}  // namespace sessionctl::cli
