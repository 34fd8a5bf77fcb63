#include <catch2/catch.hpp>

#include "parsers/verdict.h"

using namespace crashwrap::parsers;
using namespace std::chrono_literals;

namespace {
CrashReport report(std::string type) {
  CrashReport r;
  r.exceptions.emplace_back().type = std::move(type);
  return r;
}
}  // namespace

TEST_CASE("a report followed by a failing exit is the fatal crash", "[verdict]") {
  Verdict v(2000ms);
  Timestamp t = Clock::now();
  v.report_finished(report("A"), t);
  v.report_finished(report("B"), t + 100ms);
  CHECK(v.due(t + 500ms).empty());
  ExitInfo e;
  e.kind = ExitKind::ErrorExit;
  e.code = 1;
  auto out = v.child_exited(e, t + 600ms);
  REQUIRE(out.size() == 2);
  CHECK(out[0].level == Level::Error);
  CHECK(out[0].handled);
  CHECK(out[0].exceptions[0].mechanism.type == "crashwrap.log");
  CHECK(out[1].level == Level::Fatal);
  CHECK_FALSE(out[1].handled);
  CHECK_FALSE(out[1].exceptions[0].mechanism.handled);
}

TEST_CASE("a report the child outlives becomes a handled error", "[verdict]") {
  Verdict v(2000ms);
  Timestamp t = Clock::now();
  v.report_finished(report("A"), t);
  CHECK(v.next_deadline() == t + 2000ms);
  CHECK(v.due(t + 1999ms).empty());
  CHECK(v.due(t - 10s).empty());  // clock went back
  auto out = v.due(t + 2000ms);
  REQUIRE(out.size() == 1);
  CHECK(out[0].handled);
  CHECK_FALSE(v.next_deadline());
}

TEST_CASE("a clean exit makes every report handled", "[verdict]") {
  Verdict v(2000ms);
  v.report_finished(report("A"), Clock::now());
  auto out = v.child_exited(ExitInfo{}, Clock::now());
  REQUIRE(out.size() == 1);
  CHECK(out[0].level == Level::Error);
}
