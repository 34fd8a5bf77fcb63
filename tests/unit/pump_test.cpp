#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/diag.h"
#include "agent/pump.h"
#include "support/process.h"

using crashwrap::agent::OutputWriter;
using crashwrap::agent::Pump;
using crashwrap::parsers::Stream;
using crashwrap::parsers::Timestamp;
using namespace std::chrono_literals;

namespace {

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  void close_read() { ::close(r), r = -1; }
  void close_write() { ::close(w), w = -1; }
};

std::string read_available(int fd) {
  std::string s;
  char buf[65536];
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  ::fcntl(fd, F_SETFL, flags);
  return s;
}

// crashwrap ignores SIGPIPE (Supervisor::install); so does this test process.
const bool sigpipe_ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

}  // namespace

TEST_CASE("the output scheme follows the kind of fd, never touching its flags", "[pump]") {
  Pipe p;
  const int before = ::fcntl(p.w, F_GETFL);
  {
    OutputWriter w(p.w);
    CHECK(w.mode() == OutputWriter::Mode::Private);
    CHECK(w.wait_fd() >= 0);
  }
  CHECK(::fcntl(p.w, F_GETFL) == before);  // the inherited description stays blocking

  crashwrap::test::TempDir dir;
  int file = ::open(dir.file("f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  CHECK(OutputWriter(file).mode() == OutputWriter::Mode::Plain);
  ::close(file);
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  CHECK(OutputWriter(null).mode() == OutputWriter::Mode::Plain);
  ::close(null);
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  CHECK(OutputWriter(sv[0]).mode() == OutputWriter::Mode::Socket);
  ::close(sv[0]);
  ::close(sv[1]);
  CHECK(OutputWriter(987).mode() == OutputWriter::Mode::Discard);
}

TEST_CASE("a full output says WouldBlock and keeps the rest", "[pump]") {
  Pipe p;
  OutputWriter w(p.w);
  const std::string big(1 << 20, 'x');  // more than a pipe holds
  std::string_view data = big;
  CHECK(w.write(data) == OutputWriter::Result::WouldBlock);
  const std::size_t written = big.size() - data.size();
  CHECK(written > 0);
  CHECK(read_available(p.r).size() == written);
  CHECK(w.write(data) != OutputWriter::Result::Closed);
}

TEST_CASE("a closed reader makes the output closed for good", "[pump]") {
  REQUIRE(sigpipe_ignored);
  Pipe p;
  OutputWriter w(p.w);
  p.close_read();
  std::string_view data = "hello";
  CHECK(w.write(data) == OutputWriter::Result::Closed);
  CHECK(w.closed());
  data = "again";
  CHECK(w.write(data) == OutputWriter::Result::Closed);
}

TEST_CASE("the pump copies every byte, hands each chunk to analysis and ends at EOF", "[pump]") {
  boost::asio::io_context io;
  Pipe child, own;
  std::string analysed;
  bool finished = false;
  Pump pump(
      io, Stream::Stdout, child.r, own.w,
      [&](std::string_view bytes, Timestamp) { analysed.append(bytes); },
      [&] { finished = true; });
  child.r = -1;  // owned by the pump now
  pump.start();
  std::string sent;
  for (int i = 0; i < 100; ++i) sent += "line " + std::to_string(i) + "\n";
  REQUIRE(::write(child.w, sent.data(), sent.size()) == static_cast<ssize_t>(sent.size()));
  child.close_write();
  io.run_for(5s);
  CHECK(finished);
  CHECK(pump.bytes_read() == sent.size());
  CHECK(analysed == sent);
  CHECK(read_available(own.r) == sent);
}

TEST_CASE("with its reader gone the pump keeps draining, drops, and says so once", "[pump]") {
  crashwrap::test::TempDir dir;
  const std::string log = dir.file("diag");
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  crashwrap::agent::diag::set_output_fd(fd);
  boost::asio::io_context io;
  Pipe child, own;
  own.close_read();
  std::size_t analysed = 0;
  Pump pump(
      io, Stream::Stderr, child.r, own.w, [&](std::string_view b, Timestamp) { analysed += b.size(); },
      [] {});
  child.r = -1;
  pump.start();
  const std::string chunk(10000, 'y');
  for (int i = 0; i < 5; ++i) REQUIRE(::write(child.w, chunk.data(), chunk.size()) == 10000);
  child.close_write();
  io.run_for(5s);
  crashwrap::agent::diag::set_output_fd(2);
  ::close(fd);
  CHECK(pump.finished());
  CHECK(analysed == 50000);
  CHECK(pump.bytes_dropped() == 50000);
  const std::string text = crashwrap::test::read_file(log);
  CHECK(text.find("own stderr was closed by its reader") != std::string::npos);
  CHECK(text.find('\n') == text.size() - 1);  // one line
}

TEST_CASE("after the drain grace the pump copies what is buffered and stops", "[pump]") {
  boost::asio::io_context io;
  Pipe child, own;
  Pump pump(io, Stream::Stdout, child.r, own.w, [](std::string_view, Timestamp) {}, [] {});
  child.r = -1;
  pump.start();
  // A grandchild keeps the write end open: no EOF will come.
  REQUIRE(::write(child.w, "before\n", 7) == 7);
  io.run_for(50ms);
  pump.child_exited(100ms);
  REQUIRE(::write(child.w, "during\n", 7) == 7);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(3s);
  CHECK(pump.finished());
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(read_available(own.r) == "before\nduring\n");
}

TEST_CASE("an output that refuses splice (an O_APPEND file) falls back to write, byte-exact",
          "[pump]") {
  crashwrap::test::TempDir dir;
  const std::string path = dir.file("appended");
  crashwrap::test::write_file(path, "existing\n");
  int out = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  REQUIRE(out >= 0);
  boost::asio::io_context io;
  Pipe child;
  std::string analysed;
  Pump pump(io, Stream::Stdout, child.r, out,
            [&](std::string_view b, Timestamp) { analysed.append(b); }, [] {});
  child.r = -1;
  pump.start();
  std::string sent;
  for (int i = 0; i < 2000; ++i) sent += "appended line " + std::to_string(i) + "\n";
  REQUIRE(::write(child.w, sent.data(), sent.size()) == static_cast<ssize_t>(sent.size()));
  child.close_write();
  io.run_for(5s);
  ::close(out);
  CHECK(pump.finished());
  CHECK(analysed == sent);
  CHECK(crashwrap::test::read_file(path) == "existing\n" + sent);
}
