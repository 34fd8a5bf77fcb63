// Several DSNs at once: each gets every event, each keeps its own state, and a
// dead or hung one never delays another.
#include <catch2/catch.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;

TEST_CASE("two DSNs each get every event", "[multi_dsn][integration]") {
  TempDir dir;
  Receiver a, b;
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", a.dsn(), "--dsn", b.dsn()}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  REQUIRE(a.envelope_count() == 1);
  REQUIRE(b.envelope_count() == 1);
  CHECK(a.envelopes()[0].event_id() == b.envelopes()[0].event_id());
  CHECK(a.envelopes()[0].parsed.header["dsn"] == a.dsn());
  CHECK(b.envelopes()[0].parsed.header["dsn"] == b.dsn());
  auto entries = spool_entries(dir.file("spool"));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].stage == sinks::Stage::Sent);
  CHECK(entries[0].delivery_for(a.dsn()).status == sinks::DsnStatus::Sent);
  CHECK(entries[0].delivery_for(b.dsn()).status == sinks::DsnStatus::Sent);
}

TEST_CASE("SENTRY_DSN as a comma list", "[multi_dsn][integration]") {
  TempDir dir;
  Receiver a, b;
  ProcessOptions o = wrap(dir.file("spool"), {}, failing_child());
  o.env_set = {{"SENTRY_DSN", a.dsn() + "," + b.dsn()}};
  CHECK(run(o, 30s).exit_code() == 3);
  CHECK(a.envelope_count() == 1);
  CHECK(b.envelope_count() == 1);
}

TEST_CASE("a refused DSN does not hold up the other; it is retried later", "[multi_dsn][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver good;
  std::string dead;
  std::uint16_t dead_port;
  {
    Receiver gone;
    dead = gone.dsn();
    dead_port = gone.port();
  }
  auto start = std::chrono::steady_clock::now();
  RunResult r = run(wrap(spool, {"--dsn", dead, "--dsn", good.dsn(), "--flush-timeout", "2s"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(elapsed_since(start) < 10s);
  CHECK(good.envelope_count() == 1);
  auto entries = spool_entries(spool);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].stage == sinks::Stage::Pending);
  CHECK(entries[0].delivery_for(good.dsn()).status == sinks::DsnStatus::Sent);
  CHECK(entries[0].delivery_for(dead).status == sinks::DsnStatus::Retry);

  // The dead one comes back: only it gets the event now.
  ReceiverOptions o;
  o.port = dead_port;
  Receiver back(o);
  RunResult send = run(send_command(spool, {"--dsn", dead, "--dsn", good.dsn()}), 30s);
  CHECK(send.exit_code() == 0);
  CHECK(back.envelope_count() == 1);
  CHECK(good.envelope_count() == 1);
  CHECK(spool_entries(spool)[0].stage == sinks::Stage::Sent);
}

TEST_CASE("a hung DSN does not delay the other", "[multi_dsn][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver good, hung;
  hung.set_default_reply(Reply::hang());
  auto start = std::chrono::steady_clock::now();
  Process p = Process::start(
      wrap(spool, {"--dsn", hung.dsn(), "--dsn", good.dsn(), "--flush-timeout", "4s", "--http-timeout", "30s"},
           failing_child()));
  // The good server has the event while crashwrap still waits on the hung one.
  REQUIRE(good.wait_for_envelopes(1, 5s));
  CHECK(elapsed_since(start) < 3s);
  CHECK(hung.wait_for_requests(1, 5s));
  std::optional<int> status = p.wait(15s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 3);
  CHECK(elapsed_since(start) >= 3s);  // the flush timeout bounded the wait for the hung one
  auto entries = spool_entries(spool);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].delivery_for(good.dsn()).status == sinks::DsnStatus::Sent);
  CHECK(entries[0].delivery_for(hung.dsn()).status == sinks::DsnStatus::Pending);
}
