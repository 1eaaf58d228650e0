// sessionctl-docgen OUTDIR: writes OUTDIR/man/sessionctl.1 and OUTDIR/completions/{sessionctl.bash,
// _sessionctl,sessionctl.fish} by walking the real CLI::App that build_cli() returns, so that a
// subcommand or flag added to the command table shows up in the man page and every completion
// without anyone listing it here. The prose the CLI cannot know lives in manual.cpp.
//
// Output is deterministic (no clock, no environment), so the checked-in files can be compared with
// a fresh run; tests/integration/docs_test.cpp does.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cli_model.h"
#include "registry.h"

namespace sessionctl::cli::docgen {
namespace {

namespace fs = std::filesystem;

// Writes through a temporary file and a rename; leaves an unchanged file (and its mtime) alone.
void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      if (old.str() == content) return;
    }
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

}  // namespace

int run(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]).empty() || argv[1][0] == '-') {
    std::cerr
        << "usage: sessionctl-docgen OUTDIR\n"
           "writes OUTDIR/man/sessionctl.1 and OUTDIR/completions/{sessionctl.bash,_sessionctl,sessionctl.fish}\n";
    return 2;
  }
  try {
    CliApp built = build_cli();
    Cli cli = walk(built);
    fs::path root = argv[1];
    write_file(root / "man" / "sessionctl.1", man_page(cli));
    write_file(root / "completions" / "sessionctl.bash", bash_completion(cli));
    write_file(root / "completions" / "_sessionctl", zsh_completion(cli));
    write_file(root / "completions" / "sessionctl.fish", fish_completion(cli));
  } catch (const std::exception& e) {
    std::cerr << "sessionctl-docgen: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace sessionctl::cli::docgen

int main(int argc, char** argv) { return sessionctl::cli::docgen::run(argc, argv); }
