#include "scrub.h"

namespace sessionctl::cli {

bool is_secret_flag(const std::string& name) {
  // Flags that carry a password in redis-cli and friends; sessionctl never takes one on argv.
  for (const char* f : {"-a", "--pass", "--password", "--auth", "--requirepass", "--secret"}) {
    if (name == f) return true;
  }
  return false;
}

// CLI11 echoes unexpected arguments: a URL given without -u, or a password typed after a redis-cli
// style flag (-a PASSWORD), must never reach stderr (and the CI logs it ends up in).
std::string scrub_secrets(std::string message, int argc, char** argv) {
  auto replace_all = [&message](const std::string& secret, const std::string& with) {
    if (secret.empty()) return;
    for (auto pos = message.find(secret); pos != std::string::npos; pos = message.find(secret, pos + with.size())) {
      message.replace(pos, secret.size(), with);
    }
  };
  bool secret_flag = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (auto sep = arg.find("://"); sep != std::string::npos) {
      if (auto at = arg.rfind('@'); at != std::string::npos && at > sep) {
        std::string userinfo = arg.substr(sep + 3, at - sep - 3);
        auto colon = userinfo.find(':');
        replace_all(arg, arg.substr(0, sep + 3) +
                             (colon == std::string::npos ? "***" : userinfo.substr(0, colon) + ":***") +
                             arg.substr(at));
      }
    }
    const auto eq = arg.find('=');
    if (is_secret_flag(arg.substr(0, eq))) {
      secret_flag = true;
      if (eq != std::string::npos) {
        replace_all(arg.substr(eq + 1), "***");
      } else if (i + 1 < argc) {
        replace_all(argv[i + 1], "***");
      }
    }
  }
  if (secret_flag) {
    message +=
        " (passwords are never read from the command line: use the URL, --password-file, --askpass, "
        "REDISCLI_AUTH or REDIS_PASSWORD)";
  }
  return message;
}

}  // namespace sessionctl::cli
