// Cron check-ins end to end: --monitor sends in_progress at start and ok or
// error at the end with the same check_in_id; a failing run's event carries
// the check-in's trace id.
#include <csignal>

#include <catch2/catch.hpp>

#include "integration/lifecycle_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::lifecycle;

namespace {

ProcessOptions monitored(const std::string& spool, const Receiver& rx, std::vector<std::string> child) {
  ProcessOptions o = delivery::wrap(spool,
                                    {"--dsn", rx.dsn(), "--monitor", "nightly-job", "--monitor-schedule", "0 3 * * *",
                                     "--checkin-margin", "5", "--max-runtime", "30", "--monitor-timezone", "UTC"},
                                    std::move(child));
  o.env_unset.push_back("SENTRY_RELEASE");
  return o;
}

struct Pair {
  Item start;
  Item end;
};

Pair the_check_ins(const Receiver& rx) {
  std::vector<Item> c = items_of(rx, "check_in");
  REQUIRE(c.size() == 2);
  const Item& start = c[0].payload["status"] == "in_progress" ? c[0] : c[1];
  const Item& end = c[0].payload["status"] == "in_progress" ? c[1] : c[0];
  CHECK(start.payload["status"] == "in_progress");
  CHECK(start.payload["monitor_slug"] == "nightly-job");
  CHECK(start.payload["monitor_config"] ==
        nlohmann::json{{"schedule", {{"type", "crontab"}, {"value", "0 3 * * *"}}},
                       {"checkin_margin", 5},
                       {"max_runtime", 30},
                       {"timezone", "UTC"}});
  CHECK(end.payload["check_in_id"] == start.payload["check_in_id"]);
  CHECK(end.payload["monitor_slug"] == "nightly-job");
  CHECK(end.payload["duration"].is_number());
  CHECK_FALSE(end.payload.contains("monitor_config"));
  CHECK(end.payload["contexts"]["trace"]["trace_id"] == start.payload["contexts"]["trace"]["trace_id"]);
  return {start, end};
}

}  // namespace

TEST_CASE("a successful job: in_progress, then ok", "[check_ins][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(monitored(dir.file("spool"), rx, {"out", "done"}), 30s);
  CHECK(r.exit_code() == 0);
  CHECK(rx.problems().empty());
  Pair p = the_check_ins(rx);
  CHECK(p.end.payload["status"] == "ok");
  CHECK(delivery::event_count(rx) == 0);
}

TEST_CASE("exit 1: error, the event linked by trace id", "[check_ins][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(monitored(dir.file("spool"), rx, {"err", "failed", "exit", "1"}), 30s);
  CHECK(r.exit_code() == 1);
  Pair p = the_check_ins(rx);
  CHECK(p.end.payload["status"] == "error");
  REQUIRE(delivery::event_count(rx) == 1);
  for (const auto& env : rx.envelopes())
    if (env.item("event"))
      CHECK(env.event()["contexts"]["trace"]["trace_id"] == p.start.payload["contexts"]["trace"]["trace_id"]);
}

TEST_CASE("a crash by signal: error, the crash event carries the check-in's trace", "[check_ins][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(monitored(dir.file("spool"), rx, {"segv"}), 30s);
  CHECK(r.term_signal() == SIGSEGV);
  Pair p = the_check_ins(rx);
  CHECK(p.end.payload["status"] == "error");
  bool linked = false;
  for (const auto& env : rx.envelopes())
    if (env.item("event")) {
      nlohmann::json trace = env.event()["contexts"]["trace"];
      CHECK(trace["trace_id"] == p.start.payload["contexts"]["trace"]["trace_id"]);
      CHECK(trace["span_id"].get<std::string>().size() == 16);
      linked = true;
    }
  CHECK(linked);
}

TEST_CASE("a killed job (SIGKILL): error", "[check_ins][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(monitored(dir.file("spool"), rx, {"raise", "KILL"}), 30s);
  CHECK(r.term_signal() == SIGKILL);
  Pair p = the_check_ins(rx);
  CHECK(p.end.payload["status"] == "error");
}

TEST_CASE("no DSN: no check-in is kept; an unreachable server never changes the exit code",
          "[check_ins][integration]") {
  TempDir dir;
  ProcessOptions o = delivery::wrap(dir.file("spool"), {"--monitor", "job"}, {"exit", "0"});
  CHECK(run(o, 30s).exit_code() == 0);
  CHECK(delivery::spool_entries(dir.file("spool")).empty());
  std::string dead;
  {
    Receiver gone;
    dead = gone.dsn();
  }
  ProcessOptions d = delivery::wrap(dir.file("spool2"), {"--dsn", dead, "--monitor", "job", "--flush-timeout", "1s"},
                                    {"exit", "4"});
  CHECK(run(d, 30s).exit_code() == 4);
  std::size_t monitors = 0;
  for (const auto& e : delivery::spool_entries(dir.file("spool2"))) monitors += e.category == "monitor";
  CHECK(monitors == 2);
}

TEST_CASE("a bad schedule: one warning, the job runs and checks in without monitor_config",
          "[check_ins][integration]") {
  TempDir dir;
  Receiver rx;
  ProcessOptions o = delivery::wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--monitor", "job", "--monitor-schedule",
                                                        "0 3 * *"},
                                    {"out", "ran"});
  RunResult r = run(o, 30s);
  CHECK(r.exit_code() == 0);
  CHECK(r.out == "ran\n");
  CHECK(r.err.rfind("crashwrap: warning: --monitor-schedule '0 3 * *' has 4 fields, a crontab needs 5", 0) == 0);
  std::vector<Item> c = items_of(rx, "check_in");
  REQUIRE(c.size() == 2);
  for (const Item& i : c) CHECK_FALSE(i.payload.contains("monitor_config"));
}
