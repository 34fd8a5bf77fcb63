#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/diag.h"
#include "agent/env_hints.h"
#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::agent;
using crashwrap::config::Config;
using crashwrap::config::LineBuffer;

namespace {
std::optional<std::string> get(const std::vector<std::string>& env, std::string_view name) {
  auto v = env_get(env, name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}
}  // namespace

TEST_CASE("hints set unbuffered Python and Rust backtraces unless already set", "[env_hints]") {
  Config c;
  auto env = apply_env_hints({"PATH=/bin", "RUST_BACKTRACE=full"}, c, {});
  CHECK(get(env, "PYTHONUNBUFFERED") == "1");
  CHECK(get(env, "RUST_BACKTRACE") == "full");
  CHECK(get(env, "PATH") == "/bin");
  CHECK_FALSE(get(env, "LD_PRELOAD"));
}

TEST_CASE("line buffering preloads libstdbuf for dynamic ELF programs in auto mode",
          "[env_hints]") {
  Config c;
  HintFacts f{"/lib/stdbuf.so", true};
  auto env = apply_env_hints({"LD_PRELOAD=/x.so", "_STDBUF_E=L"}, c, f);
  CHECK(get(env, "LD_PRELOAD") == "/lib/stdbuf.so:/x.so");
  CHECK(get(env, "_STDBUF_O") == "L");
  CHECK(get(env, "_STDBUF_E") == "L");  // the user's choice wins
  CHECK(get(env, "ASAN_OPTIONS") == "verify_asan_link_order=0");
  env = apply_env_hints({"ASAN_OPTIONS=detect_leaks=0"}, c, f);
  CHECK(get(env, "ASAN_OPTIONS") == "detect_leaks=0:verify_asan_link_order=0");

  f.dynamic_elf = false;  // a script or static binary: auto stays off
  env = apply_env_hints({}, c, f);
  CHECK_FALSE(get(env, "LD_PRELOAD"));
  c.line_buffer = LineBuffer::On;  // forced on
  env = apply_env_hints({}, c, f);
  CHECK(get(env, "LD_PRELOAD") == "/lib/stdbuf.so");
  CHECK(get(env, "_STDBUF_E") == "0");
  c.line_buffer = LineBuffer::Off;
  f.dynamic_elf = true;
  env = apply_env_hints({}, c, f);
  CHECK_FALSE(get(env, "LD_PRELOAD"));
  c.line_buffer = LineBuffer::On;  // on, but not installed: nothing to preload
  env = apply_env_hints({}, c, HintFacts{std::nullopt, true});
  CHECK_FALSE(get(env, "LD_PRELOAD"));
}

TEST_CASE("the --no-env-hints option turns every hint off but still hides CRASHWRAP_DSN", "[env_hints]") {
  Config c;
  c.env_hints = false;
  auto env = apply_env_hints({"CRASHWRAP_DSN=https://k@h/1", "SENTRY_DSN=https://k@h/2"}, c,
                             HintFacts{"/lib/stdbuf.so", true});
  REQUIRE(env.size() == 1);
  CHECK(env[0] == "SENTRY_DSN=https://k@h/2");
  c.env_hints = true;
  env = apply_env_hints({"CRASHWRAP_DSN=x"}, c, {});
  CHECK_FALSE(get(env, "CRASHWRAP_DSN"));
}

TEST_CASE("dynamic ELF detection reads PT_INTERP", "[env_hints]") {
  CHECK(is_dynamic_elf("/bin/sh"));
  CHECK(is_dynamic_elf(crashwrap::test::test_program("testapp")) == true);
  crashwrap::test::TempDir dir;
  crashwrap::test::write_file(dir.file("script"), "#!/bin/sh\nexit 0\n");
  CHECK_FALSE(is_dynamic_elf(dir.file("script")));
  CHECK_FALSE(is_dynamic_elf(dir.file("missing")));
  // A truncated ELF header is not dynamic.
  crashwrap::test::write_file(dir.file("short"), std::string("\x7f" "ELF\x02", 5));
  CHECK_FALSE(is_dynamic_elf(dir.file("short")));
}

TEST_CASE("libstdbuf is looked up in the given directories", "[env_hints]") {
  crashwrap::test::TempDir dir;
  CHECK_FALSE(find_libstdbuf({dir.path()}));
  crashwrap::test::write_file(dir.file("libstdbuf.so"), "x");
  CHECK(find_libstdbuf({"/nonexistent", dir.path()}) == dir.file("libstdbuf.so"));
}

TEST_CASE("a forced --line-buffer without libstdbuf is one warning and no preload", "[env_hints]") {
  crashwrap::test::TempDir dir;
  const std::string log = dir.file("diag");
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  crashwrap::agent::diag::set_output_fd(fd);
  Config c;
  c.line_buffer = LineBuffer::On;
  std::string path = "PATH=/bin";
  char* envp[] = {path.data(), nullptr};
  auto env = child_environment(c, envp, std::string("/bin/sh"), {dir.path()});
  c.line_buffer = LineBuffer::Auto;  // auto stays silent
  auto env2 = child_environment(c, envp, std::string("/bin/sh"), {dir.path()});
  crashwrap::agent::diag::set_output_fd(2);
  ::close(fd);
  CHECK_FALSE(get(env, "LD_PRELOAD"));
  CHECK_FALSE(get(env2, "LD_PRELOAD"));
  CHECK(get(env, "PATH") == "/bin");
  CHECK(crashwrap::test::read_file(log) ==
        "crashwrap: warning: --line-buffer: coreutils' libstdbuf.so was not found, the child's "
        "stdio keeps its own buffering \xe2\x80\x94 install coreutils (it provides stdbuf) or leave "
        "--line-buffer at auto\n");
}

TEST_CASE("the real child environment preloads libstdbuf for a dynamic program when installed",
          "[env_hints]") {
  Config c;
  std::string path = "PATH=/bin";
  char* envp[] = {path.data(), nullptr};
  auto env = child_environment(c, envp, std::string("/bin/sh"));
  if (auto lib = find_libstdbuf()) {
    CHECK(get(env, "LD_PRELOAD") == *lib);
  } else {
    CHECK_FALSE(get(env, "LD_PRELOAD"));
  }
  CHECK(get(env, "PYTHONUNBUFFERED") == "1");
}
