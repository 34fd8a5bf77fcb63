#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parsers/registry.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> run(std::string_view text) {
  std::string error;
  auto reg = Registry::create({"rust"}, error);
  REQUIRE(reg);
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    Line l;
    l.text = text.substr(pos, end - pos);
    l.number = ++n;
    reg->feed(l, out);
    pos = end + 1;
  }
  reg->finish(out);
  return out;
}

const Frame& top(const Exception& e) { return e.stacktrace.frames.back(); }

}  // namespace

TEST_CASE("rust: the pre-1.73 quoted form, on one line and over several", "[rust]") {
  auto out = run(
      "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:5:9\n"
      "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n");
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].exceptions.size() == 1);
  CHECK(out[0].exceptions[0].type == "panic");
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("called `Option::unwrap()` on a `None` value"));
  CHECK(top(out[0].exceptions[0]).abs_path == "src/main.rs");
  CHECK(top(out[0].exceptions[0]).lineno == 5u);
  CHECK(out[0].last_line == 2);

  out = run(
      "thread 'worker-2' panicked at 'assertion failed: `(left == right)`\n"
      "  left: `1`,\n"
      " right: `2`', src/lib.rs:12:5\n"
      "note: Run with `RUST_BACKTRACE=1` for a backtrace.\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("assertion failed: `(left == right)`\n  left: `1`,\n right: `2`"));
  REQUIRE(out[0].threads.size() == 1);
  CHECK(out[0].threads[0].name == "worker-2");
  CHECK(out[0].threads[0].crashed);
  CHECK(top(out[0].exceptions[0]).lineno == 12u);
}

TEST_CASE("rust: symbols lose their hash and crate disambiguators, machinery is trimmed", "[rust]") {
  auto out = run(
      "thread 'main' (4242) panicked at src/main.rs:3:5:\n"
      "boom\n"
      "stack backtrace:\n"
      "   0:     0x55d0 - std[e28293b1aa0f68bd]::panicking::begin_panic::<&str>\n"
      "   1:     0x55d1 - <[f32] as core[c1f1a4ba060b9bfa]::fmt::Debug>::fmt\n"
      "   2:     0x55d2 - app::run::h0123456789abcdef\n"
      "                               at /build/app/src/main.rs:3:5\n"
      "   3:     0x55d3 - app::main::hfedcba9876543210\n"
      "                               at /build/app/src/main.rs:9:5\n"
      "   4:     0x55d4 - main\n"
      "   5:                0x0 - <unknown>\n");
  REQUIRE(out.size() == 1);
  const Exception& e = out[0].exceptions.at(0);
  REQUIRE(e.stacktrace.frames.size() == 4);
  CHECK(e.stacktrace.frames[0].function.empty());  // <unknown>
  CHECK(e.stacktrace.frames[0].instruction_addr == "0x0");
  CHECK(e.stacktrace.frames[1].function == "main");
  CHECK(e.stacktrace.frames[1].in_app == false);
  CHECK(e.stacktrace.frames[2].function == "app::main");
  CHECK(e.stacktrace.frames[2].in_app == true);
  CHECK(top(e).function == "app::run");
  CHECK(top(e).colno == 5u);
  CHECK(top(e).instruction_addr == "0x55d2");
  CHECK(e.thread_id == std::optional<std::string>("4242"));
  CHECK(out[0].threads.at(0).id == "4242");
  CHECK(out[0].platform == "native");
}

TEST_CASE("rust: without a frame at the panic location, trimming stops after the last border frame", "[rust]") {
  auto out = run(
      "thread 'main' panicked at library/core/src/panicking.rs:221:5:\n"
      "unsafe precondition violated\n"
      "stack backtrace:\n"
      "   0: rust_begin_unwind\n"
      "   1: core::panicking::panic_nounwind_fmt\n"
      "   2: <alloc::vec::Vec<T> as core::ops::Index<usize>>::index\n"
      "   3: app::get\n"
      "             at ./src/main.rs:7:5\n"
      "   4: app::main\n"
      "             at ./src/main.rs:11:5\n"
      "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n");
  REQUIRE(out.size() == 1);
  const auto& f = out[0].exceptions.at(0).stacktrace.frames;
  REQUIRE(f.size() == 3);
  CHECK(f[2].function == "<alloc::vec::Vec<T> as core::ops::Index<usize>>::index");
  CHECK(f[2].in_app == false);
  CHECK(f[1].function == "app::get");
  CHECK(f[1].abs_path == "src/main.rs");
  CHECK(f[1].in_app == true);
}

TEST_CASE("rust: message lines end at the first line that is not part of it", "[rust]") {
  auto out = run(
      "thread 'main' (7) panicked at src/main.rs:2:5:\n"
      "first line\n"
      "the program's own output\n"
      "thread 'io' (8) panicked at src/io.rs:4:1:\n"
      "second\n");
  REQUIRE(out.size() == 2);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("first line"));
  CHECK(out[0].last_line == 2);
  CHECK(out[1].threads.at(0).name == "io");
  CHECK(out[1].exceptions[0].value == std::optional<std::string>("second"));
}

TEST_CASE("rust: a fatal runtime error alone and after a stack overflow", "[rust]") {
  auto out = run("fatal runtime error: Rust cannot catch foreign exceptions\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].type == "fatal runtime error");
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("Rust cannot catch foreign exceptions"));

  out = run("\nthread 'tokio-runtime-worker' has overflowed its stack\nfatal runtime error: stack overflow\n");
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].exceptions.size() == 1);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("stack overflow"));
  CHECK(out[0].threads.at(0).name == "tokio-runtime-worker");
  CHECK(out[0].first_line == 2);
  CHECK(out[0].last_line == 3);
}

TEST_CASE("rust: ordinary lines that mention threads are not panics", "[rust]") {
  CHECK(run("thread 'main' started\nthread 'db' exited cleanly\n").empty());
  CHECK(run("spawning thread 'main' panicked at nothing\n").empty());
}

TEST_CASE("rust: main() returning an anyhow::Error with causes and a backtrace", "[rust]") {
  auto out = run(
      "Error: failed to load config\n"
      "\n"
      "Caused by:\n"
      "    0: reading /etc/app.toml\n"
      "    1: No such file or directory (os error 2)\n"
      "\n"
      "Stack backtrace:\n"
      "   0: std::backtrace_rs::backtrace::libunwind::trace\n"
      "             at /rustc/abc/library/std/src/../../backtrace/src/backtrace/libunwind.rs:93:5\n"
      "   1: anyhow::error::<impl anyhow::Error>::msg\n"
      "             at /root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/anyhow-1.0.75/src/error.rs:83:36\n"
      "   2: app::load\n"
      "             at ./src/main.rs:9:5\n"
      "   3: app::main\n"
      "             at ./src/main.rs:14:5\n");
  REQUIRE(out.size() == 1);
  const CrashReport& r = out[0];
  REQUIRE(r.exceptions.size() == 3);
  CHECK(r.exceptions[0].value == std::optional<std::string>("No such file or directory (os error 2)"));
  CHECK(r.exceptions[1].value == std::optional<std::string>("reading /etc/app.toml"));
  CHECK(r.exceptions[2].type == "Error");
  CHECK(r.exceptions[2].value == std::optional<std::string>("failed to load config"));
  CHECK(r.exceptions[0].stacktrace.frames.empty());
  REQUIRE(r.exceptions[2].stacktrace.frames.size() == 2);
  CHECK(r.exceptions[2].stacktrace.frames.back().function == "app::load");
  CHECK(r.exceptions[2].stacktrace.frames.front().function == "app::main");

  out = run("Error: failed to load config\n\nCaused by:\n    No such file or directory (os error 2)\n");
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].exceptions.size() == 2);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("No such file or directory (os error 2)"));

  CHECK(run("Error: connection refused\n").empty());
  CHECK(run("Error: boom\n    at f (/a.js:1:1)\n").empty());
}

TEST_CASE("rust: a frame's location line cut to 'at' and a frame line without its colon stay safe", "[rust]") {
  auto out = run("thread 'main' panicked at src/main.rs:2:5:\nboom\nstack backtrace:\n"
                 "   0: app::main\n             at\n   1:\n   2: app::run\n             at src/main.rs:9:1\n");
  REQUIRE(out.size() == 1);
  const auto& frames = out[0].exceptions.at(0).stacktrace.frames;
  REQUIRE_FALSE(frames.empty());
  CHECK(top(out[0].exceptions[0]).function == "app::main");
}
