// crashwrap as PID 1 of a PID namespace (a container's ENTRYPOINT): signals
// still arrive, every orphan is reaped, and a death by signal n becomes exit
// 128+n (PID 1 cannot die of its own signal). Needs `unshare -Urpf`; skipped
// with a message where user namespaces are not allowed.
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

bool namespaces_available() {
  static const bool ok = [] {
    RunResult r = run({"unshare", "-Urpf", "--mount-proc", "true"}, 10s);
    return r.exit_code() == 0;
  }();
  return ok;
}

#define REQUIRE_NAMESPACES()                                                              \
  if (!namespaces_available()) {                                                          \
    WARN("unshare -Urpf --mount-proc is not available here: skipping the PID 1 test");    \
    return;                                                                               \
  }

ProcessOptions as_pid1(std::vector<std::string> args, const std::string& spool) {
  ProcessOptions o = crashwrap_options(std::move(args), spool);
  o.argv.insert(o.argv.begin(), {"unshare", "-Urpf", "--mount-proc"});
  return o;
}

// crashwrap's pid outside the namespace: the only child of unshare.
pid_t crashwrap_pid(pid_t unshare_pid) {
  pid_t found = 0;
  wait_until(
      [&] {
        const std::string children = read_file("/proc/" + std::to_string(unshare_pid) + "/task/" +
                                               std::to_string(unshare_pid) + "/children");
        found = static_cast<pid_t>(std::atol(children.c_str()));
        return found > 0;
      },
      5s);
  return found;
}

int count_zombie_children(pid_t parent) {
  int n = 0;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return -1;
  while (struct dirent* e = ::readdir(d)) {
    const std::string s = read_file(std::string("/proc/") + e->d_name + "/stat");
    const auto close = s.rfind(')');
    if (close == std::string::npos || close + 4 >= s.size()) continue;
    if (s[close + 2] == 'Z' && std::atol(s.c_str() + close + 4) == parent) ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace

TEST_CASE("as PID 1, a death by signal becomes exit 128+n", "[pid1]") {
  REQUIRE_NAMESPACES();
  TempDir dir;
  RunResult r = run(as_pid1({"--", testapp(), "pid", "segv"}, dir.file("spool")), 20s);
  CHECK(r.term_signal() == 0);
  CHECK(r.exit_code() == 128 + SIGSEGV);
  CHECK(r.out == "pid 2\n");  // crashwrap is 1
  CHECK(r.err.rfind("crashwrap: testapp died of SIGSEGV after ", 0) == 0);
}

TEST_CASE("as PID 1, exit codes pass through unchanged", "[pid1]") {
  REQUIRE_NAMESPACES();
  TempDir dir;
  RunResult r = run(as_pid1({"--quiet", "--", testapp(), "exit", "7"}, dir.file("spool")), 20s);
  CHECK(r.exit_code() == 7);
}

TEST_CASE("as PID 1, forwarded signals reach the child", "[pid1]") {
  REQUIRE_NAMESPACES();
  const int signo = GENERATE(SIGTERM, SIGINT, SIGUSR1);
  TempDir dir;
  Process p = Process::start(
      as_pid1({"--", testapp(), "catchall", "ready", "waitsig", "exit", "0"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  const pid_t init = crashwrap_pid(p.pid());
  REQUIRE(init > 0);
  REQUIRE(::kill(init, signo) == 0);
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
  CHECK(p.output(StdStream::Out).rfind("ready\ngot SIG", 0) == 0);
}

TEST_CASE("as PID 1, an unhandled SIGTERM ends the child and crashwrap exits 143", "[pid1]") {
  REQUIRE_NAMESPACES();
  TempDir dir;
  Process p = Process::start(as_pid1({"--", testapp(), "ready", "sleep", "60"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  const pid_t init = crashwrap_pid(p.pid());
  REQUIRE(init > 0);
  REQUIRE(::kill(init, SIGTERM) == 0);
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 128 + SIGTERM);
}

TEST_CASE("as PID 1, orphans are reaped", "[pid1]") {
  REQUIRE_NAMESPACES();
  TempDir dir;
  Process p = Process::start(
      as_pid1({"--", testapp(), "orphans", "5", "ready", "sleep", "60"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  const pid_t init = crashwrap_pid(p.pid());
  REQUIRE(init > 0);
  CHECK(wait_until([&] { return count_zombie_children(init) == 0; }, 10s));
  REQUIRE(::kill(init, SIGTERM) == 0);
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 128 + SIGTERM);
}
