#include "config/monitor_schedule.h"

#include <catch2/catch.hpp>

#include "config/load.h"

using namespace crashwrap::config;

namespace {
std::string why(std::string_view text) {
  std::string error;
  auto s = parse_monitor_schedule(text, error);
  return s ? "" : error;
}
}  // namespace

TEST_CASE("crontab schedules have five valid fields", "[monitor_schedule]") {
  std::string error;
  auto s = parse_monitor_schedule("  0 3  * * *  ", error);
  REQUIRE(s);
  CHECK(s->type == MonitorSchedule::Type::Crontab);
  CHECK(s->crontab == "0 3 * * *");
  CHECK(parse_monitor_schedule("*/15 8-18 * JAN-MAR MON,FRI", error));
  CHECK(parse_monitor_schedule("0 0 1,15 * 7", error));
  CHECK(why("0 3 * *") == "has 4 fields, a crontab needs 5 (minute hour day month weekday)");
  CHECK(why("0 3 * * * *") == "has 6 fields, a crontab needs 5 (minute hour day month weekday)");
  CHECK(why("60 3 * * *") == "has an invalid minute field '60'");
  CHECK(why("0 24 * * *") == "has an invalid hour field '24'");
  CHECK(why("0 0 0 * *") == "has an invalid day-of-month field '0'");
  CHECK(why("0 0 * 13 *") == "has an invalid month field '13'");
  CHECK(why("0 0 * * 8") == "has an invalid weekday field '8'");
  CHECK(why("*/0 * * * *") == "has an invalid minute field '*/0'");
  CHECK(why("0 0 * * $") == "has an invalid weekday field '$'");
  CHECK(why("") == "has 0 fields, a crontab needs 5 (minute hour day month weekday)");
}

TEST_CASE("crontab macros become their five fields", "[monitor_schedule]") {
  std::string error;
  auto s = parse_monitor_schedule("@daily", error);
  REQUIRE(s);
  CHECK(s->crontab == "0 0 * * *");
  CHECK(parse_monitor_schedule("@HOURLY", error)->crontab == "0 * * * *");
  CHECK(why("@sometimes") == "is not a crontab macro (@yearly, @monthly, @weekly, @daily, @hourly)");
}

TEST_CASE("intervals are a count and a unit", "[monitor_schedule]") {
  std::string error;
  auto s = parse_monitor_schedule("10 minute", error);
  REQUIRE(s);
  CHECK(s->type == MonitorSchedule::Type::Interval);
  CHECK(s->value == 10);
  CHECK(s->unit == "minute");
  CHECK(parse_monitor_schedule("2 Hours", error)->unit == "hour");
  CHECK_FALSE(why("0 day").empty());
  CHECK_FALSE(why("3 fortnights").empty());
}

TEST_CASE("loading: a bad schedule is one warning and no schedule", "[monitor_schedule]") {
  auto r = load(std::vector<std::string>{"--monitor", "nightly", "--monitor-schedule", "0 3 * *", "--", "app"},
                std::map<std::string, std::string>{{"SENTRY_DSN", "http://k@127.0.0.1:9/1"}});
  CHECK(r.config.monitor_slug == "nightly");
  CHECK(r.config.monitor_schedule.empty());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("--monitor-schedule '0 3 * *' has 4 fields, a crontab needs 5") == 0);
  auto ok = load(std::vector<std::string>{"--monitor", "nightly", "--monitor-schedule", "0 3 * * *",
                                          "--checkin-margin", "5", "--max-runtime", "30", "--", "app"},
                 std::map<std::string, std::string>{{"SENTRY_DSN", "http://k@127.0.0.1:9/1"}});
  CHECK(ok.warnings.empty());
  CHECK(ok.config.monitor_schedule == "0 3 * * *");
  CHECK(ok.config.checkin_margin == 5u);
  CHECK(ok.config.max_runtime == 30u);
}

TEST_CASE("loading: monitor options without a monitor or a DSN warn once", "[monitor_schedule]") {
  using Args = std::vector<std::string>;
  using Env = std::map<std::string, std::string>;
  auto orphan = load(Args{"--monitor-schedule", "@daily", "--max-runtime", "5", "--", "app"}, Env{});
  REQUIRE(orphan.warnings.size() == 1);
  CHECK(orphan.warnings[0] ==
        "--monitor-schedule, --monitor-timezone, --checkin-margin and --max-runtime describe a monitor \xe2\x80\x94 "
        "fix: name it with --monitor SLUG; ignoring them");
  auto no_dsn = load(Args{"--monitor", "job", "--", "app"}, Env{});
  REQUIRE(no_dsn.warnings.size() == 1);
  CHECK(no_dsn.warnings[0] ==
        "--monitor job has no DSN to send its check-ins to \xe2\x80\x94 fix: set --dsn or SENTRY_DSN; no check-ins are sent");
  auto strict = load(Args{"--strict", "--monitor", "job", "--", "app"}, Env{});
  CHECK(strict.refuse);
  auto fine = load(Args{"--monitor", "job", "--", "app"}, Env{{"SENTRY_DSN", "http://k@127.0.0.1:9/1"}});
  CHECK(fine.warnings.empty());
}
