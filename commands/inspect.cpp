// sessionctl inspect ID|KEY…: every key of a session, decoded and masked.
#include <fmt/format.h>

#include <ostream>

#include "mask/mask.h"
#include "registry.h"
#include "render/records.h"
#include "render/session_view.h"
#include "session/resolver.h"
#include "util/errors.h"
#include "util/utf8.h"

namespace sessionctl::cli {
namespace {

struct InspectFlags {
  std::vector<std::string> targets;
};

void run_inspect(Context& ctx, const InspectFlags& flags) {
  ProfileSet profiles = ctx.profiles();
  auto client = ctx.connect_no_touch();
  SessionResolver resolver(*client, profiles);
  std::vector<std::string> targets;
  for (const auto& raw : flags.targets) targets.push_back(unescape_arg(raw));
  Resolution found = resolver.resolve(targets);

  std::vector<nlohmann::json> details;
  for (const auto& s : found.sessions) details.push_back(session_detail_json(s, ctx.global.reveal));
  switch (ctx.format()) {
    case Format::table:
      for (std::size_t i = 0; i < details.size(); ++i) {
        if (i) *ctx.out << "\n";
        *ctx.out << render_session_detail(details[i], ctx.term);
      }
      break;
    case Format::json: {
      nlohmann::json doc = json_document("sessionctl.inspect", 1);
      doc["sessions"] = details;
      // Targets as given; bytes that are not UTF-8 in the escaped form inspect accepts back.
      auto shown = [](const std::string& t) { return is_utf8(t) ? t : printable(t); };
      nlohmann::json missing = nlohmann::json::array(), denied = nlohmann::json::array();
      for (const auto& t : found.missing) missing.push_back(shown(t));
      for (const auto& d : found.denied) denied.push_back(shown(d.target));
      doc["missing"] = missing;
      doc["denied"] = denied;
      *ctx.out << dump_json(doc, true) << '\n';
      break;
    }
    case Format::jsonl:
      for (const auto& d : details) *ctx.out << dump_json(d, false) << '\n';
      break;
  }
  // A denial is the stronger answer: "no session" would be a guess where the user may not look.
  if (!found.denied.empty()) {
    ctx.out->flush();
    throw AuthError(found.denied.front().message);
  }
  if (!found.missing.empty()) {
    ctx.out->flush();
    const std::string& first = found.missing.front();
    std::string hint;
    // Suggestions are stored ids: masked like every id shown (the target itself is the user's own).
    for (const auto& c : resolver.suggestions(first)) {
      hint += (hint.empty() ? "" : ", ") + printable(ctx.global.reveal ? c : mask::mask_shown(c));
    }
    const std::size_t more = found.missing.size() - 1;
    throw NotFoundError(
        fmt::format("no session '{}'{}{}", printable(first), more ? fmt::format(" (and {} more missing)", more) : "",
                    hint.empty() ? "; try 'sessionctl list --match GLOB'" : "; did you mean: " + hint + "?"));
  }
}

}  // namespace

Runner setup_inspect(CLI::App& app) {
  auto flags = std::make_shared<InspectFlags>();
  app.add_option("ID", flags->targets, "session ids or full keys (state:abc, trt:session:x:history)")
      ->required()
      ->type_name("ID|KEY");
  return [flags](Context& ctx) { run_inspect(ctx, *flags); };
}

}  // namespace sessionctl::cli
