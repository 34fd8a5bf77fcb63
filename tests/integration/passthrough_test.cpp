// Contract 1: every byte the child writes reaches crashwrap's own stdout/stderr
// unchanged and in order per stream, with backpressure, whatever the output is.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

// The byte generator of testapp's outbytes/errbytes/bothbytes (seed 1 = stdout, 2 = stderr).
struct Generator {
  std::uint64_t s;
  unsigned char next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<unsigned char>(s >> 24);
  }
};

struct Digest {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  std::uint64_t size = 0;
  void add(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 1099511628211ull;
    }
    size += n;
  }
  bool operator==(const Digest& o) const { return h == o.h && size == o.size; }
};

Digest expected_digest(std::uint64_t seed, std::uint64_t n) {
  Generator g{seed};
  Digest d;
  char buf[65536];
  while (n > 0) {
    std::size_t k = n < sizeof buf ? n : sizeof buf;
    for (std::size_t i = 0; i < k; ++i) buf[i] = static_cast<char>(g.next());
    d.add(buf, k);
    n -= k;
  }
  return d;
}

Digest file_digest(const std::string& path) {
  Digest d;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return d;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) d.add(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return d;
}

// Reads both pipes of `p` until EOF on both (or the bound), hashing each.
bool drain_pipes(Process& p, Digest& out, Digest& err, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  int fds[2] = {p.pipe_fd(StdStream::Out), p.pipe_fd(StdStream::Err)};
  Digest* digests[2] = {&out, &err};
  char buf[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    if (::poll(pfd, 2, 100) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || pfd[i].revents == 0) continue;
      ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n > 0) {
        digests[i]->add(buf, static_cast<std::size_t>(n));
      } else if (n == 0) {
        fds[i] = -1;
      }
    }
  }
  return true;
}

std::string numbered_lines(const char* stream, int n) {
  std::string s;
  char line[64];
  for (int i = 1; i <= n; ++i) {
    std::snprintf(line, sizeof line, "%s %08d\n", stream, i);
    s += line;
  }
  return s;
}

std::string testapp() { return test_program("testapp"); }

}  // namespace

TEST_CASE("100 MB on each stream pass through pipes byte-exactly", "[passthrough][slow]") {
  TempDir dir;
  const std::uint64_t n = 100'000'000;
  auto o = crashwrap_options({"--", testapp(), "bothbytes", std::to_string(n)}, dir.file("spool"));
  o.stdout_mode = Output::Pipe;
  o.stderr_mode = Output::Pipe;
  Process p = Process::start(o);
  Digest out, err;
  REQUIRE(drain_pipes(p, out, err, 120s));
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
  CHECK(out.size == n);
  CHECK(err.size == n);
  CHECK(out == expected_digest(1, n));
  CHECK(err == expected_digest(2, n));
}

TEST_CASE("100 MB on each stream pass through to regular files byte-exactly",
          "[passthrough][slow]") {
  TempDir dir;
  const std::uint64_t n = 100'000'000;
  auto o = crashwrap_options({"--", testapp(), "bothbytes", std::to_string(n)}, dir.file("spool"));
  Process p = Process::start(o);
  auto status = p.wait_or_kill(120s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
  CHECK(file_digest(p.temp_dir() + "/stdout") == expected_digest(1, n));
  CHECK(file_digest(p.temp_dir() + "/stderr") == expected_digest(2, n));
}

TEST_CASE("output appended to a file (>>) keeps what was there and gets every byte",
          "[passthrough]") {
  TempDir dir;
  const std::string path = dir.file("log");
  write_file(path, "earlier\n");
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const std::uint64_t n = 3'000'000;
  auto o = crashwrap_options({"--", testapp(), "outbytes", std::to_string(n)}, dir.file("spool"));
  o.stdout_mode = Output::Fd;
  o.stdout_fd = fd;
  RunResult r = run(o, 60s);
  ::close(fd);
  REQUIRE(r.exit_code() == 0);
  Digest expected;
  expected.add("earlier\n", 8);
  Generator g{1};
  for (std::uint64_t i = 0; i < n; ++i) {
    const char c = static_cast<char>(g.next());
    expected.add(&c, 1);
  }
  CHECK(file_digest(path) == expected);
}

TEST_CASE("lines keep their order per stream", "[passthrough]") {
  TempDir dir;
  RunResult r = run(crashwrap_options({"--", testapp(), "bothlines", "50000"}, dir.file("spool")), 60s);
  REQUIRE(r.exit_code() == 0);
  CHECK(r.out == numbered_lines("stdout", 50000));
  CHECK(r.err == numbered_lines("stderr", 50000));
}

TEST_CASE("binary, invalid UTF-8, CRs and a missing final newline pass unchanged",
          "[passthrough]") {
  TempDir dir;
  RunResult r = run(crashwrap_options({"--", testapp(), "binary", "out", "\\xc3\\x28 \\xff\\r", "outn",
                                       "no newline", "errn", "\\x00tail"},
                                      dir.file("spool")),
                    20s);
  REQUIRE(r.exit_code() == 0);
  std::string expected;
  for (int i = 0; i < 256; ++i) expected += static_cast<char>(i);
  expected += "\xc3\x28 \xff\r\nno newline";
  CHECK(r.out == expected);
  CHECK(r.err == std::string("\0tail", 5));
}

TEST_CASE("stdin and other inherited fds reach the child unchanged", "[passthrough]") {
  TempDir dir;
  auto o = crashwrap_options({"--", testapp(), "echo", "fds"}, dir.file("spool"));
  o.stdin_mode = Input::Data;
  o.stdin_data = "from stdin\n";
  RunResult r = run(o, 20s);
  REQUIRE(r.exit_code() == 0);
  // crashwrap's own fds (pipes, epoll, spool files) are close-on-exec.
  CHECK(r.out == "from stdin\n" + fds_line(inheritable_fds()));
}

TEST_CASE("output to /dev/null works and the exit code still comes through", "[passthrough]") {
  TempDir dir;
  auto o = crashwrap_options({"--", testapp(), "outbytes", "5000000", "errbytes", "1000", "exit", "4"},
                             dir.file("spool"));
  o.stdout_mode = Output::DevNull;
  o.stderr_mode = Output::DevNull;
  RunResult r = run(o, 30s);
  CHECK(r.exit_code() == 4);
}

TEST_CASE("a terminal as crashwrap's stdout gets every byte", "[passthrough][tty]") {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    WARN("no pseudo-terminal available: skipping the tty passthrough test");
    if (master >= 0) ::close(master);
    return;
  }
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  REQUIRE(slave >= 0);
  struct termios t {};
  ::tcgetattr(slave, &t);
  ::cfmakeraw(&t);  // no LF → CRLF translation: compare bytes
  ::tcsetattr(slave, TCSANOW, &t);
  TempDir dir;
  auto o = crashwrap_options({"--", testapp(), "outlines", "20000"}, dir.file("spool"));
  o.stdout_mode = Output::Fd;
  o.stdout_fd = slave;
  Process p = Process::start(o);
  ::close(slave);
  const std::string expected = numbered_lines("stdout", 20000);
  std::string got;
  char buf[4096];
  wait_until(
      [&] {
        struct pollfd pfd {master, POLLIN, 0};
        while (::poll(&pfd, 1, 10) > 0) {
          ssize_t n = ::read(master, buf, sizeof buf);
          if (n <= 0) return true;  // EIO: every slave fd closed
          got.append(buf, static_cast<std::size_t>(n));
        }
        return got.size() >= expected.size();
      },
      30s);
  auto status = p.wait_or_kill(10s);
  ::close(master);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);
  CHECK(got == expected);
}

TEST_CASE("a reader that closes crashwrap's stdout early never blocks the child",
          "[passthrough]") {
  TempDir dir;
  auto o = crashwrap_options(
      {"--", testapp(), "outbytes", "20000000", "err", "child done", "exit", "0"}, dir.file("spool"));
  o.stdout_mode = Output::Pipe;
  Process p = Process::start(o);
  // Read a little, then go away like `| head -c 1000`.
  std::string first;
  REQUIRE(wait_until(
      [&] {
        char buf[1000];
        ssize_t n = ::read(p.pipe_fd(StdStream::Out), buf, sizeof buf);
        if (n > 0) first.append(buf, static_cast<std::size_t>(n));
        return first.size() >= 1000;
      },
      10s));
  p.close_pipe(StdStream::Out);
  auto status = p.wait_or_kill(30s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 0);  // the child was drained to its end
  CHECK(p.output(StdStream::Err) ==
        "crashwrap: warning: own stdout was closed by its reader; the child's output is still "
        "drained and analysed \xe2\x80\x94 keep the reader of crashwrap's output open to see it\n"
        "child done\n");
}

TEST_CASE("a slow reader blocks the child, not crashwrap: memory stays bounded and signals "
          "are still forwarded",
          "[passthrough]") {
  TempDir dir;
  auto o = crashwrap_options({"--", testapp(), "pid", "outbytes", "50000000"}, dir.file("spool"));
  o.stdout_mode = Output::Pipe;
  Process p = Process::start(o);
  std::string head;
  REQUIRE(wait_until(
      [&] {
        char c;
        if (::read(p.pipe_fd(StdStream::Out), &c, 1) == 1) head += c;
        return !head.empty() && head.back() == '\n';
      },
      10s));
  const pid_t child = std::stoi(head.substr(4));
  // Nobody reads now: the pipes fill up and the child blocks in write().
  const std::string status_path = "/proc/" + std::to_string(p.pid()) + "/status";
  auto rss_kib = [&] {
    std::string s = read_file(status_path);
    auto at = s.find("VmRSS:");
    return at == std::string::npos ? 0L : std::atol(s.c_str() + at + 6);
  };
  const std::string wchan = "/proc/" + std::to_string(child) + "/wchan";
  CHECK(wait_until([&] { return read_file(wchan).find("pipe_write") != std::string::npos; }, 10s));
#if !defined(__SANITIZE_ADDRESS__)  // the sanitizer's shadow memory is not crashwrap's
  CHECK(rss_kib() < 16 * 1024);
#endif
  REQUIRE(p.send_signal(SIGTERM));
  // The child dies of the forwarded SIGTERM while crashwrap's own output is blocked.
  CHECK(wait_until([&] { return ::kill(child, 0) != 0; }, 10s));
  Digest out, err;
  REQUIRE(drain_pipes(p, out, err, 30s));
  auto status = p.wait_or_kill(10s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGTERM);
}

TEST_CASE("the child gets the environment hints", "[passthrough][env]") {
  TempDir dir;
  auto o = crashwrap_options({"--", testapp(), "env", "PYTHONUNBUFFERED", "env", "CRASHWRAP_DSN",
                              "env", "_STDBUF_O", "env", "KEEP"},
                             dir.file("spool"));
  o.env_set.emplace_back("CRASHWRAP_DSN", "http://key@127.0.0.1:9/1");
  o.env_set.emplace_back("KEEP", "yes");
  o.env_unset.insert(o.env_unset.end(), {"PYTHONUNBUFFERED", "_STDBUF_O", "LD_PRELOAD"});
  RunResult r = run(o, 20s);
  REQUIRE(r.exit_code() == 0);
  const bool stdbuf = ::access("/usr/libexec/coreutils/libstdbuf.so", R_OK) == 0 ||
                      ::access("/usr/lib/coreutils/libstdbuf.so", R_OK) == 0 ||
                      ::access("/usr/lib/x86_64-linux-gnu/coreutils/libstdbuf.so", R_OK) == 0;
  CHECK(r.out == std::string("PYTHONUNBUFFERED=1\nCRASHWRAP_DSN unset\n") +
                     (stdbuf ? "_STDBUF_O=L\n" : "_STDBUF_O unset\n") + "KEEP=yes\n");

  o.argv.insert(o.argv.begin() + 1, "--no-env-hints");
  r = run(o, 20s);
  CHECK(r.out == "PYTHONUNBUFFERED unset\nCRASHWRAP_DSN unset\n_STDBUF_O unset\nKEEP=yes\n");
}
