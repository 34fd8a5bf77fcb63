// Running real processes from tests: the crashwrap binary, the helper programs
// (tests/support/prog_*.c) or any command, with a controlled environment and
// stdin, stdout/stderr captured to files (default) or handed over as fds,
// signals sent on demand, and every wait bounded in time.
//
// Typical use:
//   TempDir dir;
//   ProcessOptions o;
//   o.argv = {crashwrap_bin(), "--", test_program("testapp"), "exit", "3"};
//   o.env_set = {{"CRASHWRAP_SPOOL", dir.path() + "/spool"}};
//   RunResult r = run(o, 10s);          // start, wait (bounded), collect output
//   CHECK(r.exit_code() == 3);
//   CHECK(r.err == "…");
//
// Or, to interact with a running process:
//   Process p = Process::start(o);
//   REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 5s));
//   p.send_signal(SIGTERM);
//   std::optional<int> status = p.wait(5s);   // raw wait status, nullopt on timeout
//
// Guarantees:
// - Every process is started in its own process group (unless own_group is
//   false); the destructor SIGKILLs that group and reaps the process, so a
//   failing test never leaves processes behind.
// - Captured output lives in a private temp dir removed by the destructor.
// - The child starts with default signal dispositions and an empty signal
//   mask, whatever the test runner had.
// - Nothing here throws except start() on a failure to even create the process
//   (a test setup error), with a message naming the command.
// Single-threaded test code only (not thread-safe).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crashwrap::test {

// A private directory under $TMPDIR (or /tmp), removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Whole file as bytes; "" when it cannot be read.
std::string read_file(const std::string& path);
// Writes (truncates) a file; returns false on failure.
bool write_file(const std::string& path, std::string_view data);
// Recursive remove (like rm -rf); missing paths are fine.
void remove_tree(const std::string& path);

// Polls `condition` every few milliseconds until it is true or `bound` passes.
// Returns the last value of the condition. The tests' one way to wait.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds bound);

// The fds of this process that a child would inherit (open, not close-on-exec),
// sorted. With the testapp's "fds" command: "fds" + " N" for each.
std::vector<int> inheritable_fds();
std::string fds_line(const std::vector<int>& fds);   // "fds 0 1 2\n"

// Decoding a raw wait status.
bool exited(int status);
int exit_code(int status);      // -1 when the process did not exit normally
int term_signal(int status);    // 0 when it was not killed by a signal

enum class StdStream { Out, Err };

enum class Output {
  Capture,  // to a file in the process's temp dir; read with Process::output()
  Pipe,     // a pipe; the test reads Process::pipe_fd(stream) (read end, O_CLOEXEC)
  DevNull,
  Inherit,  // the test runner's own fd
  Fd,       // the fd given in ProcessOptions::stdout_fd / stderr_fd (dup'ed, caller keeps it)
};

enum class Input {
  DevNull,  // default
  Data,     // stdin_data, through a file (the process sees EOF after it)
  Pipe,     // a pipe; write with Process::write_stdin(), close with close_stdin()
  Inherit,
  Fd,       // the fd given in ProcessOptions::stdin_fd (dup'ed, caller keeps it)
};

struct ProcessOptions {
  std::vector<std::string> argv;                             // argv[0] is looked up in PATH
  bool inherit_env = true;                                   // start from the runner's environment
  std::vector<std::pair<std::string, std::string>> env_set;  // then set these
  std::vector<std::string> env_unset;                        // and remove these
  std::string cwd;                                           // "" = unchanged
  Input stdin_mode = Input::DevNull;
  std::string stdin_data;
  int stdin_fd = -1;
  Output stdout_mode = Output::Capture;
  Output stderr_mode = Output::Capture;
  int stdout_fd = -1;
  int stderr_fd = -1;
  bool own_group = true;   // setpgid(0,0) in the child; cleanup kills the whole group
};

class Process {
 public:
  static Process start(const ProcessOptions& options);  // throws std::runtime_error on spawn failure
  ~Process();
  Process(Process&&) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();                            // not yet reaped (reaps if it just ended)
  bool send_signal(int signo);               // to the process (not its group)
  bool signal_group(int signo);              // to its process group (own_group only)

  // Waits up to `bound` for the process to end; the raw wait status, or
  // nullopt on timeout (the process is left running). Repeatable.
  std::optional<int> wait(std::chrono::milliseconds bound);
  // Like wait(), but on timeout SIGKILLs the group, reaps, and returns nullopt.
  std::optional<int> wait_or_kill(std::chrono::milliseconds bound);

  // Captured output so far (Output::Capture), or what was read so far from a
  // Pipe stream (drains what is available without blocking).
  std::string output(StdStream s);
  // Waits until output(s) contains `needle`; false after `bound`.
  bool wait_for_output(StdStream s, std::string_view needle, std::chrono::milliseconds bound);
  int pipe_fd(StdStream s) const;            // read end for Output::Pipe, else -1
  void close_pipe(StdStream s);              // closes that read end (a reader that went away)

  bool write_stdin(std::string_view data);   // Input::Pipe only; blocking write
  void close_stdin();

  const std::string& temp_dir() const { return dir_.path(); }

 private:
  Process() = default;
  void drain_pipe(StdStream s);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  bool own_group_ = true;
  TempDir dir_;
  int out_pipe_ = -1, err_pipe_ = -1, in_pipe_ = -1;
  std::string out_buf_, err_buf_;
  bool out_capture_ = false, err_capture_ = false;
};

// Options to run the crashwrap binary with `args` (options, "--", command…):
// CRASHWRAP_SPOOL=spool_dir, and every CRASHWRAP_* / SENTRY_* variable of the
// test runner removed, so no DSN or configuration leaks into the test.
ProcessOptions crashwrap_options(std::vector<std::string> args, const std::string& spool_dir);

struct RunResult {
  std::optional<int> status;  // nullopt = timed out (the process was killed)
  std::string out, err;       // captured stdout / stderr
  bool timed_out() const { return !status.has_value(); }
  int exit_code() const { return status ? test::exit_code(*status) : -1; }
  int term_signal() const { return status ? test::term_signal(*status) : 0; }
};

// Start, wait up to `bound` (SIGKILL on timeout), collect captured output.
// Output modes other than Capture leave out/err empty.
RunResult run(const ProcessOptions& options, std::chrono::milliseconds bound);
// Shorthand: argv, env overrides, stdin data.
RunResult run(std::vector<std::string> argv, std::chrono::milliseconds bound,
              std::vector<std::pair<std::string, std::string>> env_set = {},
              std::string stdin_data = {});

}  // namespace crashwrap::test
