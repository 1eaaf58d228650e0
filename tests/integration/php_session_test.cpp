// The PHP session codec against the real PHP: sessions written by session_encode() with each
// handler (php, php_serialize, php_binary) parse, show the values PHP put in and write back byte for byte; strings
// changed here (to bytes that contain `";`, '|', NUL and UTF-8) are read back by PHP's session_decode() and
// unserialize() with the new values and everything else as it was. php-cli is in the CI's
// package list (scripts/setup-and-test.sh), so a missing php fails these tests.
#include "codec/php_session.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "process.h"
#include "temp_dir.h"

namespace {

using sessionctl::PhpHandler;
using namespace std::string_literals;

// The data both scripts build: every kind a session can hold, references and an object seen twice.
// REPLACEMENT is what three strings are changed to; expected() is data() after that change.
const char* const kPrelude = R"php(<?php
const REPLACEMENT = "ma\"sk;|ed\0\u{e9}\u{1F600}";
class Account { public $name = "alice"; protected $role = "admin"; private $secret = "s3cr\";t"; }
class Legacy implements Serializable {
  public $v = "x";
  public function serialize() { return "v=" . $this->v; }
  public function unserialize($s) { $this->v = substr($s, 2); }
}
enum Suit: string { case Hearts = "H"; }
function data() {
  $shared = ["k" => 1];
  $account = new Account;
  $d = [
    "user" => "alice", "quote" => "a\";b|c\0d}", "utf8" => "h\u{e9}\u{20ac}\u{1F600}", "bin" => "\xff\xfe",
    "n" => null, "t" => true, "f" => false, "min" => PHP_INT_MIN, "max" => PHP_INT_MAX,
    "float" => 0.1, "negzero" => -0.0, "inf" => INF, "ninf" => -INF, "nan" => NAN, "tiny" => 5e-324,
    "cart" => ["items" => [["name" => "pen", "qty" => 2], ["name" => "ink", "qty" => 1]], 7 => "seven", -3 => "neg"],
    "account" => $account, "again" => $account, "std" => (object)["a" => 1], "suit" => Suit::Hearts,
    "empty" => [],
  ];
  $d["r1"] = &$shared;
  $d["r2"] = &$shared;
  return $d;
}
function expected() {
  $d = data();
  $d["user"] = REPLACEMENT;
  $d["cart"]["items"][1]["name"] = REPLACEMENT;
  (fn() => $this->secret = REPLACEMENT)->call($d["account"]);
  return $d;
}
function start($handler, $dir) {
  ini_set("session.serialize_handler", $handler);
  ini_set("session.save_handler", "files");
  ini_set("session.save_path", $dir);
  ini_set("session.use_cookies", "0");
  ini_set("session.cache_limiter", "");
  if (!session_start()) exit(3);
}
)php";

// argv: handler dir. Prints session_encode() of data().
const char* const kEncode = R"php(
start($argv[1], $argv[2]);
$_SESSION = data();
echo session_encode();
)php";

// argv: handler dir; stdin: the changed session. Prints "same" when PHP reads it as expected().
const char* const kCheck = R"php(
$in = stream_get_contents(STDIN);
start($argv[1], $argv[2]);
if (!session_decode($in)) { echo "session_decode failed"; exit(1); }
$want = serialize(expected());
if (serialize($_SESSION) !== $want) { echo "session_decode differs:\n", serialize($_SESSION), "\n", $want; exit(1); }
if ($argv[1] === "php_serialize" && serialize(unserialize($in)) !== $want) { echo "unserialize differs"; exit(1); }
echo "same";
)php";

const std::string kNew = "ma\"sk;|ed\0\xc3\xa9\xf0\x9f\x98\x80"s;

struct Php {
  testsupport::TempDir dir{"sessionctl-php-"};
  std::string encode_script = dir.write("encode.php", std::string(kPrelude) + kEncode);
  std::string check_script = dir.write("check.php", std::string(kPrelude) + kCheck);

  testsupport::RunResult run(const std::string& script, const std::string& handler, const std::string& input = "") {
    return testsupport::run({"php", "-d", "display_errors=stderr", "-d", "error_reporting=E_ALL & ~E_DEPRECATED",
                             script, handler, dir.path()},
                            {}, input, 30000);
  }
};

void round_trip(PhpHandler handler, const std::string& name) {
  INFO("php-cli is required (scripts/setup-and-test.sh installs it): apt-get install php-cli");
  REQUIRE(testsupport::find_in_path("php"));
  Php php;
  const testsupport::RunResult encoded = php.run(php.encode_script, name);
  INFO(encoded);
  REQUIRE(encoded.exit_code == 0);
  CHECK(encoded.err.empty());
  const std::string& bytes = encoded.out;

  CHECK(sessionctl::detect_php_handler(bytes) == handler);
  sessionctl::PhpParseError error;
  auto session = sessionctl::parse_php_session(bytes, handler, &error);
  INFO("refused at " << error.offset << ": " << error.reason);
  REQUIRE(session);
  CHECK(sessionctl::serialize(*session) == bytes);

  nlohmann::json j = sessionctl::to_json(*session);
  CHECK(j["user"] == "alice");
  CHECK(j["quote"] == "a\";b|c\0d}"s);
  CHECK(j["utf8"] == "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(j["bin"] == nlohmann::json{{"__bytes_base64", "//4="}});
  CHECK(j["min"] == INT64_MIN);
  CHECK(j["float"] == 0.1);
  CHECK(j["tiny"] == 5e-324);
  CHECK(j["inf"] == "INF");
  CHECK(j["nan"] == "NAN");
  CHECK(j["cart"]["items"][1]["name"] == "ink");
  CHECK(j["cart"]["-3"] == "neg");
  CHECK(j["account"] ==
        nlohmann::json{{"__class", "Account"}, {"name", "alice"}, {"role", "admin"}, {"secret", "s3cr\";t"}});
  CHECK(j["again"].contains("__r"));
  CHECK(j["std"] == nlohmann::json{{"__class", "stdClass"}, {"a", 1}});
  CHECK(j["suit"] == nlohmann::json{{"__enum", "Suit:Hearts"}});
  CHECK(j["r1"] == nlohmann::json{{"k", 1}});
  CHECK(j["r2"].contains("__R"));
  CHECK_NOTHROW(j.dump());

  int changed = 0;
  sessionctl::for_each_string(*session, [&](const std::string& path, std::string& value) {
    if (path == "user" || path == "cart.items.1.name" || path == "account.secret") {
      value = kNew;
      ++changed;
    }
  });
  REQUIRE(changed == 3);
  const std::string rewritten = sessionctl::serialize(*session);
  CHECK(rewritten.size() == bytes.size() + 3 * kNew.size() - 5 - 3 - 7 + 3 * 1);  // one more length digit each
  const testsupport::RunResult checked = php.run(php.check_script, name, rewritten);
  INFO(checked);
  CHECK(checked.exit_code == 0);
  CHECK(checked.out == "same");
}

}  // namespace

TEST_CASE("php sessions from session_encode with the php handler round-trip through PHP", "[php_session]") {
  round_trip(PhpHandler::php, "php");
}

TEST_CASE("php sessions from session_encode with the php_serialize handler round-trip through PHP", "[php_session]") {
  round_trip(PhpHandler::php_serialize, "php_serialize");
}

TEST_CASE("php sessions from session_encode with the php_binary handler round-trip through PHP", "[php_session]") {
  round_trip(PhpHandler::php_binary, "php_binary");
}

TEST_CASE("php custom-serialized objects round-trip through PHP unserialize", "[php_session]") {
  INFO("php-cli is required (scripts/setup-and-test.sh installs it): apt-get install php-cli");
  REQUIRE(testsupport::find_in_path("php"));
  testsupport::TempDir dir("sessionctl-php-");
  const std::string script = dir.write("legacy.php", std::string(kPrelude) + R"php(
if ($argv[1] === "encode") { $l = new Legacy; $l->v = "old"; echo serialize(["legacy" => $l, "s" => "old"]); exit; }
$got = unserialize(stream_get_contents(STDIN));
echo $got["legacy"]->v, "|", $got["s"];
)php");
  auto php = [&](const std::string& mode, const std::string& input) {
    return testsupport::run(
        {"php", "-d", "display_errors=stderr", "-d", "error_reporting=E_ALL & ~E_DEPRECATED", script, mode}, {}, input,
        30000);
  };
  const testsupport::RunResult encoded = php("encode", "");
  INFO(encoded);
  REQUIRE(encoded.exit_code == 0);
  auto session = sessionctl::parse_php_session(encoded.out, PhpHandler::php_serialize);
  REQUIRE(session);
  CHECK(sessionctl::to_json(*session)["legacy"] == nlohmann::json{{"__class", "Legacy"}, {"__custom", "v=old"}});
  CHECK(sessionctl::serialize(*session) == encoded.out);
  sessionctl::for_each_string(*session, [](const std::string&, std::string& value) { value = "new;\"}"; });
  const testsupport::RunResult decoded = php("decode", sessionctl::serialize(*session));
  INFO(decoded);
  CHECK(decoded.exit_code == 0);
  CHECK(decoded.out == "old|new;\"}");
}
