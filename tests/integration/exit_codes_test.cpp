// Contract 3: crashwrap exits with the child's code (or --remap-exit's), and a
// command that cannot run fails like a shell: 127 not found, 126 not executable.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

std::string testapp() { return test_program("testapp"); }

// "crashwrap: testapp exited with code 3 after 0.0s — event 1a2b3c4d… saved to P (no DSN set)\n"
// → P, after checking every other part of the line.
std::string summary_path(const std::string& err, const std::string& how, const std::string& spool) {
  const std::string head = "crashwrap: testapp " + how + " after ";
  REQUIRE(err.rfind(head, 0) == 0);
  const std::string marker = "s \xe2\x80\x94 event ";
  const auto event = err.find(marker);
  REQUIRE(event != std::string::npos);
  const std::string id = err.substr(event + marker.size(), 8);
  CHECK(id.size() == 8);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  const std::string saved = "\xe2\x80\xa6 saved to ";
  const auto at = event + marker.size() + 8;
  REQUIRE(err.compare(at, saved.size(), saved) == 0);
  const std::string tail = " (no DSN set)\n";
  REQUIRE(err.size() > tail.size());
  CHECK(err.compare(err.size() - tail.size(), tail.size(), tail) == 0);
  const std::string path =
      err.substr(at + saved.size(), err.size() - tail.size() - (at + saved.size()));
  CHECK(path.rfind(spool + "/", 0) == 0);
  CHECK(path.find(id) != std::string::npos);
  return path;
}

}  // namespace

TEST_CASE("exit code 0 passes through silently", "[exit]") {
  TempDir dir;
  RunResult r = run(crashwrap_options({"--", testapp(), "out", "ok"}, dir.file("spool")), 20s);
  CHECK(r.exit_code() == 0);
  CHECK(r.out == "ok\n");
  CHECK(r.err.empty());
}

TEST_CASE("non-zero exit codes pass through with one summary line and a saved event", "[exit]") {
  const int code = GENERATE(1, 2, 3, 255);
  TempDir dir;
  RunResult r = run(crashwrap_options({"--", testapp(), "exit", std::to_string(code)}, dir.file("spool")),
                    20s);
  CHECK(r.exit_code() == code);
  const std::string path =
      summary_path(r.err, "exited with code " + std::to_string(code), dir.file("spool"));
  struct stat st {};
  CHECK(::stat(path.c_str(), &st) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
}

TEST_CASE("a command that is not found exits 127 like a shell", "[exit]") {
  TempDir dir;
  RunResult r = run(crashwrap_options({"--", "crashwrap-no-such-command", "arg"}, dir.file("spool")), 20s);
  CHECK(r.exit_code() == 127);
  CHECK(r.out.empty());
  CHECK(r.err == "crashwrap: error: cannot run 'crashwrap-no-such-command': No such file or directory\n");
}

TEST_CASE("a command that is not executable exits 126 like a shell", "[exit]") {
  TempDir dir;
  write_file(dir.file("notexec"), "#!/bin/sh\necho never\n");
  ::chmod(dir.file("notexec").c_str(), 0644);
  RunResult r = run(crashwrap_options({"--", dir.file("notexec")}, dir.file("spool")), 20s);
  CHECK(r.exit_code() == 126);
  CHECK(r.err == "crashwrap: error: cannot run '" + dir.file("notexec") + "': Permission denied\n");
  r = run(crashwrap_options({"--", dir.path()}, dir.file("spool")), 20s);  // a directory
  CHECK(r.exit_code() == 126);
}

TEST_CASE("the --remap-exit option rewrites exit codes and deaths by signal", "[exit]") {
  TempDir dir;
  RunResult r = run(crashwrap_options({"--remap-exit", "3=0", "--remap-exit", "143=5", "--", testapp(),
                                       "exit", "3"},
                                      dir.file("spool")),
                    20s);
  CHECK(r.exit_code() == 0);
  r = run(crashwrap_options({"--remap-exit", "143=5", "--", testapp(), "raise", "TERM"}, dir.file("spool")),
          20s);
  CHECK(r.term_signal() == 0);
  CHECK(r.exit_code() == 5);
  r = run(crashwrap_options({"--remap-exit", "3=0", "--", testapp(), "exit", "4"}, dir.file("spool")), 20s);
  CHECK(r.exit_code() == 4);
}

TEST_CASE("ignored exit codes pass through without an event", "[exit]") {
  TempDir dir;
  RunResult r = run(crashwrap_options({"--ignore-exit-codes", "3", "--", testapp(), "exit", "3"},
                                      dir.file("spool")),
                    20s);
  CHECK(r.exit_code() == 3);
  CHECK(r.err.empty());
}

TEST_CASE("a shell script's exit code passes through (PATH lookup, #! scripts)", "[exit]") {
  TempDir dir;
  write_file(dir.file("script"), "#!/bin/sh\necho \"args: $*\"\nexit 42\n");
  ::chmod(dir.file("script").c_str(), 0755);
  auto o = crashwrap_options({"--quiet", "--", "script", "a", "b c"}, dir.file("spool"));
  o.env_set.emplace_back("PATH", dir.path() + ":/usr/bin:/bin");
  RunResult r = run(o, 20s);
  CHECK(r.exit_code() == 42);
  CHECK(r.out == "args: a b c\n");
  CHECK(r.err.empty());  // --quiet: no summary line
}

TEST_CASE("an unusable spool still runs the app and passes its exit code", "[exit]") {
  TempDir dir;
  write_file(dir.file("a-file"), "x");
  // A spool below a regular file cannot be created.
  RunResult r = run(crashwrap_options({"--", testapp(), "out", "ran", "exit", "3"},
                                      dir.file("a-file") + "/spool"),
                    20s);
  CHECK(r.exit_code() == 3);
  CHECK(r.out == "ran\n");
  const auto first = r.err.find('\n');
  REQUIRE(first != std::string::npos);
  CHECK(r.err.rfind("crashwrap: warning: ", 0) == 0);
  const std::string second = r.err.substr(first + 1);
  CHECK(second.rfind("crashwrap: testapp exited with code 3 after ", 0) == 0);
  CHECK(second.find("\xe2\x80\xa6 could not be saved\n") != std::string::npos);
  CHECK(second.find('\n') == second.size() - 1);  // two lines in all
}
