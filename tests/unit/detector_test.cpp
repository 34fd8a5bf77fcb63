#include <catch2/catch.hpp>

#include "parsers/detector.h"
#include "parsers/text.h"

using namespace crashwrap::parsers;

namespace {

// A toy runtime: "BOOM: msg" starts a report, "  at f" lines are frames,
// "END" ends it explicitly.
enum class S { Start = 0, Frames };

Spec toy_spec() {
  Spec s;
  s.name = "toy";
  s.runtime = "toy";
  s.platform = "other";
  s.anchors = {"BOOM:"};
  s.rules = {
      {S::Start, [](std::string_view t) { return text::starts_with(t, "BOOM: "); }, S::Frames,
       [](Builder& b, std::string_view t) { b.add_exception("Boom", std::string(t.substr(6))); }},
      {S::Frames, [](std::string_view t) { return text::starts_with(t, "  at "); }, S::Frames,
       [](Builder& b, std::string_view t) {
         Frame f;
         f.function = std::string(t.substr(5));
         b.add_frame(std::move(f));
       }},
      {S::Frames, [](std::string_view t) { return t == "END"; }, kEmit},
  };
  s.tolerant_states = {static_cast<int>(S::Frames)};
  s.tolerance = 0;
  return s;
}

struct Feeder {
  TableDetector d{toy_spec()};
  std::vector<CrashReport> out;
  std::uint64_t n[3] = {0, 0, 0};
  Timestamp t0 = Clock::now();
  void line(std::string_view text, Stream s = Stream::Stderr, int ms = 0) {
    Line l;
    l.stream = s;
    l.text = text;
    l.number = ++n[static_cast<int>(s)];
    l.time = t0 + std::chrono::milliseconds(ms);
    d.feed(l, out);
  }
};

}  // namespace

TEST_CASE("a rule table turns lines into a report", "[detector]") {
  Feeder f;
  f.line("hello");
  f.line("BOOM: it broke");
  f.line("  at main");
  f.line("  at run");
  CHECK(f.out.empty());
  CHECK(f.d.active_since(Stream::Stderr) == std::optional<std::uint64_t>(2));
  f.line("END");
  REQUIRE(f.out.size() == 1);
  const CrashReport& r = f.out[0];
  CHECK(r.runtime == "toy");
  CHECK(r.first_line == 2);
  CHECK(r.last_line == 5);
  REQUIRE(r.exceptions.size() == 1);
  CHECK(r.exceptions[0].type == "Boom");
  CHECK(r.exceptions[0].value == std::optional<std::string>("it broke"));
  REQUIRE(r.exceptions[0].stacktrace.frames.size() == 2);
  CHECK(r.exceptions[0].stacktrace.frames[1].function == "run");
  CHECK(r.raw == "BOOM: it broke\n  at main\n  at run\nEND");
  CHECK_FALSE(f.d.active_since(Stream::Stderr));
}

TEST_CASE("an unmatched line ends the report and is re-fed as a possible start", "[detector]") {
  Feeder f;
  f.line("BOOM: one");
  f.line("  at a");
  f.line("BOOM: two");
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].exceptions[0].value == std::optional<std::string>("one"));
  f.d.finish(f.out);
  REQUIRE(f.out.size() == 2);
  CHECK(f.out[1].exceptions[0].value == std::optional<std::string>("two"));
  CHECK(f.out[1].first_line == 3);
}

TEST_CASE("streams keep separate state", "[detector]") {
  Feeder f;
  f.line("BOOM: err", Stream::Stderr);
  f.line("ordinary stdout line", Stream::Stdout);
  f.line("  at frame", Stream::Stderr);
  f.d.finish(f.out);
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].exceptions[0].stacktrace.frames.size() == 1);
}

TEST_CASE("ANSI colours and a logging prefix are stripped", "[detector]") {
  Feeder f;
  f.line("2024-05-01 10:00:00 ERROR \x1b[31mBOOM: red\x1b[0m");
  f.line("2024-05-01 10:00:01 ERROR   at x");
  f.line("  at y");
  f.d.finish(f.out);
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].exceptions[0].value == std::optional<std::string>("red"));
  REQUIRE(f.out[0].exceptions[0].stacktrace.frames.size() == 2);
  CHECK(f.out[0].exceptions[0].stacktrace.frames[0].function == "x");
}

TEST_CASE("a quiet report ends on flush, a clock going back does not end it", "[detector]") {
  Feeder f;
  f.line("BOOM: q", Stream::Stderr, 1000);
  f.d.flush(f.t0, std::chrono::milliseconds(500), f.out);  // earlier than the line
  CHECK(f.out.empty());
  f.d.flush(f.t0 + std::chrono::milliseconds(1200), std::chrono::milliseconds(500), f.out);
  CHECK(f.out.empty());
  f.d.flush(f.t0 + std::chrono::milliseconds(1500), std::chrono::milliseconds(500), f.out);
  CHECK(f.out.size() == 1);
}

TEST_CASE("frames beyond the cap are counted, not kept", "[detector]") {
  Builder b;
  b.max_frames = 3;
  b.add_exception("E", std::nullopt);
  for (int i = 0; i < 10; ++i) b.add_frame(Frame{});
  CHECK(b.report.exceptions[0].stacktrace.frames.size() == 3);
  CHECK(b.dropped_frames == 7);
}
