// sessionctl inspect ID|KEY…: every key of a session, decoded and masked.
#include <fmt/format.h>

#include <functional>
#include <ostream>
#include <random>

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
  bool all_items = false;
};

// --all-items: a key whose value was read as a window gets all its items, streamed from Redis a
// window at a time, so memory stays flat however big the key is.
bool streamed(const KeyInfo& k, bool all_items) { return all_items && k.value && k.value->total; }

// The placeholder a streamed key's value has in the detail JSON until its items are written in its place.
// A value cannot fake one: the mark carries a number drawn once per run.
const std::string& stream_nonce() {
  static const std::string nonce = std::to_string(std::random_device{}()) + std::to_string(std::random_device{}());
  return nonce;
}
std::string stream_mark(std::size_t key) {
  return fmt::format("\u0001sessionctl-items-{}:{}\u0001", stream_nonce(), key);
}

// Writes `text` (a detail JSON) with each stream_mark() string replaced by what write_items(key) writes.
void write_with_items(std::ostream& out, const std::string& text, const std::function<void(std::size_t)>& write_items) {
  const std::string open = "\"\\u0001sessionctl-items-" + stream_nonce() + ":";
  std::size_t at = 0;
  for (std::size_t pos; (pos = text.find(open, at)) != std::string::npos;) {
    out.write(text.data() + at, static_cast<std::streamsize>(pos - at));
    std::size_t num = pos + open.size();
    std::size_t end = text.find("\\u0001\"", num);
    write_items(std::stoul(text.substr(num, end - num)));
    at = end + 7;  // past \u0001"
  }
  out.write(text.data() + at, static_cast<std::streamsize>(text.size() - at));
}

// Every item of s.keys[i] as the JSON value the detail would hold: [items…] or {field: value…}.
void write_all_items_json(std::ostream& out, SessionResolver& resolver, const Session& s, std::size_t i, bool reveal) {
  const bool hash = s.keys[i].type == KeyType::hash;
  out << (hash ? '{' : '[');
  bool first = true;
  resolver.stream_items(s.keys[i], [&](StoredValue& window) {
    const nlohmann::json v = present_key_value(s, i, window, reveal)["value"];
    std::string chunk;
    if (hash) {
      for (const auto& [f, fv] : v.items()) {
        chunk += first ? "" : ",";
        append_json_string(chunk, f);
        chunk += ':' + dump_json(fv, false);
        first = false;
      }
    } else {
      for (const auto& item : v) {
        chunk += (first ? "" : ",") + dump_json(item, false);
        first = false;
      }
    }
    out << chunk;
  });
  out << (hash ? '}' : ']');
}

// The table form of one session, streaming the items of keys read as a window when --all-items.
void write_session_table(std::ostream& out, SessionResolver& resolver, const Session& s, const nlohmann::json& d,
                         const Terminal& term, bool reveal, bool all_items) {
  out << render_session_head(d, term);
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    const nlohmann::json& k = d["key_details"][i];
    if (!streamed(s.keys[i], all_items)) {
      out << render_key_detail(k, term);
      continue;
    }
    out << render_key_head(k, term);
    std::size_t n = 1;
    resolver.stream_items(s.keys[i], [&](StoredValue& window) {
      out << render_value(present_key_value(s, i, window, reveal), term, n);
      n += window.read_count();
    });
  }
  out << render_session_indexes(d, term);
}

}  // namespace

void show_sessions(Context& ctx, const std::vector<std::string>& given, bool all_items, bool reveal) {
  ProfileSet profiles = ctx.profiles();
  auto client = ctx.connect_no_touch();
  SessionResolver resolver(*client, profiles);
  std::vector<std::string> targets;
  targets.reserve(given.size());
  for (const auto& raw : given) targets.push_back(unescape_arg(raw));
  Resolution found = resolver.resolve(targets);

  std::vector<nlohmann::json> details;
  bool any_streamed = false;
  for (const auto& s : found.sessions) {
    nlohmann::json d = session_detail_json(s, reveal);
    for (std::size_t i = 0; i < s.keys.size(); ++i) {
      if (!streamed(s.keys[i], all_items)) continue;
      d["key_details"][i]["value"] = stream_mark(i);  // written in place below, a window at a time
      d["key_details"][i].erase("items_omitted");
      any_streamed = true;
    }
    details.push_back(std::move(d));
  }
  auto write_detail = [&](std::size_t at, const std::string& text) {
    write_with_items(*ctx.out, text, [&](std::size_t key) {
      write_all_items_json(*ctx.out, resolver, found.sessions[at], key, reveal);
    });
  };
  switch (ctx.format()) {
    case Format::table:
      for (std::size_t i = 0; i < details.size(); ++i) {
        if (i) *ctx.out << "\n";
        write_session_table(*ctx.out, resolver, found.sessions[i], details[i], ctx.term, reveal, all_items);
      }
      break;
    case Format::json: {
      nlohmann::json doc = json_document("sessionctl.inspect", 1);
      // Targets as given; bytes that are not UTF-8 in the escaped form inspect accepts back.
      auto shown = [](const std::string& t) { return is_utf8(t) ? t : printable(t); };
      nlohmann::json missing = nlohmann::json::array(), denied = nlohmann::json::array();
      for (const auto& t : found.missing) missing.push_back(shown(t));
      for (const auto& d : found.denied) denied.push_back(shown(d.target));
      doc["missing"] = missing;
      doc["denied"] = denied;
      doc["sessions"] = nlohmann::json::array();
      if (!any_streamed) {
        doc["sessions"] = details;
        *ctx.out << dump_json(doc, true) << '\n';
        break;
      }
      for (std::size_t i = 0; i < details.size(); ++i) doc["sessions"].push_back(stream_mark(i));
      // The document is written around its sessions, each of which may stream items of its own.
      write_with_items(*ctx.out, dump_json(doc, true),
                       [&](std::size_t i) { write_detail(i, dump_json(details[i], true)); });
      *ctx.out << '\n';
      break;
    }
    case Format::jsonl:
      for (std::size_t i = 0; i < details.size(); ++i) {
        write_detail(i, dump_json(details[i], false));
        *ctx.out << '\n';
      }
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
      hint += (hint.empty() ? "" : ", ") + printable(reveal ? c : mask::mask_shown(c));
    }
    const std::size_t more = found.missing.size() - 1;
    throw NotFoundError(
        fmt::format("no session '{}'{}{}", printable(first), more ? fmt::format(" (and {} more missing)", more) : "",
                    hint.empty() ? "; try 'sessionctl list --match GLOB'" : "; did you mean: " + hint + "?"));
  }
}

Runner setup_inspect(CLI::App& app) {
  auto flags = std::make_shared<InspectFlags>();
  app.add_option("ID", flags->targets, "session ids or full keys (state:abc, trt:session:x:history)")
      ->required()
      ->type_name("ID|KEY");
  app.add_flag("--all-items", flags->all_items,
               "show every item of big lists, hashes, sets and sorted sets (streamed), not the first 50 or the "
               "profile's cap");
  return [flags](Context& ctx) { show_sessions(ctx, flags->targets, flags->all_items, ctx.global.reveal); };
}

}  // namespace sessionctl::cli
