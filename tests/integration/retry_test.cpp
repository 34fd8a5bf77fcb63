// Faulty servers with the real binary: 5xx and broken connections are retried
// (first retry within a second), 413 drops the event and reports it, and a
// full spool's evictions are reported as queue_overflow.
#include <catch2/catch.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;

TEST_CASE("5xx answers are retried within the flush timeout", "[retry][integration]") {
  TempDir dir;
  Receiver rx;
  rx.push_reply(Reply::with_status(500));
  rx.push_reply(Reply::with_status(503));
  auto start = std::chrono::steady_clock::now();
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--flush-timeout", "10s"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(elapsed_since(start) < 8s);  // 0.5–1 s, then 1–2 s
  CHECK(rx.request_count() == 3);
  REQUIRE(rx.envelope_count() == 1);
  auto entries = spool_entries(dir.file("spool"));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].id == rx.envelopes()[0].event_id());
  CHECK(entries[0].stage == sinks::Stage::Sent);
}

TEST_CASE("broken connections are retried: reset, slow answer, wrong length", "[retry][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver rx;
  SECTION("a reset before the answer") {
    rx.push_reply(Reply::reset());
    CHECK(run(wrap(spool, {"--dsn", rx.dsn()}, failing_child()), 30s).exit_code() == 3);
    CHECK(rx.request_count() == 2);
    CHECK(rx.envelope_count() == 1);
  }
  SECTION("a slow answer within the HTTP timeout is one delivery") {
    rx.push_reply(Reply::slow(1500ms));
    CHECK(run(wrap(spool, {"--dsn", rx.dsn(), "--http-timeout", "5s"}, failing_child()), 30s).exit_code() == 3);
    CHECK(rx.request_count() == 1);
    CHECK(rx.envelope_count() == 1);
  }
  SECTION("an answer slower than the HTTP timeout is retried") {
    rx.push_reply(Reply::slow(3000ms));
    CHECK(run(wrap(spool, {"--dsn", rx.dsn(), "--http-timeout", "1s", "--flush-timeout", "8s"}, failing_child()),
              30s).exit_code() == 3);
    // The slow answer's request is recorded when the receiver answers it, after crashwrap left.
    CHECK(rx.wait_for_requests(2, 5s));
    CHECK(rx.request_count() == 2);
    CHECK(rx.envelope_count() == 2);  // both accepted by the server: at-least-once
    CHECK(spool_entries(spool)[0].stage == sinks::Stage::Sent);
  }
  SECTION("a 200 with a short body counts as delivered") {
    rx.push_reply(Reply::wrong_length(200));
    CHECK(run(wrap(spool, {"--dsn", rx.dsn()}, failing_child()), 30s).exit_code() == 3);
    CHECK(rx.request_count() == 1);
    CHECK(rx.envelope_count() == 1);
    CHECK(spool_entries(spool)[0].stage == sinks::Stage::Sent);
  }
  CHECK(rx.problems().empty());
}

TEST_CASE("413 drops the event and reports it as send_error", "[retry][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver rx;
  rx.push_reply(Reply::with_status(413));
  RunResult r = run(wrap(spool, {"--dsn", rx.dsn()}, failing_child("too big")), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(r.err.find("refused event") != std::string::npos);
  CHECK(r.err.find("(HTTP 413)") != std::string::npos);
  CHECK(event_requests(rx) == 1);
  auto entries = spool_entries(spool);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].stage == sinks::Stage::Dropped);
  CHECK(entries[0].delivery_for(rx.dsn()).reason == "send_error: HTTP 413");
  // The counts reached the server (on their own at the flush, or with the next event).
  RunResult next = run(wrap(spool, {"--dsn", rx.dsn()}, failing_child("fine")), 30s);
  CHECK(next.exit_code() == 3);
  CHECK(reported(rx, "send_error", "error") == 1);
  CHECK(reported(rx, "send_error", "attachment") == 1);
  CHECK(event_count(rx) == 1);
}

TEST_CASE("a full spool: the oldest are evicted and reported as queue_overflow", "[retry][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  std::string dead;
  std::uint16_t port;
  {
    Receiver gone;
    dead = gone.dsn();
    port = gone.port();
  }
  for (int i = 0; i < 4; ++i) {
    RunResult r = run(wrap(spool, {"--dsn", dead, "--flush-timeout", "0", "--spool-max-files", "2"},
                           failing_child("crash " + std::to_string(i))),
                      30s);
    CHECK(r.exit_code() == 3);
  }
  CHECK(spool_entries(spool).size() == 2);
  ReceiverOptions o;
  o.port = port;  // the server is back
  Receiver rx(o);
  RunResult send = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(send.exit_code() == 0);
  CHECK(event_count(rx) == 2);
  // The newest is always kept (older ones go first, unless a sender held them at that moment).
  std::size_t newest = 0;
  for (const auto& env : rx.envelopes())
    if (env.item("attachment")) newest += env.item("attachment")->payload.find("crash 3") != std::string::npos;
  CHECK(newest == 1);
  CHECK(reported(rx, "queue_overflow", "error") == 2);
}
