#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "sinks/source_context.h"
#include "support/process.h"

using namespace crashwrap;
using parsers::Frame;

namespace {

Frame frame(std::string path, std::uint32_t lineno) {
  Frame f;
  f.function = "fn";
  f.abs_path = std::move(path);
  f.lineno = lineno;
  return f;
}

std::string numbered(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

std::size_t fill(std::vector<Frame> frames, std::vector<Frame>& out, const sinks::SourceLimits& limits = {}) {
  std::vector<parsers::Exception> ex(1);
  ex[0].stacktrace.frames = std::move(frames);
  std::vector<parsers::Thread> threads;
  std::size_t n = sinks::add_source_context(ex, threads, limits);
  out = ex[0].stacktrace.frames;
  return n;
}

}  // namespace

TEST_CASE("platforms that get source context", "[source_context]") {
  for (const char* p : {"python", "node", "javascript", "ruby", "php", "perl"}) CHECK(sinks::wants_source_context(p));
  for (const char* p : {"native", "go", "java", "csharp", ""}) CHECK_FALSE(sinks::wants_source_context(p));
}

TEST_CASE("five lines each side, clipped at the file's ends", "[source_context]") {
  test::TempDir dir;
  std::string path = dir.file("app.py");
  REQUIRE(test::write_file(path, numbered(20)));
  std::vector<Frame> out;
  CHECK(fill({frame(path, 10), frame(path, 2), frame(path, 20)}, out) == 3);
  CHECK(out[0].pre_context == std::vector<std::string>{"line 5", "line 6", "line 7", "line 8", "line 9"});
  CHECK(out[0].context_line == "line 10");
  CHECK(out[0].post_context == std::vector<std::string>{"line 11", "line 12", "line 13", "line 14", "line 15"});
  CHECK(out[1].pre_context == std::vector<std::string>{"line 1"});
  CHECK(out[1].context_line == "line 2");
  CHECK(out[1].post_context.size() == 5);
  CHECK(out[2].context_line == "line 20");
  CHECK(out[2].post_context.empty());
}

TEST_CASE("frames that get no context", "[source_context]") {
  test::TempDir dir;
  std::string path = dir.file("app.js");
  REQUIRE(test::write_file(path, numbered(3)));
  std::vector<Frame> out;
  Frame no_line = frame(path, 0);
  no_line.lineno.reset();
  CHECK(fill({frame(path, 4), frame(path, 0), no_line, frame(dir.file("missing.js"), 1), frame("<stdin>", 1),
              frame("node:internal/modules/cjs/loader", 1), frame(dir.path(), 1)},
             out) == 0);
  for (const Frame& f : out) {
    CHECK_FALSE(f.context_line);
    CHECK(f.pre_context.empty());
  }
}

TEST_CASE("file:// paths, relative filename fallback, CRLF and long lines", "[source_context]") {
  test::TempDir dir;
  std::string path = dir.file("x.js");
  REQUIRE(test::write_file(path, "a\r\n" + std::string(5000, 'z') + "\r\nc\xff\r\n"));
  std::vector<Frame> out;
  Frame by_filename;
  by_filename.filename = path;
  by_filename.lineno = 3;
  CHECK(fill({frame("file://" + path, 2), by_filename}, out) == 2);
  CHECK(out[0].pre_context == std::vector<std::string>{"a"});
  CHECK(out[0].context_line->size() == 1000);
  CHECK(out[0].post_context == std::vector<std::string>{"c\xef\xbf\xbd"});
  CHECK(out[1].context_line == "c\xef\xbf\xbd");
}

TEST_CASE("bounds: file size, file count, frame count", "[source_context]") {
  test::TempDir dir;
  std::string big = dir.file("big.py"), a = dir.file("a.py"), b = dir.file("b.py");
  REQUIRE(test::write_file(big, numbered(2000)));
  REQUIRE(test::write_file(a, numbered(5)));
  REQUIRE(test::write_file(b, numbered(5)));
  std::vector<Frame> out;
  sinks::SourceLimits limits;
  limits.max_file_bytes = 1000;
  CHECK(fill({frame(big, 1)}, out, limits) == 0);
  limits = {};
  limits.max_files = 1;
  // Newest frame (last) is served first and uses the only file slot.
  CHECK(fill({frame(a, 1), frame(b, 1), frame(b, 2)}, out, limits) == 2);
  CHECK_FALSE(out[0].context_line);
  limits = {};
  limits.max_frames = 2;
  CHECK(fill({frame(a, 1), frame(a, 2), frame(a, 3)}, out, limits) == 2);
  CHECK_FALSE(out[0].context_line);
  CHECK(out[2].context_line == "line 3");
}

TEST_CASE("a FIFO is never opened for reading", "[source_context]") {
  test::TempDir dir;
  std::string fifo = dir.file("pipe.py");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::vector<Frame> out;
  CHECK(fill({frame(fifo, 1)}, out) == 0);  // returns at once instead of blocking
}

TEST_CASE("a frame that already has context is kept", "[source_context]") {
  test::TempDir dir;
  std::string path = dir.file("app.rb");
  REQUIRE(test::write_file(path, numbered(3)));
  Frame f = frame(path, 2);
  f.context_line = "given";
  std::vector<Frame> out;
  CHECK(fill({f}, out) == 0);
  CHECK(out[0].context_line == "given");
}
