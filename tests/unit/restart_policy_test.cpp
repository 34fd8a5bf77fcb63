#include "agent/restart_policy.h"

#include <catch2/catch.hpp>

using namespace crashwrap;
using crashwrap::agent::RestartPolicy;
using config::Restart;
using namespace std::chrono_literals;

TEST_CASE("no restart policy never restarts", "[restart_policy]") {
  RestartPolicy p(Restart::No, 0, 1s);
  CHECK_FALSE(p.after_exit(true, 0ms));
  CHECK_FALSE(p.after_exit(false, 0ms));
}

TEST_CASE("on-failure restarts failures only, with a doubling delay", "[restart_policy]") {
  RestartPolicy p(Restart::OnFailure, 0, 1s);
  CHECK_FALSE(p.after_exit(false, 10ms));
  CHECK(p.after_exit(true, 10ms) == 1000ms);
  CHECK(p.after_exit(true, 10ms) == 2000ms);
  CHECK(p.after_exit(true, 10ms) == 4000ms);
  CHECK(p.restarts_in_a_row() == 3);
  CHECK_FALSE(p.after_exit(false, 10ms));  // a success ends it
}

TEST_CASE("the delay is capped at 60 s", "[restart_policy]") {
  RestartPolicy p(Restart::Always, 0, 20s);
  CHECK(p.after_exit(false, 0ms) == 20s);
  CHECK(p.after_exit(false, 0ms) == 40s);
  CHECK(p.after_exit(false, 0ms) == 60s);
  CHECK(p.after_exit(false, 0ms) == 60s);
  CHECK(RestartPolicy(Restart::Always, 0, 5min).after_exit(true, 0ms) == 60s);
}

TEST_CASE("max-restarts stops a crash loop; a healthy run starts the count over", "[restart_policy]") {
  RestartPolicy p(Restart::OnFailure, 3, 100ms);
  CHECK(p.after_exit(true, 1s) == 100ms);
  CHECK(p.after_exit(true, 1s) == 200ms);
  CHECK(p.after_exit(true, 1s) == 400ms);
  CHECK_FALSE(p.after_exit(true, 1s));
  CHECK(p.restarts_total() == 3);

  RestartPolicy q(Restart::OnFailure, 3, 100ms);
  CHECK(q.after_exit(true, 1s) == 100ms);
  CHECK(q.after_exit(true, 1s) == 200ms);
  CHECK(q.after_exit(true, 1s) == 400ms);
  CHECK(q.after_exit(true, RestartPolicy::kHealthyRun) == 100ms);  // ran a minute: delay and count reset
  CHECK(q.restarts_in_a_row() == 1);
  CHECK(q.restarts_total() == 4);
}

TEST_CASE("a zero delay stays small", "[restart_policy]") {
  RestartPolicy p(Restart::Always, 0, 0ms);
  CHECK(p.after_exit(false, 0ms) == 0ms);
  CHECK(p.after_exit(false, 0ms) == 1ms);
  CHECK(p.after_exit(false, 0ms) == 2ms);
}

TEST_CASE("the configuration's values are used", "[restart_policy]") {
  config::Config c;
  c.restart = Restart::OnFailure;
  c.max_restarts = 1;
  c.restart_delay = 250ms;
  RestartPolicy p(c);
  CHECK(p.after_exit(true, 0ms) == 250ms);
  CHECK_FALSE(p.after_exit(true, 0ms));
}
