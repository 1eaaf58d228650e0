// sessionctl profiles: the profiles sessionctl knows and their key layouts; --detect samples a live keyspace.
#include "report/profiles.h"

#include "registry.h"

namespace sessionctl::cli {

Runner setup_profiles(CLI::App& app) {
  struct Flags {
    bool detect = false;
    std::size_t sample = 10000;
  };
  auto f = std::make_shared<Flags>();
  app.add_flag("--detect", f->detect,
               "sample the live keyspace: which profiles it holds, and the key prefixes no profile explains, with a "
               "starter profiles file for them");
  app.add_option("--sample", f->sample, "with --detect, look at no more than N keys (default 10000)")
      ->type_name("N")
      ->check(whole_number(1, 100000000));
  return [f](Context& ctx) {
    // Every known profile: built-ins and --profiles-file, whatever --profile narrowed.
    const ProfileSet profiles = ctx.profiles();
    if (!f->detect) {
      ctx.emit(describe_profiles(profiles));
      return;
    }
    auto client = ctx.connect_no_touch();
    DetectReport report = detect_profiles(*client, profiles, f->sample);
    report.reveal = ctx.global.reveal;
    ctx.emit(report);
  };
}

}  // namespace sessionctl::cli
