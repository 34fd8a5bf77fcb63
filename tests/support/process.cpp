#include "support/process.h"

#include "support/paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace crashwrap::test {

using namespace std::chrono_literals;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/crashwrap-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (!path_.empty()) remove_tree(path_);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

bool write_file(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return off == data.size();
}

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}
}  // namespace

void remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(2ms);
  }
}

std::vector<int> inheritable_fds() {
  std::vector<int> fds;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  const int self = ::dirfd(d);
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd == self) continue;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) fds.push_back(fd);
  }
  ::closedir(d);
  std::sort(fds.begin(), fds.end());
  return fds;
}

std::string fds_line(const std::vector<int>& fds) {
  std::string line = "fds";
  for (int fd : fds) line += " " + std::to_string(fd);
  return line + "\n";
}

bool exited(int status) { return WIFEXITED(status); }
int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
int term_signal(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }

namespace {

std::vector<std::string> build_env(const ProcessOptions& o) {
  std::vector<std::string> env;
  if (o.inherit_env) {
    for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  }
  auto erase_name = [&env](const std::string& name) {
    for (auto it = env.begin(); it != env.end();) {
      if (it->compare(0, name.size(), name) == 0 && it->size() > name.size() &&
          (*it)[name.size()] == '=') {
        it = env.erase(it);
      } else {
        ++it;
      }
    }
  };
  for (const auto& name : o.env_unset) erase_name(name);
  for (const auto& [k, v] : o.env_set) {
    erase_name(k);
    env.push_back(k + "=" + v);
  }
  return env;
}

std::vector<char*> c_array(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Sets up fd `target` (1 or 2) of the child; for Pipe, `ends` receives both pipe ends.
void setup_output(posix_spawn_file_actions_t* fa, Output mode, int given, int target,
                  const std::string& capture_path, int ends[2]) {
  switch (mode) {
    case Output::Capture:
      posix_spawn_file_actions_addopen(fa, target, capture_path.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
      return;
    case Output::Pipe:
      if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
      posix_spawn_file_actions_adddup2(fa, ends[1], target);
      return;
    case Output::DevNull:
      posix_spawn_file_actions_addopen(fa, target, "/dev/null", O_WRONLY, 0);
      return;
    case Output::Inherit:
      return;
    case Output::Fd:
      posix_spawn_file_actions_adddup2(fa, given, target);
      return;
  }
}

}  // namespace

Process Process::start(const ProcessOptions& o) {
  if (o.argv.empty()) throw std::runtime_error("Process::start: empty argv");
  Process p;
  p.own_group_ = o.own_group;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (o.own_group) flags |= POSIX_SPAWN_SETPGROUP;
  posix_spawnattr_setflags(&attr, flags);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  int in_child_end = -1;
  switch (o.stdin_mode) {
    case Input::DevNull:
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
      break;
    case Input::Data: {
      std::string f = p.dir_.file("stdin");
      write_file(f, o.stdin_data);
      posix_spawn_file_actions_addopen(&fa, 0, f.c_str(), O_RDONLY, 0);
      break;
    }
    case Input::Pipe: {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
      posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
      in_child_end = fds[0];
      p.in_pipe_ = fds[1];
      break;
    }
    case Input::Inherit:
      break;
    case Input::Fd:
      posix_spawn_file_actions_adddup2(&fa, o.stdin_fd, 0);
      break;
  }
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  setup_output(&fa, o.stdout_mode, o.stdout_fd, 1, p.dir_.file("stdout"), out);
  setup_output(&fa, o.stderr_mode, o.stderr_fd, 2, p.dir_.file("stderr"), err);
  p.out_capture_ = o.stdout_mode == Output::Capture;
  p.err_capture_ = o.stderr_mode == Output::Capture;
  if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, o.cwd.c_str());

  std::vector<std::string> argv_s = o.argv;
  std::vector<std::string> env_s = build_env(o);
  std::vector<char*> argv = c_array(argv_s);
  std::vector<char*> envp = c_array(env_s);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (in_child_end >= 0) ::close(in_child_end);
  if (out[1] >= 0) ::close(out[1]);
  if (err[1] >= 0) ::close(err[1]);
  p.out_pipe_ = out[0];
  p.err_pipe_ = err[0];
  if (rc != 0) {
    throw std::runtime_error("cannot start '" + o.argv[0] + "': " + std::strerror(rc));
  }
  p.pid_ = pid;
  return p;
}

Process::Process(Process&& o) noexcept
    : pid_(o.pid_),
      reaped_(o.reaped_),
      status_(o.status_),
      own_group_(o.own_group_),
      dir_(std::move(o.dir_)),
      out_pipe_(o.out_pipe_),
      err_pipe_(o.err_pipe_),
      in_pipe_(o.in_pipe_),
      out_buf_(std::move(o.out_buf_)),
      err_buf_(std::move(o.err_buf_)),
      out_capture_(o.out_capture_),
      err_capture_(o.err_capture_) {
  o.pid_ = -1;
  o.out_pipe_ = o.err_pipe_ = o.in_pipe_ = -1;
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    if (own_group_) ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  // Descendants that left the group stay the test's concern; ours are gone.
  if (pid_ > 0 && own_group_) ::kill(-pid_, SIGKILL);
  for (int fd : {out_pipe_, err_pipe_, in_pipe_}) {
    if (fd >= 0) ::close(fd);
  }
}

bool Process::running() {
  if (reaped_ || pid_ <= 0) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = st;
    return false;
  }
  return r == 0;
}

bool Process::send_signal(int signo) { return pid_ > 0 && ::kill(pid_, signo) == 0; }
bool Process::signal_group(int signo) { return pid_ > 0 && own_group_ && ::kill(-pid_, signo) == 0; }

std::optional<int> Process::wait(std::chrono::milliseconds bound) {
  if (pid_ <= 0) return std::nullopt;
  wait_until([this] { return !running(); }, bound);
  if (!reaped_) return std::nullopt;
  return status_;
}

std::optional<int> Process::wait_or_kill(std::chrono::milliseconds bound) {
  auto st = wait(bound);
  if (st) return st;
  if (own_group_) ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  wait(10s);
  return std::nullopt;
}

void Process::drain_pipe(StdStream s) {
  int fd = s == StdStream::Out ? out_pipe_ : err_pipe_;
  std::string& buf = s == StdStream::Out ? out_buf_ : err_buf_;
  if (fd < 0) return;
  char tmp[65536];
  for (;;) {
    struct pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0) return;
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      (s == StdStream::Out ? out_pipe_ : err_pipe_) = -1;
      return;
    }
    buf.append(tmp, static_cast<std::size_t>(n));
  }
}

std::string Process::output(StdStream s) {
  bool capture = s == StdStream::Out ? out_capture_ : err_capture_;
  if (capture) return read_file(dir_.file(s == StdStream::Out ? "stdout" : "stderr"));
  drain_pipe(s);
  return s == StdStream::Out ? out_buf_ : err_buf_;
}

bool Process::wait_for_output(StdStream s, std::string_view needle,
                              std::chrono::milliseconds bound) {
  return wait_until([&] { return output(s).find(needle) != std::string::npos; }, bound);
}

int Process::pipe_fd(StdStream s) const { return s == StdStream::Out ? out_pipe_ : err_pipe_; }

void Process::close_pipe(StdStream s) {
  int& fd = s == StdStream::Out ? out_pipe_ : err_pipe_;
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool Process::write_stdin(std::string_view data) {
  if (in_pipe_ < 0) return false;
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(in_pipe_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

void Process::close_stdin() {
  if (in_pipe_ >= 0) ::close(in_pipe_);
  in_pipe_ = -1;
}

ProcessOptions crashwrap_options(std::vector<std::string> args, const std::string& spool_dir) {
  ProcessOptions o;
  o.argv.push_back(crashwrap_bin());
  for (auto& a : args) o.argv.push_back(std::move(a));
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("CRASHWRAP_", 0) == 0 || entry.rfind("SENTRY_", 0) == 0) {
      o.env_unset.emplace_back(entry.substr(0, entry.find('=')));
    }
  }
  o.env_set.emplace_back("CRASHWRAP_SPOOL", spool_dir);
  return o;
}

RunResult run(const ProcessOptions& options, std::chrono::milliseconds bound) {
  Process p = Process::start(options);
  RunResult r;
  r.status = p.wait_or_kill(bound);
  if (options.stdout_mode == Output::Capture) r.out = p.output(StdStream::Out);
  if (options.stderr_mode == Output::Capture) r.err = p.output(StdStream::Err);
  return r;
}

RunResult run(std::vector<std::string> argv, std::chrono::milliseconds bound,
              std::vector<std::pair<std::string, std::string>> env_set, std::string stdin_data) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.env_set = std::move(env_set);
  if (!stdin_data.empty()) {
    o.stdin_mode = Input::Data;
    o.stdin_data = std::move(stdin_data);
  }
  return run(o, bound);
}

}  // namespace crashwrap::test
