#include <catch2/catch.hpp>

#include "parsers/fingerprint.h"

using namespace crashwrap::parsers;

namespace {
CrashReport sample(std::uint32_t line, std::string addr) {
  CrashReport r;
  r.runtime = "python";
  Exception& e = r.exceptions.emplace_back();
  e.type = "KeyError";
  e.value = "'bob' at " + addr;
  for (const char* fn : {"main", "lookup"}) {
    Frame f;
    f.function = fn;
    f.lineno = line;
    f.instruction_addr = addr;
    f.in_app = true;
    e.stacktrace.frames.push_back(f);
  }
  Frame lib;
  lib.function = "get";
  lib.in_app = false;
  e.stacktrace.frames.push_back(lib);
  return r;
}
}  // namespace

TEST_CASE("fingerprints ignore line numbers, addresses and messages", "[fingerprint]") {
  auto a = fingerprint(sample(10, "0x1"));
  auto b = fingerprint(sample(99, "0x2"));
  CHECK(a == b);
  CHECK(a.size() == 16);
  auto c = sample(10, "0x1");
  c.exceptions[0].type = "ValueError";
  CHECK(fingerprint(c) != a);
  auto d = sample(10, "0x1");
  d.exceptions[0].stacktrace.frames[0].function = "other";
  CHECK(fingerprint(d) != a);
  auto lib_changed = sample(10, "0x1");
  lib_changed.exceptions[0].stacktrace.frames[2].function = "get2";  // not in-app
  CHECK(fingerprint(lib_changed) == a);
}

TEST_CASE("exit fingerprints depend on how the process ended", "[fingerprint]") {
  ExitInfo s;
  s.kind = ExitKind::Signal;
  s.signal_name = "SIGSEGV";
  ExitInfo x;
  x.kind = ExitKind::ErrorExit;
  x.code = 3;
  CHECK(fingerprint(s, "server") != fingerprint(x, "server"));
  CHECK(fingerprint(s, "server") == fingerprint(s, "server"));
}
