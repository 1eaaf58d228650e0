// JUnit XML as CI systems read it (GitLab, Jenkins, GitHub's test reporters): the Ant format, the
// strictest of them, which tests/junit.xsd describes and the tests validate against with xmllint.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sessionctl {

struct JunitCase {
  enum class Outcome { passed, failed, errored, skipped };
  std::string name;
  std::string classname;
  double seconds = 0;
  Outcome outcome = Outcome::passed;
  std::string message;  // one line: the failure's, error's or skip's reason
  std::string type;     // the failure's kind ("ttl_reset", "write_refused")
  std::string detail;   // the failure's body: evidence, one item a line
};

struct JunitSuite {
  std::string name;
  std::string package;
  double timestamp = 0;  // unix seconds of the start
  std::string hostname;  // the machine that ran the checks
  double seconds = 0;
  std::vector<std::pair<std::string, std::string>> properties;  // target URL (redacted), server version…
  std::vector<JunitCase> cases;
  std::string system_out;  // a summary line or two
};

// The whole document (<testsuites> with one <testsuite> each). The Ant timestamp has no zone: it is
// written in UTC. Text that XML 1.0 cannot hold (control characters, invalid UTF-8) is replaced by U+FFFD.
std::string junit_xml(const std::vector<JunitSuite>& suites);

}  // namespace sessionctl
