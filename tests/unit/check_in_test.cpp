#include "sinks/check_in.h"

#include <csignal>

#include <catch2/catch.hpp>

using namespace crashwrap;
using namespace crashwrap::sinks;
using parsers::ExitInfo;
using parsers::ExitKind;
using parsers::Timestamp;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::seconds(1795420800)};

config::Config cfg() {
  config::Config c;
  c.monitor_slug = "nightly-backup";
  c.dsns = {"http://key@127.0.0.1:9/1"};
  return c;
}

bool hex32(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("check-ins need a monitor slug and a DSN", "[check_in]") {
  config::Config c = cfg();
  CHECK(check_ins_enabled(c));
  c.dsns.clear();
  CHECK_FALSE(check_ins_enabled(c));
  c = cfg();
  c.monitor_slug.clear();
  CHECK_FALSE(check_ins_enabled(c));
}

TEST_CASE("in_progress then ok with the same id and the duration", "[check_in]") {
  config::Config c = cfg();
  c.release = "app@1";
  c.environment = "prod";
  CheckIn ci = new_check_in(kT0);
  CHECK(hex32(ci.check_in_id));
  CHECK(hex32(ci.trace_id));
  CHECK(ci.check_in_id != ci.trace_id);
  nlohmann::json start = check_in_started(c, ci);
  CHECK(start == nlohmann::json{{"check_in_id", ci.check_in_id},
                                {"monitor_slug", "nightly-backup"},
                                {"status", "in_progress"},
                                {"environment", "prod"},
                                {"release", "app@1"},
                                {"contexts", {{"trace", {{"trace_id", ci.trace_id}}}}}});
  nlohmann::json end = check_in_finished(c, ci, true, kT0 + 2500ms);
  CHECK(end["check_in_id"] == ci.check_in_id);
  CHECK(end["status"] == "ok");
  CHECK(end["duration"] == 2.5);
  CHECK(end["contexts"]["trace"]["trace_id"] == ci.trace_id);
  CHECK_FALSE(end.contains("monitor_config"));
  CHECK(check_in_finished(c, ci, false, kT0 - 1s)["status"] == "error");
  CHECK(check_in_finished(c, ci, false, kT0 - 1s)["duration"] == 0.0);
}

TEST_CASE("a schedule upserts the monitor on the in_progress check-in", "[check_in]") {
  config::Config c = cfg();
  CHECK_FALSE(monitor_config(c));
  c.monitor_schedule = "0 3 * * *";
  c.checkin_margin = 5;
  c.max_runtime = 30;
  c.monitor_timezone = "Europe/Vienna";
  auto m = monitor_config(c);
  REQUIRE(m);
  CHECK(*m == nlohmann::json{{"schedule", {{"type", "crontab"}, {"value", "0 3 * * *"}}},
                             {"checkin_margin", 5},
                             {"max_runtime", 30},
                             {"timezone", "Europe/Vienna"}});
  CHECK(check_in_started(c, new_check_in(kT0))["monitor_config"] == *m);
  c.monitor_schedule = "10 minutes";
  c.checkin_margin.reset();
  c.max_runtime.reset();
  c.monitor_timezone.clear();
  CHECK(*monitor_config(c) ==
        nlohmann::json{{"schedule", {{"type", "interval"}, {"value", 10}, {"unit", "minute"}}}});
}

TEST_CASE("a job succeeds on a clean or ignored exit only", "[check_in]") {
  config::Config c = cfg();
  c.ignore_exit_codes = {143};
  ExitInfo e;
  CHECK(run_succeeded(c, e));
  e.kind = ExitKind::ErrorExit;
  e.code = 1;
  CHECK_FALSE(run_succeeded(c, e));
  e.code = 143;
  CHECK(run_succeeded(c, e));
  e.kind = ExitKind::Signal;
  e.signal = SIGKILL;
  CHECK_FALSE(run_succeeded(c, e));
  e.kind = ExitKind::OomKilled;
  CHECK_FALSE(run_succeeded(c, e));
}

TEST_CASE("an event's trace context carries the check-in's trace id", "[check_in]") {
  nlohmann::json t = trace_context("0123456789abcdef0123456789abcdef");
  CHECK(t["type"] == "trace");
  CHECK(t["trace_id"] == "0123456789abcdef0123456789abcdef");
  CHECK(t["span_id"].get<std::string>().size() == 16);
}
