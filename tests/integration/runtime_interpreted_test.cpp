// Real Python, Ruby, PHP and Perl programs under the real crashwrap binary,
// delivering to a loopback receiver: the event that arrives carries the
// exception chain, frames and level the runtime's own output described, and
// the child's output and exit status pass through unchanged. A runtime that
// is not installed skips its cases with a message.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;
using nlohmann::json;

namespace {

std::optional<std::string> find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// crashwrap (private spool, loopback DSN) running `interpreter args… file`.
struct Run {
  RunResult result;
  std::vector<json> events;
};

Run run_script(const TempDir& dir, Receiver& rx, const std::string& file_name, const std::string& source,
               std::vector<std::string> command, std::vector<std::pair<std::string, std::string>> env = {}) {
  const std::string file = dir.file(file_name);
  REQUIRE(write_file(file, source));
  ProcessOptions o;
  o.argv = {crashwrap_bin(), "--spool", dir.file("spool"), "--dsn", rx.dsn(), "--"};
  o.argv.insert(o.argv.end(), command.begin(), command.end());
  o.argv.push_back(file);
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL", "PYTHONFAULTHANDLER", "PYTHONWARNINGS",
                 "RUBYOPT", "PERL5OPT", "http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  o.env_set = std::move(env);
  o.cwd = dir.path();
  Run r;
  r.result = run(o, std::chrono::seconds(60));
  for (const auto& e : rx.envelopes())
    if (e.item("event") != nullptr) r.events.push_back(e.event());
  return r;
}

const json& values(const json& event) { return event["exception"]["values"]; }
const json& top_frame(const json& exception) { return exception["stacktrace"]["frames"].back(); }

#define REQUIRE_RUNTIME(var, name)                                    \
  auto var = find_program(name);                                      \
  if (!var) {                                                         \
    WARN("skipped: " name " is not installed");                       \
    return;                                                           \
  }

}  // namespace

TEST_CASE("python: an uncaught chained exception is one fatal event", "[runtime][python][integration]") {
  REQUIRE_RUNTIME(python, "python3");
  TempDir dir;
  Receiver rx;
  const char* source =
      "def lookup(d, k):\n"
      "    return d[k]\n"
      "\n"
      "def main():\n"
      "    try:\n"
      "        lookup({}, 'bob')\n"
      "    except KeyError as e:\n"
      "        raise RuntimeError('user bob is unknown') from e\n"
      "\n"
      "print('starting', flush=True)\n"
      "main()\n";
  Run r = run_script(dir, rx, "app.py", source, {*python});
  CHECK(r.result.exit_code() == 1);
  CHECK(r.result.out == "starting\n");
  CHECK(r.result.err.find("Traceback (most recent call last):\n") == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "python");
  REQUIRE(values(e).size() == 2);
  CHECK(values(e)[0]["type"] == "KeyError");
  CHECK(values(e)[0]["value"] == "'bob'");
  CHECK(values(e)[1]["type"] == "RuntimeError");
  CHECK(values(e)[1]["value"] == "user bob is unknown");
  CHECK(values(e)[1]["mechanism"]["handled"] == false);
  REQUIRE(values(e)[1]["stacktrace"]["frames"].size() == 2);
  CHECK(top_frame(values(e)[1])["function"] == "main");
  CHECK(top_frame(values(e)[1])["lineno"] == 8);
  CHECK(top_frame(values(e)[1])["abs_path"] == dir.file("app.py"));
  CHECK(top_frame(values(e)[1])["in_app"] == true);
  CHECK(top_frame(values(e)[0])["function"] == "lookup");
}

TEST_CASE("python: a logged exception in a program that goes on is a handled error", "[runtime][python][integration]") {
  REQUIRE_RUNTIME(python, "python3");
  TempDir dir;
  Receiver rx;
  const char* source =
      "import logging\n"
      "logging.basicConfig(format='%(levelname)s %(message)s')\n"
      "try:\n"
      "    int('x')\n"
      "except ValueError:\n"
      "    logging.exception('parse failed')\n"
      "print('still running', flush=True)\n";
  Run r = run_script(dir, rx, "app.py", source, {*python});
  CHECK(r.result.exit_code() == 0);
  CHECK(r.result.out == "still running\n");
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0]["level"] == "error");
  REQUIRE(values(r.events[0]).size() == 1);
  CHECK(values(r.events[0])[0]["type"] == "ValueError");
  CHECK(values(r.events[0])[0]["mechanism"]["handled"] == true);
}

TEST_CASE("python: a faulthandler dump and SIGSEGV are one event typed by the signal", "[runtime][python][integration]") {
  REQUIRE_RUNTIME(python, "python3");
  TempDir dir;
  Receiver rx;
  const char* source =
      "import ctypes\n"
      "def read(addr):\n"
      "    return ctypes.string_at(addr)\n"
      "read(0)\n";
  Run r = run_script(dir, rx, "app.py", source, {*python, "-X", "faulthandler"});
  CHECK(r.result.term_signal() == SIGSEGV);
  CHECK(r.result.err.find("Fatal Python error: Segmentation fault") != std::string::npos);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0]["level"] == "fatal");
  REQUIRE(values(r.events[0]).size() == 1);
  CHECK(values(r.events[0])[0]["type"] == "SIGSEGV");
  CHECK(top_frame(values(r.events[0])[0])["function"] == "string_at");
  CHECK(values(r.events[0])[0]["stacktrace"]["frames"].size() >= 3);
}

TEST_CASE("python: an exception group keeps its members, ids and parents", "[runtime][python][integration]") {
  REQUIRE_RUNTIME(python, "python3");
  TempDir dir;
  Receiver rx;
  const char* source =
      "import sys\n"
      "if sys.version_info < (3, 11):\n"
      "    print('no groups'); sys.exit(0)\n"
      "def check(v):\n"
      "    raise ValueError(f'bad {v}')\n"
      "errors = []\n"
      "for v in (1, 2):\n"
      "    try:\n"
      "        check(v)\n"
      "    except ValueError as e:\n"
      "        errors.append(e)\n"
      "raise ExceptionGroup('validation failed', errors)\n";
  Run r = run_script(dir, rx, "app.py", source, {*python});
  if (r.result.out == "no groups\n") {
    WARN("skipped: python3 is older than 3.11");
    return;
  }
  CHECK(r.result.exit_code() == 1);
  REQUIRE(r.events.size() == 1);
  const json& v = values(r.events[0]);
  REQUIRE(v.size() == 3);
  CHECK(v[0]["value"] == "bad 1");
  CHECK(v[1]["value"] == "bad 2");
  CHECK(v[2]["type"] == "ExceptionGroup");
  CHECK(v[2]["mechanism"]["is_exception_group"] == true);
  CHECK(v[2]["mechanism"]["exception_id"] == 0);
  CHECK(v[0]["mechanism"]["parent_id"] == 0);
  CHECK(v[0]["mechanism"]["source"] == "exceptions[0]");
  CHECK(v[1]["mechanism"]["parent_id"] == 0);
  CHECK(v[1]["mechanism"]["source"] == "exceptions[1]");
  CHECK(v[0]["mechanism"]["exception_id"] != v[1]["mechanism"]["exception_id"]);
  CHECK(top_frame(v[0])["function"] == "check");
  CHECK(top_frame(v[2])["lineno"] == 12);
}

TEST_CASE("ruby: an exception with its cause", "[runtime][ruby][integration]") {
  REQUIRE_RUNTIME(ruby, "ruby");
  TempDir dir;
  Receiver rx;
  const char* source =
      "class GatewayError < StandardError; end\n"
      "def send_request\n"
      "  raise IOError, 'socket closed'\n"
      "end\n"
      "def charge\n"
      "  send_request\n"
      "rescue IOError\n"
      "  raise GatewayError, 'charge failed'\n"
      "end\n"
      "charge\n";
  Run r = run_script(dir, rx, "app.rb", source, {*ruby});
  CHECK(r.result.exit_code() == 1);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "ruby");
  REQUIRE(values(e).size() == 2);
  CHECK(values(e)[0]["type"] == "IOError");
  CHECK(values(e)[0]["value"] == "socket closed");
  CHECK(top_frame(values(e)[0])["lineno"] == 3);
  CHECK(values(e)[1]["type"] == "GatewayError");
  CHECK(values(e)[1]["value"] == "charge failed");
  CHECK(top_frame(values(e)[1])["lineno"] == 8);
  CHECK(values(e)[1]["stacktrace"]["frames"].size() >= 2);
}

TEST_CASE("php: an uncaught exception with its stack trace", "[runtime][php][integration]") {
  REQUIRE_RUNTIME(php, "php");
  TempDir dir;
  Receiver rx;
  const char* source =
      "<?php\n"
      "function loadUser(int $id) {\n"
      "    throw new RuntimeException(\"user $id not found\");\n"
      "}\n"
      "class Controller { public function show($id) { return loadUser($id); } }\n"
      "(new Controller())->show(7);\n";
  Run r = run_script(dir, rx, "app.php", source, {*php, "-n", "-d", "display_errors=stderr", "-d", "log_errors=0"});
  CHECK(r.result.exit_code() == 255);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "php");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "RuntimeException");
  CHECK(values(e)[0]["value"] == "user 7 not found");
  const json& frames = values(e)[0]["stacktrace"]["frames"];
  REQUIRE(frames.size() == 3);
  CHECK(frames[2]["function"] == "loadUser");
  CHECK(frames[2]["lineno"] == 3);
  CHECK(frames[1]["function"] == "Controller::show");
  CHECK(frames[1]["lineno"] == 5);
  CHECK(frames[0]["lineno"] == 6);
}

TEST_CASE("perl: die is a crash, warn in a program that exits 0 is not", "[runtime][perl][integration]") {
  REQUIRE_RUNTIME(perl, "perl");
  TempDir dir;
  {
    Receiver rx;
    const char* source =
        "use Carp;\n"
        "sub check { confess \"quota exceeded\" }\n"
        "sub upload { check() }\n"
        "upload();\n";
    Run r = run_script(dir, rx, "die.pl", source, {*perl});
    CHECK(r.result.exit_code() == 255);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0]["level"] == "fatal");
    CHECK(r.events[0]["platform"] == "perl");
    REQUIRE(values(r.events[0]).size() == 1);
    CHECK(values(r.events[0])[0]["type"] == "die");
    CHECK(values(r.events[0])[0]["value"] == "quota exceeded");
    const json& frames = values(r.events[0])[0]["stacktrace"]["frames"];
    REQUIRE(frames.size() == 3);
    CHECK(frames[2]["function"] == "main::check");
    CHECK(frames[2]["lineno"] == 2);
  }
  {
    Receiver rx;
    Run r = run_script(dir, rx, "warn.pl", "warn \"cache disabled\";\nprint \"done\\n\";\n", {*perl});
    CHECK(r.result.exit_code() == 0);
    CHECK(r.result.out == "done\n");
    CHECK(r.result.err == "cache disabled at " + dir.file("warn.pl") + " line 1.\n");
    CHECK(r.events.empty());
  }
}
