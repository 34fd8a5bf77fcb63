#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <map>

#include "agent/supervisor.h"

using crashwrap::agent::exit_action;
using crashwrap::agent::ExitAction;
using crashwrap::agent::Supervisor;

namespace {
// Raw wait statuses as the kernel builds them.
int exited_with(int code) { return (code & 0xff) << 8; }
int killed_by(int signo) { return signo & 0x7f; }
}  // namespace

TEST_CASE("wait status encodings used below are the kernel's", "[supervisor]") {
  CHECK(WIFEXITED(exited_with(3)));
  CHECK(WEXITSTATUS(exited_with(3)) == 3);
  CHECK(WIFSIGNALED(killed_by(SIGSEGV)));
  CHECK(WTERMSIG(killed_by(SIGSEGV)) == SIGSEGV);
}

TEST_CASE("exit codes pass through, remapped when configured", "[supervisor]") {
  const std::map<int, int> none;
  const std::map<int, int> remap{{3, 0}, {143, 7}};
  auto a = exit_action(exited_with(0), none, false);
  CHECK(a.kind == ExitAction::Kind::Exit);
  CHECK(a.value == 0);
  a = exit_action(exited_with(3), none, false);
  CHECK(a.value == 3);
  a = exit_action(exited_with(3), remap, false);
  CHECK(a.kind == ExitAction::Kind::Exit);
  CHECK(a.value == 0);
  a = exit_action(exited_with(4), remap, true);
  CHECK(a.value == 4);
}

TEST_CASE("a death by signal is re-raised, or 128+n as PID 1, or remapped", "[supervisor]") {
  const std::map<int, int> none;
  auto a = exit_action(killed_by(SIGSEGV), none, false);
  CHECK(a.kind == ExitAction::Kind::Raise);
  CHECK(a.value == SIGSEGV);
  a = exit_action(killed_by(SIGSEGV) | 0x80 /* core dumped */, none, false);
  CHECK(a.kind == ExitAction::Kind::Raise);
  CHECK(a.value == SIGSEGV);
  a = exit_action(killed_by(SIGKILL), none, true);
  CHECK(a.kind == ExitAction::Kind::Exit);
  CHECK(a.value == 137);
  a = exit_action(killed_by(SIGTERM), {{143, 0}}, false);
  CHECK(a.kind == ExitAction::Kind::Exit);
  CHECK(a.value == 0);
  a = exit_action(killed_by(SIGTERM), {{143, 0}}, true);
  CHECK(a.value == 0);
}

TEST_CASE("the forwarded signals are exactly tini's asynchronous set", "[supervisor]") {
  CHECK(Supervisor::forwarded_signals() ==
        std::vector<int>{SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT});
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
    for (int s : Supervisor::forwarded_signals()) CHECK(s != fault);
  }
}
