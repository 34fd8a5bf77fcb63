// Contract 3 and tini's duties: forwarded signals reach the child, --stop-signal
// and --kill-after, and a child's fatal signal is re-raised by crashwrap.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

std::string testapp() { return test_program("testapp"); }

struct Named {
  int signo;
  const char* name;
};

}  // namespace

TEST_CASE("each forwarded signal reaches the child", "[signals]") {
  const Named sig = GENERATE(Named{SIGTERM, "TERM"}, Named{SIGINT, "INT"}, Named{SIGHUP, "HUP"},
                             Named{SIGQUIT, "QUIT"}, Named{SIGUSR1, "USR1"}, Named{SIGUSR2, "USR2"},
                             Named{SIGWINCH, "WINCH"}, Named{SIGCONT, "CONT"});
  INFO("signal " << sig.name);
  TempDir dir;
  Process p = Process::start(
      crashwrap_options({"--", testapp(), "catchall", "ready", "waitsig", "exit", "0"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  REQUIRE(p.send_signal(sig.signo));
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
  CHECK(p.output(StdStream::Out) == std::string("ready\ngot SIG") + sig.name + "\n");
  CHECK(p.output(StdStream::Err).empty());
}

TEST_CASE("a SIGTERM the child does not handle ends both, with crashwrap dying of it too",
          "[signals]") {
  TempDir dir;
  Process p = Process::start(
      crashwrap_options({"--", testapp(), "ready", "sleep", "60"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  REQUIRE(p.send_signal(SIGTERM));
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGTERM);
  CHECK(p.output(StdStream::Err).rfind("crashwrap: testapp died of SIGTERM after ", 0) == 0);
}

TEST_CASE("the --stop-signal option turns a received SIGTERM into another signal", "[signals]") {
  TempDir dir;
  Process p = Process::start(crashwrap_options(
      {"--stop-signal", "SIGINT", "--", testapp(), "catch", "INT", "TERM", "ready", "waitsig", "exit", "0"},
      dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  REQUIRE(p.send_signal(SIGTERM));
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
  CHECK(p.output(StdStream::Out) == "ready\ngot SIGINT\n");
}

TEST_CASE("the --kill-after option sends SIGKILL when the child outlives a forwarded SIGTERM", "[signals]") {
  TempDir dir;
  Process p = Process::start(crashwrap_options(
      {"--kill-after", "1s", "--", testapp(), "ignore", "TERM", "ready", "sleep", "60"}, dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  const auto sent = std::chrono::steady_clock::now();
  REQUIRE(p.send_signal(SIGTERM));
  auto status = p.wait_or_kill(20s);
  const auto took = std::chrono::steady_clock::now() - sent;
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGKILL);
  CHECK(took >= 900ms);
  CHECK(took < 10s);
}

TEST_CASE("a child's death by signal is re-raised by crashwrap, without a core of its own",
          "[signals]") {
  const Named sig = GENERATE(Named{SIGSEGV, "SEGV"}, Named{SIGABRT, "ABRT"}, Named{SIGKILL, "KILL"},
                             Named{SIGUSR1, "USR1"});
  INFO("signal " << sig.name);
  TempDir dir;
  std::vector<std::string> cmd = {"--", testapp()};
  if (sig.signo == SIGSEGV) {
    cmd.push_back("segv");  // a real invalid access, not raise()
  } else if (sig.signo == SIGABRT) {
    cmd.push_back("abort");
  } else {
    cmd.insert(cmd.end(), {"raise", sig.name});
  }
  Process p = Process::start(crashwrap_options(cmd, dir.file("spool")));
  auto status = p.wait_or_kill(20s);
  REQUIRE(status);
  CHECK(WIFSIGNALED(*status));
  CHECK(term_signal(*status) == sig.signo);
  CHECK_FALSE(WCOREDUMP(*status));
  const std::string err = p.output(StdStream::Err);
  CHECK(err.rfind(std::string("crashwrap: testapp died of SIG") + sig.name, 0) == 0);
}

TEST_CASE("with --group, signals go to the child's whole process group", "[signals]") {
  TempDir dir;
  Process p = Process::start(crashwrap_options(
      {"--group", "--", testapp(), "catch", "USR1", "grandchild", "30", "ready", "waitsig", "exit", "0"},
      dir.file("spool")));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  REQUIRE(p.send_signal(SIGUSR1));
  // The grandchild inherited the handler: both print.
  CHECK(p.wait_for_output(StdStream::Out, "got SIGUSR1\ngot SIGUSR1\n", 10s));
  auto status = p.wait_or_kill(20s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
}

TEST_CASE("with --group and a terminal on stdin, the child gets the terminal's foreground",
          "[signals][tty]") {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    WARN("no pseudo-terminal available: skipping the foreground hand-over test");
    if (master >= 0) ::close(master);
    return;
  }
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  REQUIRE(slave >= 0);
  TempDir dir;
  // setsid --ctty: crashwrap leads a new session whose controlling terminal is the pty.
  auto o = crashwrap_options({"--group", "--", testapp(), "tty", "pgid", "pid"}, dir.file("spool"));
  o.argv.insert(o.argv.begin(), {"setsid", "--ctty"});
  o.stdin_mode = Input::Fd;
  o.stdin_fd = slave;
  o.own_group = false;  // setsid makes its own session and group
  RunResult r = run(o, 20s);
  ::close(slave);
  ::close(master);
  if (r.exit_code() != 0 && r.err.find("setsid") != std::string::npos) {
    WARN("setsid --ctty is not available: " << r.err);
    return;
  }
  REQUIRE(r.exit_code() == 0);
  CHECK(r.out.rfind("tty in=1 out=0 err=0 fg=1\n", 0) == 0);
  // The child leads its own group (pgid == pid).
  const auto pgid = r.out.substr(r.out.find("pgid ") + 5);
  const auto pid = r.out.substr(r.out.find("pid ", r.out.find("pgid ") + 5) + 4);
  CHECK(pgid.substr(0, pgid.find('\n')) == pid.substr(0, pid.find('\n')));
}
