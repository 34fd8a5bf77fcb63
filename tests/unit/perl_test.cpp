// Targeted variants of Perl's die output and the fatal_only contract.
#include <catch2/catch.hpp>

#include "parsers/detectors.h"
#include "parsers/verdict.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> feed(const std::vector<std::string>& lines) {
  auto d = make_perl_detector();
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (const std::string& text : lines) {
    Line l;
    l.text = text;
    l.number = ++n;
    d->feed(l, out);
  }
  d->finish(out);
  return out;
}

}  // namespace

TEST_CASE("perl: confess frames pair each location with the sub it was in", "[perl]") {
  auto out = feed({
      "bad arg at /srv/lib/Parser.pm line 9.",
      "\tParser::parse(\"x=\") called at /srv/bin/run.pl line 17",
      "\teval {...} called at /srv/bin/run.pl line 16",
      "\tmain::run() called at /srv/bin/run.pl line 30",
  });
  REQUIRE(out.size() == 1);
  CHECK(out[0].fatal_only);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "die");
  CHECK(e.value == std::optional<std::string>("bad arg"));
  const auto& f = e.stacktrace.frames;
  REQUIRE(f.size() == 4);
  CHECK(f[3].function == "Parser::parse");
  CHECK(f[3].abs_path == "/srv/lib/Parser.pm");
  CHECK(f[3].lineno == std::optional<std::uint32_t>(9));
  CHECK(f[2].function == "eval {...}");
  CHECK(f[2].lineno == std::optional<std::uint32_t>(17));
  CHECK(f[1].function == "main::run");
  CHECK(f[0].function.empty());
  CHECK(f[0].lineno == std::optional<std::uint32_t>(30));
}

TEST_CASE("perl: messages that contain ' at ' and filehandle suffixes", "[perl]") {
  auto out = feed({"connect at 10:00 failed: timeout at /srv/x.pl line 3, <DATA> chunk 2."});
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.at(0).value == std::optional<std::string>("connect at 10:00 failed: timeout"));
  CHECK(out[0].exceptions.at(0).stacktrace.frames.at(0).lineno == std::optional<std::uint32_t>(3));
  CHECK(feed({"the deadline is at noon line 4 of the plan"}).empty());
  CHECK(feed({"retrying at 10:00"}).empty());
}

TEST_CASE("perl: a die report only counts when the process fails", "[perl]") {
  auto reports = feed({"disk almost full at /srv/x.pl line 3."});
  REQUIRE(reports.size() == 1);
  const Timestamp t0{};
  {
    Verdict v(std::chrono::milliseconds(100));
    v.report_finished(reports[0], t0);
    CHECK(v.due(t0 + std::chrono::seconds(1)).empty());  // outlived: a warning, dropped
    CHECK(v.child_exited(ExitInfo{}, t0 + std::chrono::seconds(2)).empty());
  }
  {
    Verdict v(std::chrono::milliseconds(100));
    v.report_finished(reports[0], t0);
    CHECK(v.child_exited(ExitInfo{}, t0).empty());  // exit 0
  }
  {
    Verdict v(std::chrono::milliseconds(100));
    v.report_finished(reports[0], t0);
    v.report_finished(reports[0], t0);
    ExitInfo failed;
    failed.kind = ExitKind::ErrorExit;
    failed.code = 255;
    auto events = v.child_exited(failed, t0);
    REQUIRE(events.size() == 1);  // the earlier one was a warning
    CHECK(events[0].level == Level::Fatal);
    CHECK_FALSE(events[0].handled);
  }
}
