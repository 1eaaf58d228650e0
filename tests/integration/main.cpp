// Catch2's main for the integration tests. These tests drive real redis-server, redis-cli and openssl
// processes and the real sessionctl binary; when any of those is missing the run fails loudly
// instead of letting tests pass (or skip) silently.
#define CATCH_CONFIG_RUNNER
#include <unistd.h>

#include <catch2/catch.hpp>
#include <iostream>
#include <string>

#include "measure.h"
#include "process.h"

#ifndef SESSIONCTL_DOCGEN_BIN
#error "SESSIONCTL_DOCGEN_BIN must be defined to the path of sessionctl-docgen"
#endif

namespace {

// The name of the first missing prerequisite, or "" when everything is there.
std::string missing_prerequisite() {
  for (const char* tool : {"redis-server", "redis-cli", "openssl"}) {
    if (!testsupport::find_in_path(tool)) return std::string("'") + tool + "' not found in PATH";
  }
  for (const std::string& binary : {testsupport::sessionctl_bin(), std::string(SESSIONCTL_DOCGEN_BIN)}) {
    if (::access(binary.c_str(), X_OK) != 0) return "binary under test missing or not executable: " + binary;
  }
  return "";
}

}  // namespace

int main(int argc, char* argv[]) {
  // A helper run of this binary that starts sessionctl and reports its peak memory (measure.h).
  if (argc > 1 && std::string(argv[1]) == "--measure-rss") return testsupport::measure_child_main(argc, argv);
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const auto& config = session.configData();
  const bool runs_tests =
      !(config.showHelp || config.listTests || config.listTestNamesOnly || config.listTags || config.listReporters);
  if (runs_tests) {
    if (const std::string missing = missing_prerequisite(); !missing.empty()) {
      std::cerr << "integration_tests: cannot run: " << missing << "\n";
      return 1;
    }
  }
  return session.run();
}
