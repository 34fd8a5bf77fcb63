// Server rate limits with the real binary: X-Sentry-Rate-Limits per category,
// kept across restarts in the spool, other categories unaffected, and the
// discarded events reported back as a client report.
#include <catch2/catch.hpp>

#include "sinks/envelope.h"
#include "sinks/rate_limits.h"
#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;

namespace {

// A session update saved straight into the spool: a category ("session")
// the error limit does not cover.
void save_session(const std::string& spool_dir) {
  nlohmann::json s = {{"sid", "0123456789abcdef0123456789abcdef"}, {"status", "exited"}, {"init", true},
                      {"started", "2024-01-01T00:00:00Z"}, {"errors", 0}, {"attrs", {{"release", "app@1.0"}}}};
  sinks::Envelope e;
  e.header = sinks::envelope_header("", parsers::Clock::now(), "");
  e.items.push_back(sinks::session_item(s));
  sinks::SpoolOptions o;
  o.dir = spool_dir;
  std::string error;
  auto spool = sinks::Spool::open(o, error);
  REQUIRE(spool);
  REQUIRE(spool->save_envelope(sinks::serialize(e), {"", "session", "session update"}));
}

std::string limits_state(const std::string& spool, const std::string& dsn) {
  return spool_state(spool, "ratelimits-" + sinks::dsn_key(dsn)).value_or("");
}

}  // namespace

TEST_CASE("429 with X-Sentry-Rate-Limits: 60:error holds errors for 60 s, sessions still go, "
          "and a client report follows",
          "[rate_limit][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver rx;
  rx.push_reply(Reply::rate_limited("", "60:error"));

  // The first crash meets the limit. Nothing can be sent before the limit
  // ends, so crashwrap does not wait out its flush timeout.
  auto start = std::chrono::steady_clock::now();
  RunResult first = run(wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "20s"}, failing_child("first")), 30s);
  CHECK(first.exit_code() == 3);
  CHECK(elapsed_since(start) < 10s);
  CHECK(rx.request_count() == 1);
  CHECK(rx.envelope_count() == 0);

  // The limit is in the spool, for the error category only, ~60 s long.
  const std::string state = limits_state(spool, rx.dsn());
  CHECK(state.rfind("error ", 0) == 0);
  CHECK(state.find(" 60000\n") != std::string::npos);
  sinks::RateLimits limits = sinks::RateLimits::parse(state);
  CHECK(limits.is_limited("error", parsers::Clock::now()));
  CHECK_FALSE(limits.is_limited("session", parsers::Clock::now()));
  CHECK_FALSE(limits.is_limited("error", parsers::Clock::now() + std::chrono::seconds(61)));

  // A restart within the minute: the next error is not sent, a session is,
  // and the dropped error is counted in a client report.
  save_session(spool);
  RunResult second = run(wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "5s"}, failing_child("second")), 30s);
  CHECK(second.exit_code() == 3);
  CHECK(second.err.find("second\n") == 0);
  CHECK(event_requests(rx) == 1);  // only the first crash's request, answered 429
  std::size_t sessions = 0;
  for (const auto& env : rx.envelopes()) sessions += env.item("session") != nullptr;
  CHECK(sessions == 1);
  CHECK(reported(rx, "ratelimit_backoff", "error") == 1);
  CHECK(reported(rx, "ratelimit_backoff", "attachment") == 1);
  CHECK(rx.problems().empty());

  // The first crash is still owed; the second was discarded on purpose.
  std::size_t pending = 0, dropped = 0;
  std::string held;
  for (const auto& e : spool_entries(spool)) {
    if (e.stage == sinks::Stage::Pending) held = e.id;
    pending += e.stage == sinks::Stage::Pending;
    dropped += e.stage == sinks::Stage::Dropped && e.delivery_for(rx.dsn()).reason == "ratelimit_backoff";
  }
  CHECK(pending == 1);
  CHECK(dropped == 1);

  // Once the limit is over (shortened here instead of waiting a minute), the
  // held event goes.
  REQUIRE(write_spool_state(spool, "ratelimits-" + sinks::dsn_key(rx.dsn()), ""));
  RunResult send = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(send.exit_code() == 0);
  CHECK(event_count(rx) == 1);
  CHECK(rx.envelopes().back().event_id() == held);
  CHECK(rx.envelopes().back().item("attachment")->payload.find("first") != std::string::npos);
}

TEST_CASE("a short rate limit is waited out within the flush timeout", "[rate_limit][integration]") {
  TempDir dir;
  Receiver rx;
  rx.push_reply(Reply::rate_limited("", "1:error:project:rate_limited"));
  auto start = std::chrono::steady_clock::now();
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--flush-timeout", "10s"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(elapsed_since(start) < 8s);
  CHECK(rx.request_count() == 2);
  CHECK(event_count(rx) == 1);
}

TEST_CASE("429 with only Retry-After limits every category", "[rate_limit][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver rx;
  rx.push_reply(Reply::rate_limited("120", ""));
  RunResult r = run(wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "5s"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  const std::string state = limits_state(spool, rx.dsn());
  CHECK(state.rfind("* ", 0) == 0);
  CHECK(state.find(" 120000\n") != std::string::npos);
  save_session(spool);
  RunResult again = run(wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "3s"}, {"exit", "0"}), 30s);
  CHECK(again.exit_code() == 0);
  CHECK(rx.request_count() == 1);  // nothing at all while everything is limited
}
