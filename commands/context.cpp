#include "context.h"

#include "redis/options.h"

namespace sessionctl::cli {

const ResolvedConnection& Context::resolved() const {
  if (!resolved_cache) {
    resolved_cache = resolve_connection(global, process_env(),
                                        [this](const std::string& prompt) { return term.read_secret(prompt); });
  }
  return *resolved_cache;
}

std::unique_ptr<redis::Client> Context::connect() const {
  const ResolvedConnection& rc = resolved();
  if (rc.options.scheme == redis::Scheme::tls && rc.options.tls.insecure) {
    // Not silenced by --quiet: an unverified connection is a risk the operator must always see.
    term.printer().line(
        "sessionctl: warning: --insecure: TLS certificate and host name are NOT verified; "
        "anyone on the path can read this session data");
  }
  return redis::connect(rc.options);
}

std::unique_ptr<redis::Client> Context::connect_no_touch(redis::NoTouch* no_touch) const {
  auto client = connect();
  redis::NoTouch state = client->enable_no_touch();
  if (no_touch) *no_touch = state;
  return client;
}

ProfileSet Context::profiles() const {
  ProfileSet set = ProfileSet::builtin();
  if (!global.profiles_file.empty()) set.merge(ProfileSet::load_file(global.profiles_file));
  return set.select(global.profiles);
}

void Context::warn(const std::string& message) const {
  if (!global.quiet) term.printer().line("sessionctl: warning: " + message);
}

void Context::note(const std::string& message) const {
  if (!global.quiet) term.printer().line("sessionctl: " + message);
}

}  // namespace sessionctl::cli
