// Helpers the integration tests share: the test password, fixtures, running sessionctl (against a
// test server or not), and quoting for redis-cli scripts. Header-only: they use Catch2's assertions.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"

#ifndef SESSIONCTL_SOURCE_DIR
#error "SESSIONCTL_SOURCE_DIR must be defined to the source tree"
#endif

namespace testsupport {

// The password the tests give servers and users: it must appear nowhere in what sessionctl prints.
inline const std::string kSecret = "s3cr3t-Pa55";

// Checks that `secret` is neither on stdout nor on stderr.
inline void check_no_secret(const RunResult& r, const std::string& secret = kSecret) {
  INFO(r);
  CHECK(r.out.find(secret) == std::string::npos);
  CHECK(r.err.find(secret) == std::string::npos);
}

// The contract for every failure: the exit code, exactly one "sessionctl: error:" line on stderr,
// nothing on stdout, no timeout or signal, and the password nowhere.
inline void check_error(const RunResult& r, int exit_code, const std::string& secret = kSecret) {
  INFO(r);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == exit_code);
  CHECK_THAT(r.err, Catch::Matchers::StartsWith("sessionctl: error: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK((!r.err.empty() && r.err.back() == '\n'));
  CHECK(r.out.empty());
  check_no_secret(r, secret);
}

// What tests/fixtures/sample_sessions.redis holds: sessions per profile (SPEC section 1).
inline const std::map<std::string, long long> kSampleSessionCounts = {
    {"btrix", 3}, {"openvaa", 2}, {"channels", 2}, {"telegram", 1}, {"trt", 1}};

// Sessions per profile in a sessionctl.status JSON document, for the profiles that have any.
inline std::map<std::string, long long> status_counts(const nlohmann::json& doc) {
  std::map<std::string, long long> out;
  // Profiles with no session are left out: the fixtures hold none of the framework stores.
  for (const auto& p : doc.at("profiles")) {
    const long long n = p.at("sessions").get<long long>();
    if (n > 0) out[p.at("profile").get<std::string>()] = n;
  }
  return out;
}

inline std::string fixture_path(const std::string& name) {
  return std::string(SESSIONCTL_SOURCE_DIR) + "/tests/fixtures/" + name;
}

// The text of tests/fixtures/<name>.
inline std::string fixture(const std::string& name) { return read_file(fixture_path(name)); }

// Runs the binary under test with exactly `args` (no -u added), no stdin, and a 20 s timeout.
inline RunResult sessionctl(const std::vector<std::string>& args, const EnvOverrides& env = {},
                            int timeout_ms = 20000) {
  return run_sessionctl(args, env, "", timeout_ms);
}

// Runs sessionctl with -u <server> in front of args.
inline RunResult sctl(const RedisServer& server, std::vector<std::string> args, int timeout_ms = 60000) {
  args.insert(args.begin(), {"-u", server.url()});
  return run_sessionctl(args, {}, "", timeout_ms);
}

// Runs sessionctl with -u <server as userinfo> ("user:password") in front of args.
inline RunResult sctl_as(const RedisServer& server, const std::string& userinfo, std::vector<std::string> args,
                         int timeout_ms = 60000) {
  args.insert(args.begin(), {"-u", server.url(userinfo)});
  return run_sessionctl(args, {}, "", timeout_ms);
}

// Runs sessionctl with -o json and parses its stdout as one JSON document; fails the test with the
// output when the exit code is not expect_exit or stdout is not JSON.
inline nlohmann::json sctl_json(const RedisServer& server, std::vector<std::string> args, int expect_exit = 0) {
  args.push_back("-o");
  args.push_back("json");
  RunResult r = sctl(server, args);
  INFO(r);
  REQUIRE(r.exit_code == expect_exit);
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

// A redis-cli argument: double-quoted, with the escapes redis-cli understands.
inline std::string cli_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace testsupport
