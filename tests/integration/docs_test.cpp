// The man page and the shell completions are generated from the command table by sessionctl-docgen
// and checked in. These tests keep them honest: the checked-in files must be exactly what docgen
// makes now, they must name every command and long flag the real binary's --help shows, the man
// page must render without groff warnings, and the completion scripts must parse (and, where the
// shell is here, complete). Helpers are local on purpose: they only need a shell and files.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef SESSIONCTL_BIN
#error "SESSIONCTL_BIN must be defined to the path of the sessionctl binary"
#endif
#ifndef SESSIONCTL_DOCGEN_BIN
#error "SESSIONCTL_DOCGEN_BIN must be defined to the path of sessionctl-docgen"
#endif
#ifndef SESSIONCTL_SOURCE_DIR
#error "SESSIONCTL_SOURCE_DIR must be defined to the source tree"
#endif

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kGenerated = {"man/sessionctl.1", "completions/sessionctl.bash",
                                             "completions/_sessionctl", "completions/sessionctl.fish"};
const char* const kOutOfDate = "man/completions are out of date: run `cmake --build build --target docs`";

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "sessionctl-docs-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Run {
  int status = -1;  // exit status, -1 when killed by a signal
  std::string out, err;
};

// Runs a /bin/sh command line with stdin from /dev/null, capturing stdout and stderr via files.
Run run(const std::string& command, const ScratchDir& scratch) {
  fs::path out = scratch.path() / "run.stdout", err = scratch.path() / "run.stderr";
  std::string line = "(" + command + ") </dev/null >" + sh_quote(out.string()) + " 2>" + sh_quote(err.string());
  int rc = std::system(line.c_str());
  Run r;
  r.status = rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

bool in_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((fs::path(dir) / tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) out.push_back(line);
  return out;
}

// What the real binary says it accepts, read from CLI11's --help layout: a heading line, then
// entries indented by two spaces whose first column holds the names.
struct HelpFacts {
  std::vector<std::vector<std::string>> commands;  // name first, then aliases
  std::vector<std::string> long_flags;             // "--url"
};

HelpFacts parse_help(const std::string& help) {
  HelpFacts facts;
  std::string heading;
  for (const auto& line : lines_of(help)) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      heading = line;
      continue;
    }
    if (line.size() < 3 || line.compare(0, 2, "  ") != 0 || line[2] == ' ') continue;  // wrapped text
    std::string rest = line.substr(2);
    if (heading == "Subcommands:") {
      std::string names = rest.substr(0, rest.find("  "));
      std::vector<std::string> all;
      std::stringstream s(names);
      std::string name;
      while (std::getline(s, name, ',')) {
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        if (!name.empty()) all.push_back(name);
      }
      if (!all.empty()) facts.commands.push_back(all);
      continue;
    }
    if (rest[0] != '-') continue;
    std::string names = rest.substr(0, rest.find(' '));
    std::stringstream s(names);
    std::string name;
    while (std::getline(s, name, ',')) {
      if (name.rfind("--", 0) == 0) facts.long_flags.push_back(name);
    }
  }
  return facts;
}

HelpFacts help_of(const std::vector<std::string>& args, const ScratchDir& scratch) {
  std::string command = sh_quote(SESSIONCTL_BIN);
  for (const auto& a : args) command += " " + sh_quote(a);
  Run r = run(command + " --help", scratch);
  INFO("sessionctl " << command << " --help\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.status == 0);
  return parse_help(r.out);
}

// The binary's surface: the global flags, and each command with its own flags.
struct Surface {
  std::vector<std::string> global_flags;
  std::map<std::string, std::vector<std::string>> aliases;
  std::map<std::string, std::vector<std::string>> command_flags;
  std::vector<std::string> order;
};

Surface surface(const ScratchDir& scratch) {
  Surface s;
  HelpFacts top = help_of({}, scratch);
  REQUIRE_FALSE(top.commands.empty());
  REQUIRE_FALSE(top.long_flags.empty());
  s.global_flags = top.long_flags;
  for (const auto& names : top.commands) {
    const std::string& name = names.front();
    s.order.push_back(name);
    s.aliases[name] = std::vector<std::string>(names.begin() + 1, names.end());
    s.command_flags[name] = help_of({name}, scratch).long_flags;
  }
  return s;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// `needle` as a whole word of a shell script: not part of a longer name.
bool has_word(const std::string& text, const std::string& needle) {
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    bool left = pos == 0 || !is_word_char(text[pos - 1]);
    auto end = pos + needle.size();
    bool right = end >= text.size() || !is_word_char(text[end]);
    if (left && right) return true;
  }
  return false;
}

// A long flag as a completion script spells it: fish declares `--url` as `-l url`.
bool script_has_flag(const std::string& file, const std::string& text, const std::string& flag) {
  if (file.size() >= 5 && file.compare(file.size() - 5, 5, ".fish") == 0) return has_word(text, "-l " + flag.substr(2));
  return has_word(text, flag);
}

// `flag` as roff writes it ("\-\-ttl\-below"), not the start of a longer flag such as "\-\-ttl\-above".
bool has_roff_flag(const std::string& roff, const std::string& flag) {
  std::string needle;
  for (char c : flag) needle += c == '-' ? std::string("\\-") : std::string(1, c);
  for (auto pos = roff.find(needle); pos != std::string::npos; pos = roff.find(needle, pos + 1)) {
    auto end = pos + needle.size();
    bool continues =
        end < roff.size() && (std::isalnum(static_cast<unsigned char>(roff[end])) || roff.compare(end, 2, "\\-") == 0);
    if (!continues) return true;
  }
  return false;
}

// The COMMANDS subsection of one command: from its .SS line to the next .SS or .SH.
std::string man_subsection(const std::string& roff, const std::string& name) {
  // roff writes a command's '-' as "\-" (persist-test).
  std::string heading;
  for (char c : name) heading += c == '-' ? std::string("\\-") : std::string(1, c);
  auto start = roff.find(".SS \"" + heading + "\"\n");
  if (start == std::string::npos) return "";
  auto next_ss = roff.find("\n.SS ", start + 1), next_sh = roff.find("\n.SH ", start + 1);
  return roff.substr(start, std::min(next_ss, next_sh) - start);
}

// "line N: expected ... got ..." for the first difference, to say where a stale file went wrong.
std::string first_difference(const std::string& want, const std::string& got) {
  auto a = lines_of(want), b = lines_of(got);
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string x = i < a.size() ? a[i] : "<end of file>", y = i < b.size() ? b[i] : "<end of file>";
    if (x != y) return "line " + std::to_string(i + 1) + ":\n  docgen now writes: " + x + "\n  checked in:        " + y;
  }
  return "line endings or a final newline differ";
}

void generate(const fs::path& dir, const ScratchDir& scratch) {
  Run r = run(sh_quote(SESSIONCTL_DOCGEN_BIN) + " " + sh_quote(dir.string()), scratch);
  INFO("sessionctl-docgen failed\nstderr:\n" << r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("checked-in man page and completions are what sessionctl-docgen writes now", "[docs]") {
  ScratchDir scratch;
  generate(scratch.path() / "a", scratch);
  generate(scratch.path() / "b", scratch);
  for (const auto& rel : kGenerated) {
    const std::string fresh = slurp(scratch.path() / "a" / rel);
    INFO(rel);
    REQUIRE_FALSE(fresh.empty());
    {
      INFO("sessionctl-docgen is not deterministic: two runs differ");
      REQUIRE(fresh == slurp(scratch.path() / "b" / rel));
    }
    const fs::path checked_in = fs::path(SESSIONCTL_SOURCE_DIR) / rel;
    const std::string old = slurp(checked_in);
    INFO(kOutOfDate);
    INFO((old == fresh ? std::string() : first_difference(fresh, old)));
    REQUIRE(old == fresh);
  }
}

TEST_CASE("man page and completions name every command and long flag the binary has", "[docs]") {
  ScratchDir scratch;
  const Surface s = surface(scratch);
  const fs::path src = SESSIONCTL_SOURCE_DIR;
  const std::string man = slurp(src / "man/sessionctl.1");
  const std::map<std::string, std::string> scripts = {
      {"completions/sessionctl.bash", slurp(src / "completions/sessionctl.bash")},
      {"completions/_sessionctl", slurp(src / "completions/_sessionctl")},
      {"completions/sessionctl.fish", slurp(src / "completions/sessionctl.fish")}};
  INFO(kOutOfDate);

  for (const auto& flag : s.global_flags) {
    INFO("global flag " << flag);
    CHECK(has_roff_flag(man, flag));
    for (const auto& [file, text] : scripts) {
      INFO(file);
      CHECK(script_has_flag(file, text, flag));
    }
  }
  for (const auto& name : s.order) {
    INFO("command " << name);
    const std::string section = man_subsection(man, name);
    REQUIRE_FALSE(section.empty());
    for (const auto& alias : s.aliases.at(name)) {
      INFO("alias " << alias);
      CHECK(section.find("\\fB" + alias + "\\fR") != std::string::npos);
      CHECK(has_word(scripts.at("completions/sessionctl.bash"), alias));
      CHECK(has_word(scripts.at("completions/_sessionctl"), alias));
      CHECK(has_word(scripts.at("completions/sessionctl.fish"), alias));
    }
    for (const auto& [file, text] : scripts) {
      INFO(file);
      CHECK(has_word(text, name));
    }
    for (const auto& flag : s.command_flags.at(name)) {
      INFO("flag " << flag);
      // Each command's -h/--help is documented once, under GLOBAL OPTIONS.
      CHECK(has_roff_flag(flag == "--help" ? man : section, flag));
      for (const auto& [file, text] : scripts) {
        INFO(file);
        CHECK(script_has_flag(file, text, flag));
      }
    }
  }
}

TEST_CASE("man page renders without groff warnings", "[docs]") {
  ScratchDir scratch;
  if (!in_path("groff")) FAIL("groff not found in PATH: the man page cannot be checked (install groff; CI does)");
  const std::string page = sh_quote((fs::path(SESSIONCTL_SOURCE_DIR) / "man/sessionctl.1").string());
  for (const std::string device : {"", " -Tutf8"}) {
    Run r = run("groff -man -ww -z" + device + " " + page, scratch);
    INFO("groff -man -ww -z" << device << " man/sessionctl.1\nstderr:\n" << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
  }
  Run text = run("groff -man -Tutf8 -P-cbou " + page, scratch);
  REQUIRE(text.status == 0);
  CHECK(text.out.find("EXIT STATUS") != std::string::npos);
  CHECK(text.out.find("GLOBAL OPTIONS") != std::string::npos);
}

TEST_CASE("completion scripts parse, and bash completes commands, flags and values", "[docs]") {
  ScratchDir scratch;
  const fs::path src = SESSIONCTL_SOURCE_DIR;
  const std::string bash_file = (src / "completions/sessionctl.bash").string();
  REQUIRE(in_path("bash"));
  {
    Run r = run("bash -n " + sh_quote(bash_file), scratch);
    INFO("bash -n completions/sessionctl.bash\n" << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
  }

  const Surface s = surface(scratch);
  {
    // One line of candidates per simulated command line.
    std::vector<std::vector<std::string>> lines = {
        {"sessionctl", ""}, {"sessionctl", "-o", ""}, {"sessionctl", "--output", "=", "js"}};
    for (const auto& name : s.order) {
      lines.push_back({"sessionctl", name, "--"});
      for (const auto& alias : s.aliases.at(name)) lines.push_back({"sessionctl", alias, "--"});
    }
    std::string script = "source " + sh_quote(bash_file) +
                         "\nt() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _sessionctl; "
                         "printf '%s\\n' \"${COMPREPLY[*]}\"; }\n";
    for (const auto& words : lines) {
      script += "t";
      for (const auto& w : words) script += " " + sh_quote(w);
      script += "\n";
    }
    spit(scratch.path() / "complete.bash", script);
    Run r = run("bash " + sh_quote((scratch.path() / "complete.bash").string()), scratch);
    INFO("bash completion run\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const auto got = lines_of(r.out);
    REQUIRE(got.size() == lines.size());
    auto offered = [&](std::size_t i, const std::string& word) {
      INFO("completing `" << [&] {
        std::string l;
        for (const auto& w : lines[i]) l += w + " ";
        return l;
      }() << "` offered: " << got[i]);
      CHECK(has_word(" " + got[i] + " ", word));
    };
    for (const auto& name : s.order) offered(0, name);
    for (const auto& format : {"table", "json", "jsonl"}) offered(1, format);
    offered(2, "json");
    offered(2, "jsonl");
    std::size_t i = 3;
    for (const auto& name : s.order) {
      for (std::size_t k = 0; k <= s.aliases.at(name).size(); ++k, ++i) {
        for (const auto& flag : s.command_flags.at(name)) offered(i, flag);
        for (const auto& flag : s.global_flags) {
          if (flag != "--version") offered(i, flag);  // --version only before a command
        }
      }
    }
  }

  // zsh and fish are prerequisites (scripts/setup-and-test.sh installs them): a missing shell fails
  // the test rather than leaving its script unchecked.
  const std::string zsh_file = (src / "completions/_sessionctl").string();
  {
    INFO("zsh not found in PATH: completions/_sessionctl cannot be syntax-checked (apt-get install zsh)");
    REQUIRE(in_path("zsh"));
  }
  {
    Run z = run("zsh -n " + sh_quote(zsh_file), scratch);
    INFO("zsh -n completions/_sessionctl\n" << z.err);
    CHECK(z.status == 0);
    CHECK(z.err.empty());
  }

  const std::string fish_file = (src / "completions/sessionctl.fish").string();
  {
    INFO("fish not found in PATH: completions/sessionctl.fish cannot be syntax-checked (apt-get install fish)");
    REQUIRE(in_path("fish"));
  }
  Run f = run("fish --no-config --no-execute " + sh_quote(fish_file), scratch);
  INFO("fish --no-execute completions/sessionctl.fish\n" << f.err);
  CHECK(f.status == 0);
  CHECK(f.err.empty());
  Run c = run("fish --no-config -c " + sh_quote("source " + sh_quote(fish_file) +
                                                "; complete -C 'sessionctl '; echo ---; complete -C 'sessionctl -o '"),
              scratch);
  INFO("fish completion run\nstdout:\n" << c.out << "\nstderr:\n" << c.err);
  REQUIRE(c.status == 0);
  auto split = c.out.find("---\n");
  REQUIRE(split != std::string::npos);
  for (const auto& name : s.order) CHECK(c.out.substr(0, split).find(name + "\t") != std::string::npos);
  for (const auto& format : {"table\t", "json\t", "jsonl\t"}) CHECK(c.out.find(format, split) != std::string::npos);
}
