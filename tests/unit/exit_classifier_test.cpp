#include "parsers/exit_classifier.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>

using namespace crashwrap::parsers;
using namespace std::chrono_literals;

namespace {

// Wait statuses as the kernel encodes them (see <bits/waitstatus.h>).
int exited_with(int code) { return (code & 0xff) << 8; }
int killed_by(int sig, bool core = false) { return sig | (core ? 0x80 : 0); }

OomCounter counter(std::string cgroup, std::uint64_t oom_kill, std::optional<std::uint64_t> limit = {},
                   std::optional<std::uint64_t> peak = {}, std::string source = "memory.events") {
  return OomCounter{std::move(source), std::move(cgroup), oom_kill, limit, peak};
}

ExitEvidence evidence(int status, std::uint64_t before, std::uint64_t after) {
  ExitEvidence e;
  e.wait_status = status;
  e.duration = 3200ms;
  e.last_rss = 64ull << 20;
  e.before = {counter("/app", before, 67108864, 1000)};
  e.after = {counter("/app", after, 67108864, 67100000)};
  return e;
}

int real_status(const char* shell_command) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", shell_command, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_CASE("memory.events and memory.oom_control oom_kill counters", "[exit_classifier]") {
  CHECK(parse_oom_kill_v2("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n") == 2u);
  CHECK(parse_oom_kill_v2("oom_kill 18446744073709551615") == 18446744073709551615ull);
  CHECK(parse_oom_kill_v2("low 0\nhigh 0\nmax 0\noom 0\n") == std::nullopt);
  CHECK(parse_oom_kill_v2("oom_kill 18446744073709551616") == std::nullopt);
  CHECK(parse_oom_kill_v2("oom_kill x\n") == std::nullopt);
  CHECK(parse_oom_kill_v2("oom_kill \n") == std::nullopt);
  CHECK(parse_oom_kill_v2("") == std::nullopt);
  // v1: oom_kill_disable comes first and must not be taken for oom_kill.
  CHECK(parse_oom_kill_v1("oom_kill_disable 1\nunder_oom 0\noom_kill 7\n") == 7u);
  CHECK(parse_oom_kill_v1("oom_kill_disable 1\nunder_oom 1\n") == std::nullopt);  // kernel < 4.13
}

TEST_CASE("clean and error exits", "[exit_classifier]") {
  ExitInfo clean = classify_exit(evidence(exited_with(0), 0, 0));
  CHECK(clean.kind == ExitKind::Clean);
  CHECK(clean.code == 0);
  CHECK(clean.signal == 0);
  CHECK_FALSE(clean.oom);
  CHECK(clean.duration == 3200ms);
  CHECK(clean.last_rss == (64ull << 20));

  ExitInfo err = classify_exit(evidence(exited_with(3), 5, 5));
  CHECK(err.kind == ExitKind::ErrorExit);
  CHECK(err.code == 3);
  CHECK(err.signal_name.empty());
  CHECK_FALSE(err.oom);
  CHECK(err.describe() == "exited with code 3");
}

TEST_CASE("death by a signal keeps its name and the core flag", "[exit_classifier]") {
  ExitInfo segv = classify_exit(evidence(killed_by(SIGSEGV, true), 0, 0));
  CHECK(segv.kind == ExitKind::Signal);
  CHECK(segv.signal == SIGSEGV);
  CHECK(segv.signal_name == "SIGSEGV");
  CHECK(segv.core_dumped);
  CHECK(segv.describe() == "died of SIGSEGV (core dumped)");

  ExitInfo term = classify_exit(evidence(killed_by(SIGTERM), 0, 0));
  CHECK(term.kind == ExitKind::Signal);
  CHECK(term.signal_name == "SIGTERM");
  CHECK_FALSE(term.core_dumped);
}

TEST_CASE("SIGKILL is an OOM kill only with a grown counter", "[exit_classifier]") {
  ExitInfo plain = classify_exit(evidence(killed_by(SIGKILL), 4, 4));
  CHECK(plain.kind == ExitKind::Signal);
  CHECK(plain.signal == 9);
  CHECK_FALSE(plain.oom);

  ExitInfo oom = classify_exit(evidence(killed_by(SIGKILL), 4, 5));
  CHECK(oom.kind == ExitKind::OomKilled);
  CHECK(oom.signal == 9);
  CHECK(oom.signal_name == "SIGKILL");
  REQUIRE(oom.oom);
  CHECK(oom.oom->source == "memory.events");
  CHECK(oom.oom->cgroup == "/app");
  CHECK(oom.oom->oom_kill_before == 4);
  CHECK(oom.oom->oom_kill_after == 5);
  CHECK(oom.oom->increased());
  CHECK(oom.oom->memory_limit == 67108864u);
  CHECK(oom.oom->memory_peak == 67100000u);
  CHECK(oom.last_rss == (64ull << 20));
  CHECK(oom.describe() == "was OOM-killed");
}

TEST_CASE("exit 137 is an exit code, never a signal, with OOM evidence when there is some",
          "[exit_classifier]") {
  ExitInfo bare = classify_exit(evidence(exited_with(137), 0, 0));
  CHECK(bare.kind == ExitKind::ErrorExit);
  CHECK(bare.code == 137);
  CHECK(bare.signal == 0);
  CHECK_FALSE(bare.oom);

  ExitInfo shell = classify_exit(evidence(exited_with(137), 0, 1));
  CHECK(shell.kind == ExitKind::ErrorExit);
  CHECK(shell.code == 137);
  CHECK(shell.signal == 0);
  REQUIRE(shell.oom);
  CHECK(shell.oom->oom_kill_after == 1);

  // The real thing: a shell whose own child was SIGKILLed reports 137.
  ExitEvidence e;
  e.wait_status = real_status("exec 2>/dev/null; sleep 5 & kill -9 $!; wait $!");
  ExitInfo real = classify_exit(e);
  CHECK(real.kind == ExitKind::ErrorExit);
  CHECK(real.code == 137);
}

TEST_CASE("real wait statuses", "[exit_classifier]") {
  ExitEvidence e;
  e.wait_status = real_status("exit 2");
  CHECK(classify_exit(e).kind == ExitKind::ErrorExit);
  CHECK(classify_exit(e).code == 2);
  e.wait_status = real_status("kill -ABRT $$");
  ExitInfo abrt = classify_exit(e);
  CHECK(abrt.kind == ExitKind::Signal);
  CHECK(abrt.signal_name == "SIGABRT");
  e.wait_status = real_status("kill -KILL $$");
  CHECK(classify_exit(e).kind == ExitKind::Signal);  // no counter evidence given
}

TEST_CASE("another signal with a grown counter stays that signal, evidence attached", "[exit_classifier]") {
  ExitInfo term = classify_exit(evidence(killed_by(SIGTERM), 0, 1));
  CHECK(term.kind == ExitKind::Signal);
  CHECK(term.signal_name == "SIGTERM");
  REQUIRE(term.oom);
}

TEST_CASE("counters pair by source and cgroup", "[exit_classifier]") {
  ExitEvidence e;
  e.wait_status = killed_by(SIGKILL);

  SECTION("a counter without a twin proves nothing") {
    e.before = {counter("/old", 0)};
    e.after = {counter("/new", 3)};
    CHECK(classify_exit(e).kind == ExitKind::Signal);
  }
  SECTION("the same cgroup under another source is not a twin") {
    e.before = {counter("/app", 0, {}, {}, "memory.oom_control")};
    e.after = {counter("/app", 3)};
    CHECK(classify_exit(e).kind == ExitKind::Signal);
  }
  SECTION("a counter that went down (cgroup recreated) proves nothing") {
    e.before = {counter("/app", 9)};
    e.after = {counter("/app", 1)};
    CHECK(classify_exit(e).kind == ExitKind::Signal);
  }
  SECTION("the first grown counter in after order is the evidence") {
    e.before = {counter("/self", 2, 1000), counter("/child", 0, 500)};
    e.after = {counter("/child", 1, 500, 499), counter("/self", 3, 1000, 999)};
    ExitInfo info = classify_exit(e);
    CHECK(info.kind == ExitKind::OomKilled);
    REQUIRE(info.oom);
    CHECK(info.oom->cgroup == "/child");
    CHECK(info.oom->memory_limit == 500u);
    CHECK(info.oom->memory_peak == 499u);
  }
  SECTION("the limit falls back to the before reading") {
    e.before = {counter("/app", 0, 4096)};
    e.after = {counter("/app", 1)};
    ExitInfo info = classify_exit(e);
    REQUIRE(info.oom);
    CHECK(info.oom->memory_limit == 4096u);
    CHECK(info.oom->memory_peak == std::nullopt);
  }
}

TEST_CASE("abandoned runs: unknown end, or OOM-killed with evidence", "[exit_classifier]") {
  ExitEvidence e;
  e.duration = 5s;
  e.before = {counter("/app", 1)};
  e.after = {counter("/app", 1)};
  ExitInfo unknown = classify_abandoned(e);
  CHECK(unknown.kind == ExitKind::Unknown);
  CHECK(unknown.signal == 0);
  CHECK(unknown.duration == 5s);
  CHECK(unknown.describe() == "ended abnormally");

  e.after = {counter("/app", 2)};
  ExitInfo oom = classify_abandoned(e);
  CHECK(oom.kind == ExitKind::OomKilled);
  CHECK(oom.signal == SIGKILL);
  CHECK(oom.signal_name == "SIGKILL");
  REQUIRE(oom.oom);
  CHECK(oom.oom->oom_kill_before == 1);
  CHECK(oom.oom->oom_kill_after == 2);
}

TEST_CASE("signal names both ways", "[exit_classifier][signal_names]") {
  CHECK(signal_name(SIGSEGV) == "SIGSEGV");
  CHECK(signal_name(SIGKILL) == "SIGKILL");
  CHECK(signal_name(SIGIOT) == "SIGABRT");   // canonical over alias
  CHECK(signal_name(SIGCHLD) == "SIGCHLD");
  CHECK(signal_name(SIGRTMIN) == "SIGRTMIN");
  CHECK(signal_name(SIGRTMIN + 2) == "SIGRTMIN+2");
  CHECK(signal_name(SIGRTMAX - 1) == "SIGRTMAX-1");
  CHECK(signal_name(SIGRTMAX) == "SIGRTMAX");
  CHECK(signal_name(99) == "SIG99");
  CHECK(signal_name(0) == "SIG0");

  CHECK(signal_number("SIGTERM") == SIGTERM);
  CHECK(signal_number("TERM") == SIGTERM);
  CHECK(signal_number("term") == SIGTERM);
  CHECK(signal_number("SigTerm") == SIGTERM);
  CHECK(signal_number("15") == 15);
  CHECK(signal_number(" 9 ") == 9);
  CHECK(signal_number("sigint") == SIGINT);
  CHECK(signal_number("IOT") == SIGABRT);
  CHECK(signal_number("SIGCLD") == SIGCHLD);
  CHECK(signal_number("POLL") == SIGIO);
  CHECK(signal_number("SIGRTMIN") == SIGRTMIN);
  CHECK(signal_number("rtmin+3") == SIGRTMIN + 3);
  CHECK(signal_number("SIGRTMAX-2") == SIGRTMAX - 2);
  CHECK(signal_number("SIGRTMIN-1") == std::nullopt);
  CHECK(signal_number("SIGRTMAX+1") == std::nullopt);
  CHECK(signal_number("SIGFOO") == std::nullopt);
  CHECK(signal_number("SIG") == std::nullopt);
  CHECK(signal_number("") == std::nullopt);
  CHECK(signal_number("0") == std::nullopt);
  CHECK(signal_number(std::to_string(SIGRTMAX + 1)) == std::nullopt);
  CHECK(signal_number("-9") == std::nullopt);
  CHECK(signal_number("9x") == std::nullopt);
  CHECK(signal_number("SIG32") == 32);

  for (int s = 1; s <= SIGRTMAX; ++s) {
    INFO("signal " << s);
    CHECK(signal_number(signal_name(s)) == s);
    CHECK(signal_number(std::to_string(s)) == s);
  }
}
