#include <catch2/catch.hpp>

#include "parsers/model.h"

using namespace crashwrap::parsers;

TEST_CASE("exit descriptions name how the child ended", "[model]") {
  ExitInfo e;
  e.kind = ExitKind::Signal;
  e.signal = 11;
  e.signal_name = "SIGSEGV";
  CHECK(e.describe() == "died of SIGSEGV");
  e.core_dumped = true;
  CHECK(e.describe() == "died of SIGSEGV (core dumped)");
  e = ExitInfo{};
  e.kind = ExitKind::ErrorExit;
  e.code = 3;
  CHECK(e.describe() == "exited with code 3");
  CHECK(stream_name(Stream::Stdout) == "stdout");
  CHECK(level_name(Level::Fatal) == "fatal");
}
