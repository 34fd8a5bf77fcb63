// Starting the child: clone(CLONE_VM | CLONE_VFORK) → exec, as posix_spawn does,
// nothing else. Everything the child needs (argv, envp, the candidate paths of a
// PATH lookup) is built before the clone; between clone and exec the child calls
// only async-signal-safe functions and writes nothing of ours but the exec error.
//
// The child gets: the given stdout/stderr pipe ends on fds 1 and 2, every other
// inherited fd unchanged (crashwrap's own fds are close-on-exec), an empty signal
// mask and default dispositions, and with `new_group` its own process group
// (plus the terminal's foreground when stdin is a tty, as tini does).
// An exec failure travels back through the shared memory: the caller learns the
// errno and maps it with exec_failure_exit_code (127 not found, 126 otherwise).
// Main thread only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crashwrap::agent {

struct SpawnRequest {
  std::vector<std::string> argv;      // argv[0] is looked up in PATH unless it has a '/'
  std::vector<std::string> envp;      // the child's whole environment, "NAME=value"
  std::string path_env;               // PATH used for the lookup (crashwrap's own, like execvp)
  int stdout_fd = -1;                 // becomes the child's fd 1 (-1 = inherit)
  int stderr_fd = -1;                 // becomes the child's fd 2 (-1 = inherit)
  bool new_group = false;             // setpgid(0, 0); foreground of stdin's terminal
};

struct SpawnResult {
  pid_t pid = -1;                     // > 0 when the child runs the program
  int error = 0;                      // errno of the failed exec (or clone), 0 on success
};

// Blocks all signals around the clone so no handler of crashwrap runs in the child
// before the dispositions are reset. Never throws (std::bad_alloc aside).
SpawnResult spawn(const SpawnRequest& request);

// The files execvp would try for `name`, in order: `name` itself when it has a
// '/', else each PATH entry joined with it (an empty entry is the current
// directory; PATH unset or empty means "/bin:/usr/bin" as in glibc).
std::vector<std::string> exec_candidates(std::string_view name, std::string_view path_env);

// The file execvp would run for `name` (first candidate that exists as an
// executable regular file); nullopt when none.
std::optional<std::string> resolve_command(std::string_view name, std::string_view path_env);

// Shell conventions: 127 when the program was not found (ENOENT), 126 otherwise
// (not executable, a directory, …).
int exec_failure_exit_code(int error) noexcept;

}  // namespace crashwrap::agent
