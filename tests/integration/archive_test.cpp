// export, import and verify against real servers: the round trip is exact for every profile and for
// awkward values (binary, unicode, whitespace, inf scores, no TTL, big keys in parts), from a cluster
// to a single server and back; damaged archives are refused naming the line with nothing restored;
// an export killed part way or out of disk leaves no file that looks complete.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "topology.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::check_error;
using testsupport::fixture;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// The records of an archive by key and part, expiry taken out (it may only shrink), with it apart.
struct Records {
  std::map<std::string, json> body;
  std::map<std::string, json> expiry;
};
Records records_of(const std::string& text) {
  Records r;
  const auto lines = lines_of(text);
  REQUIRE(lines.size() >= 2);
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    json j = json::parse(lines[i]);
    const std::string id = j.at("key").dump() + "#" + std::to_string(j.value("part", 0));
    r.expiry[id] = j.at("expire_at_ms");
    j.erase("expire_at_ms");
    r.body[id] = j;
  }
  return r;
}

// Sessions whose values are awkward: binary, unicode and whitespace in keys, a big history in parts,
// JSON hash fields, zset scores of every kind, keys without a TTL.
void seed_awkward(const std::function<void(const std::string&)>& run) {
  std::string s;
  s += "SET \"state:bin\\xff\\x01id\" \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 3600\n";
  s += "SET \"state:ünï cödé\" \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{\\\"name\\\":\\\"Zoë\\\"}}\" EX 3600\n";
  s += "SET \"state:with space\\ttab\" \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\"\n";
  s += "SET state:binval \"\\x00\\xff\\xfe{not json\" EX 3600\n";
  for (const char* id : {"big", "inf", "ninf"}) {
    const std::string sid = id;
    s += "HSET trt:session:" + sid + ":state current_stage intake stage_1_completion \"{\\\"goal_stated\\\":true}\"\n";
    s += "EXPIRE trt:session:" + sid + ":state 86400\n";
    s += "HSET trt:session:" + sid + ":meta created_via api\n";
  }
  for (int i = 0; i < 2500; i += 250) {
    s += "RPUSH trt:session:big:history";
    for (int k = i; k < i + 250; ++k) s += " \"{\\\"client_input\\\":\\\"item " + std::to_string(k) + "\\\"}\"";
    s += "\n";
  }
  s += "EXPIRE trt:session:big:history 86400\n";
  s += "ZADD trt:active_sessions 1.5 big +inf inf -inf ninf\n";
  run(s);
}

}  // namespace

TEST_CASE("export, FLUSHALL, import, export again gives the same records, and verify matches",
          "[archive][integration]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  seed_awkward([&](const std::string& s) { server.cli_script(s); });
  const std::string a = server.dir() + "/a.jsonl.zst", b = server.dir() + "/b.jsonl";
  REQUIRE(sctl(server, {"export", "--file", a}).exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(a.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  {
    const RunResult v = sctl(server, {"verify", a});
    INFO(v);
    CHECK(v.exit_code == 0);
  }
  server.cli({"FLUSHALL"});
  {
    const json dry = testsupport::sctl_json(server, {"import", a, "--dry-run"});
    CHECK(dry.at("restored").get<int>() >= 14);
    CHECK(server.cli({"DBSIZE"}) == "0\n");
  }
  const json restored = testsupport::sctl_json(server, {"import", a});
  CHECK(restored.at("failed") == 0);
  CHECK(restored.at("skipped") == 0);
  REQUIRE(sctl(server, {"export", "--file", b}).exit_code == 0);
  const Records ra = records_of(testsupport::run({"zstdcat", a}).out);
  const Records rb = records_of(slurp(b));
  CHECK(ra.body == rb.body);
  for (const auto& [id, exp] : ra.expiry) {
    INFO(id);
    REQUIRE(rb.expiry.count(id) == 1);
    if (exp.is_null()) {
      CHECK(rb.expiry.at(id).is_null());
    } else {
      CHECK(rb.expiry.at(id).get<long long>() <= exp.get<long long>());
    }
  }
  // The awkward ones made it: parts of the big history, scores, binary key.
  CHECK(server.cli({"LLEN", "trt:session:big:history"}) == "2500\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "inf"}) == "inf\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "ninf"}) == "-inf\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "big"}) == "1.5\n");
  CHECK(server.cli({"PTTL", "state:with space\ttab"}) == "-1\n");
  CHECK(server.cli({"PTTL", "trt:session:big:meta"}) == "-1\n");
  CHECK(server.cli({"EXISTS", "state:bin\xff\x01id"}) == "1\n");
  CHECK(server.cli({"GET", "session:chat:-1001234567890"}) == "1734567890123\n");
  CHECK(sctl(server, {"verify", b}).exit_code == 0);

  {
    INFO("a second import skips every session; replace puts them back; a changed store differs");
    const json again = testsupport::sctl_json(server, {"import", a});
    CHECK(again.at("restored") == 0);
    CHECK(again.at("skipped") == restored.at("restored"));
    server.cli({"SET", "state:test-456", "{\"current\":\"CHANGED\",\"data\":{}}", "KEEPTTL"});
    server.cli({"DEL", "state:test-session-123"});
    server.cli({"SET", "state:newcomer", "{\"current\":\"WELCOME\",\"data\":{}}", "EX", "60"});
    const RunResult v = sctl(server, {"verify", a, "-o", "json"});
    CHECK(v.exit_code == 1);
    const json doc = json::parse(v.out);
    CHECK(doc.at("differing").get<int>() >= 1);
    CHECK(doc.at("missing") == 1);
    CHECK(doc.at("extra") == 1);
    const json replaced = testsupport::sctl_json(server, {"import", a, "--on-conflict", "replace"});
    CHECK(replaced.at("restored") == restored.at("restored"));
    server.cli({"DEL", "state:newcomer"});
    CHECK(sctl(server, {"verify", a}).exit_code == 0);
    check_error(sctl(server, {"import", a, "--on-conflict", "fail"}), 1);
  }
  {
    INFO("a masked archive is marked, and refused by import unless asked");
    const std::string m = server.dir() + "/masked.jsonl.gz";
    REQUIRE(sctl(server, {"export", "--mask", "--file", m}).exit_code == 0);
    const std::string text = testsupport::run({"zcat", m}).out;
    CHECK_THAT(lines_of(text).at(0), Contains("\"masked\":true"));
    CHECK_THAT(text, !Contains("maria.silva@") && Contains("ma***@example.com"));
    check_error(sctl(server, {"import", m}), 2);
  }
}

TEST_CASE("import counts keys whose expiry has passed as expired, and restores none of them",
          "[archive][integration]") {
  RedisServer server;
  server.cli_script(
      "SET state:soon \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" PX 1200\n"
      "SET state:later \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 3600\n");
  const std::string a = server.dir() + "/a.jsonl";
  REQUIRE(sctl(server, {"export", "--file", a}).exit_code == 0);
  server.cli({"FLUSHALL"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const json r = testsupport::sctl_json(server, {"import", a});
  CHECK(r.at("restored") == 1);
  CHECK(r.at("expired") == 1);
  CHECK(server.cli({"EXISTS", "state:soon"}) == "0\n");
  CHECK(server.cli({"EXISTS", "state:later"}) == "1\n");
}

TEST_CASE("cluster: export from a 3-primary cluster, import into one server, and back",
          "[archive][cluster][integration]") {
  RedisCluster cluster;
  REQUIRE(cluster.nodes().at(0)->cli_run({"-c"}, std::nullopt, fixture("sample_sessions.redis")).exit_code == 0);
  std::vector<testsupport::CliCommand> load;
  for (int i = 0; i < 1500; ++i)
    load.push_back({"SET", "state:k" + std::to_string(i), R"({"current":"WELCOME","data":{}})", "EX", "3600"});
  cluster.load(load);
  RedisServer single;
  const std::string a = single.dir() + "/from-cluster.jsonl.gz", b = single.dir() + "/from-single.jsonl";
  const std::string url = cluster.seed_url();
  {
    const RunResult r = testsupport::sessionctl({"export", "--file", a, "-u", url}, {}, 60000);
    INFO(r);
    REQUIRE(r.exit_code == 0);
  }
  CHECK_THAT(lines_of(testsupport::run({"zcat", a}).out).at(0), Contains("\"cluster\":true"));
  const json in = testsupport::sctl_json(single, {"import", a});
  CHECK(in.at("restored").get<int>() == 1509);
  CHECK(sctl(single, {"verify", a}).exit_code == 0);
  REQUIRE(sctl(single, {"export", "--file", b}).exit_code == 0);
  for (testsupport::RedisServer* p : cluster.primaries()) p->cli({"FLUSHALL"});
  {
    const RunResult r = testsupport::sessionctl({"import", b, "-u", url, "-o", "json"}, {}, 60000);
    INFO(r);
    REQUIRE(r.exit_code == 0);
    const json doc = json::parse(r.out);
    CHECK(doc.at("restored") == 1509);
    CHECK(doc.at("not_atomic").get<int>() >= 1);  // trt's keys sit in several slots
  }
  RedisServer* owner = cluster.owner_of_slot(cluster.slot_of("trt:session:user_12345:history"));
  CHECK(owner->cli({"LLEN", "trt:session:user_12345:history"}) == "2\n");
  const RunResult v = testsupport::sessionctl({"verify", b, "-u", url});
  INFO(v);
  CHECK(v.exit_code == 0);
}

TEST_CASE("damaged archives are refused naming the line, and nothing is restored", "[archive][integration][faults]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  const std::string dir = server.dir();
  const std::string good = dir + "/good.jsonl";
  REQUIRE(sctl(server, {"export", "--file", good}).exit_code == 0);
  const std::string text = slurp(good);
  const auto lines = lines_of(text);
  server.cli({"FLUSHALL"});

  auto refused = [&](const std::string& name, const std::string& content, const std::string& says) {
    INFO(name);
    const std::string path = dir + "/" + name;
    spit(path, content);
    const RunResult r = sctl(server, {"import", path});
    check_error(r, 2);
    CHECK_THAT(r.err, Contains(says));
    CHECK(server.cli({"DBSIZE"}) == "0\n");
    CHECK(sctl(server, {"verify", path}).exit_code == 2);
  };
  std::string cut;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) cut += lines[i] + "\n";
  refused("truncated.jsonl", cut, "incomplete");
  refused("cut-mid-line.jsonl", text.substr(0, text.size() / 2), "line");
  std::string flipped = text;
  flipped[lines[0].size() + 40] ^= 0x01;
  refused("flipped.jsonl", flipped, "line");
  std::string newer = text;
  newer.replace(newer.find("\"version\":1"), 11, "\"version\":9");
  refused("newer.jsonl", newer, "line 1: archive version 9");
  std::string edited = text;
  edited.replace(edited.find("\"type\":\"string\""), 15, "\"type\":\"stream\"");
  refused("edited.jsonl", edited, "line");
  refused("empty.jsonl", "", "empty");
  refused("notes.txt", "these are my notes\n", "not a sessionctl archive");
  {
    const std::string gz = dir + "/good.jsonl.gz";
    REQUIRE(sctl(server, {"export", "--file", gz}).exit_code == 0);
    std::string bytes = slurp(gz);
    bytes[bytes.size() / 2] ^= 0x55;
    refused("corrupt.jsonl.gz", bytes, "line");
  }
  {
    INFO("--partial restores what a cut archive holds");
    const std::string path = dir + "/truncated.jsonl";
    const json r = testsupport::sctl_json(server, {"import", path, "--partial"});
    CHECK(r.at("complete") == false);
    CHECK(r.at("restored").get<int>() >= 8);
  }
}

TEST_CASE("export: redis-server killed part way, or a full disk, leaves no archive that looks complete",
          "[archive][integration][faults]") {
  RedisServer server;
  std::string load;
  for (int i = 0; i < 150000; ++i)
    load += "SET state:k" + std::to_string(i) + " \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 3600\n";
  server.cli_script(load);
  const std::string dir = server.dir();
  {
    INFO("a file-size limit (as a full disk): a clear error and no file");
    const std::string path = dir + "/limited.jsonl";
    const RunResult r = testsupport::run({"bash", "-c", "ulimit -f 100; exec \"$0\" \"$@\"",
                                          testsupport::sessionctl_bin(), "-u", server.url(), "export", "--file", path});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("limited.jsonl") && Contains("too large"));
    CHECK_FALSE(exists(path));
    const RunResult ls = testsupport::run({"bash", "-c", "ls -a \"$0\" | grep -c tmp || true", dir});
    CHECK(ls.out == "0\n");
  }
  {
    INFO("the server killed mid-export");
    const std::string path = dir + "/killed.jsonl";
    RunResult r;
    std::thread t([&] { r = sctl(server, {"export", "--file", path}); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.stop(true);
    t.join();
    INFO(r);
    CHECK(r.exit_code != 0);
    CHECK_FALSE(exists(path));
  }
}

TEST_CASE("backup FILE (--backup): delete, mask --in-place and cleanup write what they change first, or change nothing",
          "[archive][write][integration]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  const std::string dir = server.dir();
  const std::string before = server.cli({"GET", "state:test-456"});
  {
    INFO("a backup that cannot be written: nothing is deleted");
    const RunResult r =
        sctl(server, {"delete", "--profile", "btrix", "--yes", "--backup", dir + "/no/such/dir/b.jsonl"});
    check_error(r, 2);
    CHECK(server.cli({"EXISTS", "state:test-456"}) == "1\n");
    CHECK(server.cli({"EXISTS", "state:test-session-123"}) == "1\n");
  }
  const std::string deleted = dir + "/deleted.jsonl.zst";
  {
    const RunResult r = sctl(server, {"delete", "--profile", "btrix", "--yes", "--backup", deleted});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Contains("backup: 3 sessions"));
    CHECK(server.cli({"EXISTS", "state:test-456"}) == "0\n");
    check_error(sctl(server, {"delete", "--profile", "trt", "--yes", "--backup", deleted}), 2);  // exists
    CHECK(server.cli({"EXISTS", "trt:session:user_12345:state"}) == "1\n");
  }
  const json back = testsupport::sctl_json(server, {"import", deleted});
  CHECK(back.at("restored") == 3);
  CHECK(server.cli({"GET", "state:test-456"}) == before);
  {
    const std::string masked = dir + "/before-mask.jsonl";
    REQUIRE(sctl(server, {"mask", "--in-place", "--profile", "btrix", "--yes", "--backup", masked}).exit_code == 0);
    CHECK(server.cli({"GET", "state:test-456"}) != before);
    REQUIRE(testsupport::sctl_json(server, {"import", masked, "--on-conflict", "replace"}).at("restored") == 3);
    CHECK(server.cli({"GET", "state:test-456"}) == before);
  }
  {
    server.cli({"DEL", "trt:session:user_12345:state"});
    const std::string orphans = dir + "/orphans.jsonl";
    REQUIRE(sctl(server, {"cleanup", "--yes", "--backup", orphans}).exit_code == 0);
    CHECK(server.cli({"EXISTS", "trt:session:user_12345:history"}) == "0\n");
    CHECK_THAT(slurp(orphans), Contains("trt:session:user_12345:history"));
  }
}

TEST_CASE(
    "import: killed part way, the summary says what was restored and --on-conflict skip finishes, and at "
    "maxmemory it stops cleanly",
    "[archive][integration][faults]") {
  testsupport::ServerOptions options;
  options.config = {{"appendonly", "yes"}, {"appendfsync", "always"}};
  RedisServer server(options);
  constexpr int n = 40000;
  std::string load;
  for (int i = 0; i < n; ++i)
    load += "SET state:k" + std::to_string(i) + " \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 3600\n";
  server.cli_script(load);
  const std::string a = server.dir() + "/a.jsonl";
  REQUIRE(sctl(server, {"export", "--file", a}).exit_code == 0);
  server.cli({"FLUSHALL"});

  RunResult first;
  std::thread runner([&] { first = sctl(server, {"import", a, "-o", "json"}); });
  bool killed = false;
  for (int i = 0; i < 4000 && !killed; ++i) {
    const RunResult size = server.cli_run({"DBSIZE"});
    if (size.exit_code == 0 && std::stoll(size.out) > 2000) {
      server.stop(true);
      killed = true;
    }
  }
  runner.join();
  REQUIRE(killed);
  INFO(first);
  CHECK(first.exit_code == 3);
  const json partial = json::parse(first.out, nullptr, false);
  REQUIRE_FALSE(partial.is_discarded());
  CHECK(partial.at("restored").get<int>() > 0);
  CHECK_THAT(first.err, Contains("--on-conflict skip"));

  server.start();
  const json again = testsupport::sctl_json(server, {"import", a});
  CHECK(again.at("restored").get<long long>() + again.at("skipped").get<long long>() == n);
  CHECK(server.cli({"DBSIZE"}) == std::to_string(n) + "\n");
  CHECK(sctl(server, {"verify", a}).exit_code == 0);

  {
    INFO("a target at maxmemory under noeviction: a clear error, exit 1, and what was restored");
    server.cli({"FLUSHALL"});
    server.cli({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    const long long used = std::stoll(
        server.cli({"EVAL", "return tonumber(string.match(redis.call('INFO','memory'), 'used_memory:(%d+)'))", "0"}));
    server.cli({"CONFIG", "SET", "maxmemory", std::to_string(used + 1500000)});
    const RunResult r = sctl(server, {"import", a, "-o", "json"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("OOM") || Contains("maxmemory"));
    const json doc = json::parse(r.out, nullptr, false);
    REQUIRE_FALSE(doc.is_discarded());
    CHECK(doc.at("restored").get<long long>() > 0);
    CHECK(doc.at("restored").get<long long>() < n);
    server.cli({"CONFIG", "SET", "maxmemory", "0"});
  }
}
