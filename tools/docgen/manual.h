// The man page's prose: the sections that cannot be derived from the command line (exit status,
// environment, output conventions, masking, profiles). sessionctl-docgen renders them after the
// sections it walks out of the CLI::App; everything about flags and subcommands comes from there.
#pragma once

#include <string>
#include <vector>

namespace sessionctl::cli::manual {

// One piece of text. Text is plain UTF-8, never roff: the renderer escapes it. Inside text and
// terms, `like this` is shown in bold (commands, flags, field names, literal values).
struct Block {
  enum class Kind {
    paragraph,   // text
    item,        // term, then text indented under it
    bullet,      // text as one bulleted list entry
    example,     // lines shown verbatim, indented, no filling
    subsection,  // text is the subsection title
  };
  Kind kind = Kind::paragraph;
  std::string term;
  std::string text;
  std::vector<std::string> lines;
};

struct Section {
  std::string title;  // upper case, as man pages name sections: "EXIT STATUS"
  std::vector<Block> blocks;
};

// What the prose may depend on: the subcommands the binary really has, so that the manual never
// names a command that does not exist (e.g. the read-only list picks up `export` once it is added).
struct Facts {
  std::vector<std::string> commands;
};

// DESCRIPTION: what sessionctl is for and how it talks; comes right after SYNOPSIS.
Section description(const Facts& facts);

// Everything after GLOBAL OPTIONS, in order: EXIT STATUS, ENVIRONMENT, OUTPUT, PII MASKING,
// READ-ONLY GUARANTEE, PROFILES, PROFILES FILE, FILES, SEE ALSO. Examples of masking and of the
// profiles file are computed with the real masking code and checked by the real profile loader,
// so they cannot disagree with the binary; throws when the worked example no longer loads.
std::vector<Section> trailing_sections(const Facts& facts);

// The date in the man page's footer. Fixed, so that regenerating is deterministic; bump it when
// the manual changes in substance.
inline constexpr const char* kManualDate = "2026-11-22";

}  // namespace sessionctl::cli::manual
