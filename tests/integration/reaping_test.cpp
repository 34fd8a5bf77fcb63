// tini's duties when not PID 1: crashwrap is a child subreaper, reaps every
// zombie, does not wait forever for grandchildren that hold the pipes, and
// with --group ends the leftover descendants politely.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

std::string testapp() { return test_program("testapp"); }

// Fields of /proc/<pid>/stat after the command name: state and ppid.
bool proc_state(pid_t pid, char& state, pid_t& ppid) {
  const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = s.rfind(')');
  if (close == std::string::npos || close + 4 >= s.size()) return false;
  state = s[close + 2];
  ppid = static_cast<pid_t>(std::atol(s.c_str() + close + 4));
  return true;
}

std::vector<pid_t> zombie_children(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    char state = 0;
    pid_t ppid = 0;
    if (pid > 0 && proc_state(pid, state, ppid) && ppid == parent && state == 'Z') out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

bool gone(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  return !proc_state(pid, state, ppid) || state == 'Z' || state == 'X';
}

pid_t number_after(const std::string& out, const std::string& word) {
  const auto at = out.find(word + " ");
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::atol(out.c_str() + at + word.size() + 1));
}

}  // namespace

TEST_CASE("orphans are adopted and reaped: no zombie stays behind", "[reaping]") {
  TempDir dir;
  Process p = Process::start(crashwrap_options(
      {"--", testapp(), "orphans", "5", "orphan", "30", "ready", "sleep", "60"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  const pid_t orphan = number_after(p.output(StdStream::Out), "orphan");
  REQUIRE(orphan > 0);
  char state = 0;
  pid_t ppid = 0;
  REQUIRE(proc_state(orphan, state, ppid));
  CHECK(ppid == p.pid());  // crashwrap is the subreaper that adopted it
  CHECK(wait_until([&] { return zombie_children(p.pid()).empty(); }, 10s));
  REQUIRE(p.send_signal(SIGTERM));
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGTERM);
}

TEST_CASE("grandchildren holding the pipes open do not keep crashwrap past the drain grace",
          "[reaping]") {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run(crashwrap_options({"--drain-grace", "300ms", "--", testapp(), "grandchild", "30",
                                       "out", "before exit", "exit", "0"},
                                      dir.file("spool")),
                    20s);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.timed_out());
  CHECK(r.exit_code() == 0);
  CHECK(took < 5s);
  const pid_t grandchild = number_after(r.out, "grandchild");
  CHECK(r.out == "grandchild " + std::to_string(grandchild) + "\nbefore exit\n");
  if (grandchild > 0) ::kill(grandchild, SIGKILL);
}

TEST_CASE("output written by a grandchild before the drain grace ends is passed through",
          "[reaping]") {
  TempDir dir;
  // sh exits at once; its background job writes 200 ms later and then exits.
  RunResult r = run(crashwrap_options({"--drain-grace", "3s", "--", "sh", "-c",
                                       "(sleep 0.2; echo late) & echo early"},
                                      dir.file("spool")),
                    20s);
  CHECK(r.exit_code() == 0);
  CHECK(r.out == "early\nlate\n");
}

TEST_CASE("the --group option ends the remaining descendants when the main child exits", "[reaping]") {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run(crashwrap_options({"--group", "--", testapp(), "grandchild", "60", "exit", "0"},
                                      dir.file("spool")),
                    20s);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(r.exit_code() == 0);
  const pid_t grandchild = number_after(r.out, "grandchild");
  REQUIRE(grandchild > 0);
  CHECK(wait_until([&] { return gone(grandchild); }, 5s));
}

TEST_CASE("the --group option kills descendants that ignore SIGTERM after the grace", "[reaping]") {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run(crashwrap_options({"--group", "--group-term-grace", "500ms", "--", testapp(), "ignore",
                                       "TERM", "grandchild", "60", "exit", "0"},
                                      dir.file("spool")),
                    20s);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.exit_code() == 0);
  CHECK(took >= 400ms);
  CHECK(took < 5s);
  const pid_t grandchild = number_after(r.out, "grandchild");
  REQUIRE(grandchild > 0);
  CHECK(wait_until([&] { return gone(grandchild); }, 5s));
}
