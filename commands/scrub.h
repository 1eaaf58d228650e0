// Keeping passwords typed on the command line out of error messages.
#pragma once

#include <string>

namespace sessionctl::cli {

// True for the flags that carry a password in redis-cli and friends (-a, --password, --auth, …);
// sessionctl takes none of them, so their values are secrets typed by habit.
bool is_secret_flag(const std::string& name);

// `message` with every password from argv[1..argc) replaced by "***": the password of any URL's
// userinfo (the user name stays) and the value of a secret flag (-a PW, --password=PW). When a
// secret flag was given, a sentence on where passwords come from is appended.
std::string scrub_secrets(std::string message, int argc, char** argv);

}  // namespace sessionctl::cli
