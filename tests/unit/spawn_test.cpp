#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "agent/spawn.h"
#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::agent;
using crashwrap::test::TempDir;

namespace {

// Runs the request with stdout on a pipe; returns (wait status, stdout).
std::pair<int, std::string> run_to_end(SpawnRequest rq) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  rq.stdout_fd = p[1];
  SpawnResult r = spawn(rq);
  ::close(p[1]);
  REQUIRE(r.error == 0);
  REQUIRE(r.pid > 0);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(p[0]);
  int status = 0;
  REQUIRE(::waitpid(r.pid, &status, 0) == r.pid);
  return {status, out};
}

}  // namespace

TEST_CASE("exec candidates follow execvp's PATH rules", "[spawn]") {
  CHECK(exec_candidates("./x", "/a:/b") == std::vector<std::string>{"./x"});
  CHECK(exec_candidates("x", "/a::/b") == std::vector<std::string>{"/a/x", "x", "/b/x"});
  CHECK(exec_candidates("x", "") == std::vector<std::string>{"/bin/x", "/usr/bin/x"});
  CHECK(exec_candidates("", "/a").empty());
}

TEST_CASE("resolve_command finds executables only", "[spawn]") {
  TempDir dir;
  crashwrap::test::write_file(dir.file("plain"), "data");
  crashwrap::test::write_file(dir.file("tool"), "#!/bin/sh\n");
  ::chmod(dir.file("tool").c_str(), 0755);
  CHECK(resolve_command("tool", dir.path()) == dir.file("tool"));
  CHECK_FALSE(resolve_command("plain", dir.path()));
  CHECK(resolve_command("sh", "/nonexistent:/bin") == "/bin/sh");
}

TEST_CASE("the child runs with the given argv, environment and stdout", "[spawn]") {
  SpawnRequest rq;
  rq.argv = {crashwrap::test::test_program("testapp"), "env", "ONLY", "sigstate", "fds", "exit", "7"};
  rq.envp = {"ONLY=yes"};
  auto [status, out] = run_to_end(rq);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
  // Inherited fds stay as they are; the spawner's own pipes are not inherited.
  CHECK(out == "ONLY=yes\nblocked 0 ignored 0\n" +
                   crashwrap::test::fds_line(crashwrap::test::inheritable_fds()));
}

TEST_CASE("signal mask and dispositions are reset in the child", "[spawn]") {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  auto prev = ::signal(SIGUSR2, SIG_IGN);
  SpawnRequest rq;
  rq.argv = {crashwrap::test::test_program("testapp"), "sigstate"};
  auto [status, out] = run_to_end(rq);
  ::signal(SIGUSR2, prev);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  CHECK(out == "blocked 0 ignored 0\n");
}

TEST_CASE("PATH lookup and scripts without #! run like execvp", "[spawn]") {
  TempDir dir;
  crashwrap::test::write_file(dir.file("noshebang"), "echo \"from sh $1\"\n");
  ::chmod(dir.file("noshebang").c_str(), 0755);
  SpawnRequest rq;
  rq.argv = {"noshebang", "arg1"};
  rq.path_env = "/nonexistent:" + dir.path();
  rq.envp = {"PATH=/bin:/usr/bin"};
  auto [status, out] = run_to_end(rq);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(out == "from sh arg1\n");
}

TEST_CASE("exec failures come back as errno and shell exit codes", "[spawn]") {
  TempDir dir;
  SpawnRequest rq;
  rq.argv = {"crashwrap-no-such-program"};
  rq.path_env = dir.path();
  SpawnResult r = spawn(rq);
  CHECK(r.pid == -1);
  CHECK(r.error == ENOENT);
  CHECK(exec_failure_exit_code(r.error) == 127);

  crashwrap::test::write_file(dir.file("notexec"), "data");
  rq.argv = {dir.file("notexec")};
  r = spawn(rq);
  CHECK(r.error == EACCES);
  CHECK(exec_failure_exit_code(r.error) == 126);

  rq.argv = {dir.path()};  // a directory
  r = spawn(rq);
  CHECK(r.error == EACCES);

  // Found in PATH but not executable, and not found elsewhere: EACCES like execvp.
  rq.argv = {"notexec"};
  rq.path_env = "/nonexistent:" + dir.path();
  r = spawn(rq);
  CHECK(r.error == EACCES);
}

TEST_CASE("new_group puts the child in its own process group", "[spawn]") {
  SpawnRequest rq;
  rq.argv = {crashwrap::test::test_program("testapp"), "pgid", "pid"};
  rq.new_group = true;
  auto [status, out] = run_to_end(rq);
  CHECK(WEXITSTATUS(status) == 0);
  // "pgid N\npid N\n" with the same N.
  auto pg = out.substr(5, out.find('\n') - 5);
  CHECK(out == "pgid " + pg + "\npid " + pg + "\n");
  CHECK(std::to_string(::getpgrp()) != pg);
}
