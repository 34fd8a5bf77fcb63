// Targeted variants of Ruby's output: Ruby 3.4's quotes and owner-qualified
// labels, gems and internal frames, an empty message, a repeated report.
#include <catch2/catch.hpp>

#include "parsers/detectors.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> feed(const std::vector<std::string>& lines) {
  auto d = make_ruby_detector();
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

TEST_CASE("ruby: Ruby 3.4 quotes and Class#method labels", "[ruby]") {
  auto out = feed({
      "/srv/app/deploy.rb:11:in 'Deployer#push': host db-1 rejected the release (RuntimeError)",
      "\tfrom /srv/app/deploy.rb:7:in 'block in Deployer#run'",
      "\tfrom <internal:numeric>:238:in 'Integer#times'",
      "\tfrom /var/lib/gems/3.4.0/gems/thor-1.3.0/lib/thor.rb:40:in 'Thor.start'",
      "\tfrom /srv/app/deploy.rb:20:in '<main>'",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "RuntimeError");
  CHECK(e.value == std::optional<std::string>("host db-1 rejected the release"));
  const auto& f = e.stacktrace.frames;
  REQUIRE(f.size() == 5);
  CHECK(f[4].function == "push");  // newest last
  CHECK(f[4].module == "Deployer");
  CHECK(f[4].lineno == std::optional<std::uint32_t>(11));
  CHECK(f[3].function == "block in Deployer#run");
  CHECK(f[2].function == "times");
  CHECK(f[2].module == "Integer");
  CHECK(f[2].in_app == std::optional<bool>(false));
  CHECK(f[1].function == "start");
  CHECK(f[1].module == "Thor");
  CHECK(f[1].filename == "thor-1.3.0/lib/thor.rb");
  CHECK(f[1].in_app == std::optional<bool>(false));
  CHECK(f[0].function == "<main>");
  CHECK(f[0].in_app == std::optional<bool>(true));
}

TEST_CASE("ruby: an empty message prints the class alone", "[ruby]") {
  auto out = feed({"app.rb:3:in `fetch': Errno::ECONNREFUSED", "\tfrom app.rb:9:in `<main>'"});
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.at(0).type == "Errno::ECONNREFUSED");
  CHECK_FALSE(out[0].exceptions.at(0).value.has_value());
}

TEST_CASE("ruby: the same report twice is two reports, a different one after it is a cause", "[ruby]") {
  auto out = feed({
      "#<Thread:0x00007f00@worker app.rb:1 run> terminated with exception (report_on_exception is true):",
      "app.rb:2:in `block in <main>': boom (RuntimeError)",
      "app.rb:2:in `block in <main>': boom (RuntimeError)",
  });
  REQUIRE(out.size() == 2);
  REQUIRE(out[0].threads.size() == 1);
  CHECK(out[0].threads[0].name == "worker");
  CHECK(out[0].threads[0].crashed);
  CHECK(out[0].exceptions.at(0).thread_id == std::optional<std::string>("0x00007f00"));
  CHECK(out[1].threads.empty());

  auto chained = feed({"app.rb:8:in `charge': failed (GatewayError)", "\tfrom app.rb:12:in `<main>'",
                       "app.rb:3:in `send': closed (IOError)", "\tfrom app.rb:7:in `charge'"});
  REQUIRE(chained.size() == 1);
  REQUIRE(chained[0].exceptions.size() == 2);
  CHECK(chained[0].exceptions[0].type == "IOError");  // the cause first
  CHECK(chained[0].exceptions[1].type == "GatewayError");
}

TEST_CASE("ruby: warnings and ordinary lines are not reports", "[ruby]") {
  CHECK(feed({"app.rb:5: warning: assigned but unused variable - x"}).empty());
  CHECK(feed({"GET /users/1 in 12ms (Views: 3.1ms | ActiveRecord: 0.4ms)"}).empty());
  CHECK(feed({"Completed 500 Internal Server Error in 5ms (ActiveRecord: 0.0ms)"}).empty());
}

TEST_CASE("ruby: the reversed form of Ruby 2.5-2.7 on a terminal", "[ruby]") {
  auto out = feed({
      "Traceback (most recent call last):",
      "\t2: from app.rb:9:in `<main>'",
      "\t1: from app.rb:5:in `foo'",
      "app.rb:2:in `bar': boom (RuntimeError)",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "RuntimeError");
  CHECK(e.value == std::optional<std::string>("boom"));
  REQUIRE(e.stacktrace.frames.size() == 3);
  CHECK(e.stacktrace.frames[0].function == "<main>");
  CHECK(e.stacktrace.frames[1].function == "foo");
  CHECK(e.stacktrace.frames[2].function == "bar");
  CHECK(e.stacktrace.frames[2].lineno == std::optional<std::uint32_t>(2));
  CHECK(feed({"Traceback (most recent call last):", "  File \"a.py\", line 1, in <module>"}).empty());
}
