#include "render/terminal.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "util/errors.h"
#include "util/interrupt.h"
#include "util/utf8.h"

namespace sessionctl {

Terminal Terminal::detect(bool no_color) {
  Terminal t;
  t.stdout_tty_ = isatty(STDOUT_FILENO) == 1;
  t.stderr_tty_ = isatty(STDERR_FILENO) == 1;
  t.stdin_tty_ = isatty(STDIN_FILENO) == 1;
  t.printer_ = std::make_shared<LinePrinter>(std::cerr, t.stderr_tty_);
  const char* nc = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  t.color_ = t.stdout_tty_ && !no_color && !(nc && *nc) && !(term && std::string(term) == "dumb");
  if (t.stdout_tty_) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) t.width_ = ws.ws_col;
    if (const char* cols = std::getenv("COLUMNS")) t.width_ = std::atoi(cols);
  }
  return t;
}

Terminal Terminal::plain(int width, bool color) {
  Terminal t;
  t.width_ = width;
  t.color_ = color;
  t.printer_ = std::make_shared<LinePrinter>(std::cerr, false);
  return t;
}

std::string Terminal::paint(Style style, const std::string& text) const {
  if (!color_ || style == Style::plain) return text;
  const char* code = "0";
  switch (style) {
    case Style::bold:
      code = "1";
      break;
    case Style::dim:
      code = "2";
      break;
    case Style::red:
      code = "31";
      break;
    case Style::green:
      code = "32";
      break;
    case Style::yellow:
      code = "33";
      break;
    case Style::cyan:
      code = "36";
      break;
    case Style::plain:
      break;
  }
  // A reset after the newline would leave the next line (the shell prompt) coloured on some terminals.
  std::size_t body = text.find_last_not_of('\n') + 1;
  return fmt::format("\033[{}m{}\033[0m{}", code, text.substr(0, body), text.substr(body));
}

std::string Terminal::read_secret(const std::string& prompt) const {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) throw UsageError("--askpass needs a terminal; use --password-file or REDISCLI_AUTH in scripts");
  int fd = fileno(tty);
  termios old{};
  bool restore = tcgetattr(fd, &old) == 0;
  if (restore) {
    termios noecho = old;
    noecho.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &noecho);
  }
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  std::string line;
  // Ctrl-C sets the interrupt flag; it may come before read() starts, so the flag is polled, not only EINTR.
  while (!interrupted()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) == 0 || (p.revents & POLLIN) == 0) {
      if (p.revents & (POLLHUP | POLLERR)) break;
      continue;
    }
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line += c;
  }
  if (restore) tcsetattr(fd, TCSAFLUSH, &old);
  std::fputs("\n", tty);
  std::fclose(tty);
  // What was typed before Ctrl-C is not a password: abort (exit 130) instead of sending it.
  check_interrupted();
  return line;
}

bool Terminal::confirm(const std::string& question) const {
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

namespace {

bool is_wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

}  // namespace

std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  bool in_escape = false;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\033') {
      in_escape = true;
      ++i;
      continue;
    }
    if (in_escape) {
      if (text[i] == 'm') in_escape = false;
      ++i;
      continue;
    }
    char32_t cp = 0;
    std::size_t len = utf8_decode(text, i, cp);
    if (len == 0) {
      width += 4;  // shown as \xNN
      ++i;
      continue;
    }
    if (!(cp >= 0x300 && cp <= 0x36F)) width += is_wide(cp) ? 2 : 1;
    i += len;
  }
  return width;
}

namespace {

// Characters that reorder or hide text on a terminal (the "Trojan Source" controls) and the line and
// paragraph separators: shown as \uXXXX so that what is printed is what is stored.
bool is_bidi_or_separator(char32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

// Length of the colour sequence at s[i] when it is one that Terminal::paint() writes ("\033[31m"), else 0.
// Only these pass a rendered table unescaped: none of them moves the cursor, hides text or sets a title.
std::size_t own_colour_length(const std::string& s, std::size_t i) {
  for (const char* code : {"0", "1", "2", "31", "32", "33", "36"}) {
    std::string seq = std::string("\033[") + code + "m";
    if (s.compare(i, seq.size(), seq) == 0) return seq.size();
  }
  return 0;
}

// The one escaper behind printable() and terminal_safe(): invalid UTF-8 bytes, C0/C1 controls, DEL and
// bidi controls become visible escapes.
std::string escape(std::string_view text, bool escape_backslash, bool keep_newlines, bool allow_own_colour = false) {
  std::string out;
  out.reserve(text.size());
  const std::string s(text);
  for (std::size_t i = 0; i < s.size();) {
    if (allow_own_colour && s[i] == '\033') {
      if (std::size_t len = own_colour_length(s, i)) {
        out.append(s, i, len);
        i += len;
        continue;
      }
    }
    char32_t cp = 0;
    std::size_t len = utf8_decode(s, i, cp);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (cp == '\\' && escape_backslash) {
      out += "\\\\";  // so that "\\n" in a shown id cannot be mistaken for an escaped newline
    } else if (cp == '\n') {
      out += keep_newlines ? "\n" : "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += keep_newlines ? "\t" : "\\t";
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
    } else if (is_bidi_or_separator(cp)) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  return out;
}

}  // namespace

std::string printable(const std::string& text) { return escape(text, true, false); }

std::string terminal_safe(std::string_view text, bool keep_newlines) { return escape(text, false, keep_newlines); }

std::string safe_rendering(std::string_view text) { return escape(text, false, true, true); }

}  // namespace sessionctl
