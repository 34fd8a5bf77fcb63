#include "agent/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

namespace crashwrap::agent {

std::vector<std::string> exec_candidates(std::string_view name, std::string_view path_env) {
  if (name.empty()) return {};
  if (name.find('/') != std::string_view::npos) return {std::string(name)};
  if (path_env.empty()) path_env = "/bin:/usr/bin";
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = path_env.find(':', start);
    std::string_view dir = path_env.substr(start, end == std::string_view::npos ? end : end - start);
    std::string file = dir.empty() ? std::string() : std::string(dir) + "/";
    file += name;
    out.push_back(std::move(file));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::optional<std::string> resolve_command(std::string_view name, std::string_view path_env) {
  for (auto& file : exec_candidates(name, path_env)) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(file.c_str(), X_OK) == 0) {
      return file;
    }
  }
  return std::nullopt;
}

int exec_failure_exit_code(int error) noexcept { return error == ENOENT ? 127 : 126; }

namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// In the child, before exec: async-signal-safe calls only.
void reset_signals() {
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(s, &sa, nullptr);  // fails harmlessly for glibc-reserved signals
  }
}

// In the child: tries every candidate like execvp; returns the errno to report.
int exec_like_execvp(char* const* argv, char* const* envp, char** sh_argv,
                     const std::vector<char*>& files) {
  int err = ENOENT;
  bool denied = false;
  for (std::size_t i = 0; i + 1 < files.size(); ++i) {
    ::execve(files[i], argv, envp);
    err = errno;
    if (err == ENOEXEC) {
      // A script without "#!": run it with /bin/sh, as execvp does.
      sh_argv[1] = files[i];
      ::execve("/bin/sh", sh_argv, envp);
      err = errno;
    }
    if (err == EACCES) {
      denied = true;
    } else if (err != ENOENT && err != ENOTDIR && err != ESTALE && err != ENODEV &&
               err != ETIMEDOUT) {
      return err;
    }
  }
  return denied ? EACCES : err;
}

// Everything the child needs, built before clone(); the child reads it and
// writes only `error`, which the parent reads once the child has exec'd or died
// (CLONE_VFORK suspends the parent until then; CLONE_VM shares this memory).
struct ChildArgs {
  const SpawnRequest* rq;
  char* const* argv;
  char* const* envp;
  char** sh_argv;
  const std::vector<char*>* files;
  int error = 0;
};

// In the child, on its own stack, in crashwrap's memory: async-signal-safe calls only.
int child_side(void* p) {
  auto& a = *static_cast<ChildArgs*>(p);
  const SpawnRequest& rq = *a.rq;
  reset_signals();
  if (rq.new_group) {
    ::setpgid(0, 0);
    // Signals are still blocked here, so a background tcsetpgrp cannot stop us.
    if (::isatty(STDIN_FILENO)) ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
  }
  int err = 0;
  if ((rq.stdout_fd >= 0 && ::dup2(rq.stdout_fd, STDOUT_FILENO) < 0) ||
      (rq.stderr_fd >= 0 && ::dup2(rq.stderr_fd, STDERR_FILENO) < 0)) {
    err = errno;
  } else {
    sigset_t empty;
    ::sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    err = exec_like_execvp(a.argv, a.envp, a.sh_argv, *a.files);
  }
  a.error = err != 0 ? err : ENOEXEC;
  ::_exit(127);
}

}  // namespace

SpawnResult spawn(const SpawnRequest& rq) {
  SpawnResult result;
  if (rq.argv.empty()) {
    result.error = ENOENT;
    return result;
  }
  const std::vector<std::string> candidates = exec_candidates(rq.argv[0], rq.path_env);
  std::vector<char*> files = c_strings(candidates);
  std::vector<char*> argv = c_strings(rq.argv);
  std::vector<char*> envp = c_strings(rq.envp);
  // "/bin/sh FILE args…" for a script without "#!", built here, filled in the child.
  std::vector<char*> sh_argv;
  sh_argv.push_back(const_cast<char*>("sh"));
  sh_argv.push_back(nullptr);
  for (std::size_t i = 1; i < rq.argv.size(); ++i) sh_argv.push_back(argv[i]);
  sh_argv.push_back(nullptr);

  // clone(CLONE_VM | CLONE_VFORK) as posix_spawn does: no copy of crashwrap's
  // page tables and no copy-on-write faults (fork cost about a fifth of the
  // start-up), and the exec's outcome arrives through shared memory. The child
  // runs on a stack of its own, so it cannot disturb the parent's frames.
  ChildArgs args{&rq, argv.data(), envp.data(), sh_argv.data(), &files};
  constexpr std::size_t kStack = 64 * 1024;
  alignas(16) unsigned char stack[kStack];  // below our frame; we are suspended while it is used
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(child_side, stack + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_errno = errno;
  if (pid > 0 && rq.new_group) ::setpgid(pid, pid);  // both sides, so no race on who is first
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    result.error = clone_errno;
    return result;
  }
  if (args.error != 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.error = args.error;
    return result;
  }
  result.pid = pid;
  return result;
}

}  // namespace crashwrap::agent
