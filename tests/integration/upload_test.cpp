// The real binary delivering to a loopback Sentry receiver: what arrives, how
// it is encoded and authenticated, and what happens when the server is away.
#include <csignal>

#include <catch2/catch.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;

TEST_CASE("a crash reaches the receiver with the output tail attached", "[upload][integration]") {
  TempDir dir;
  Receiver rx;
  const std::string spool = dir.file("spool");
  RunResult r = run(wrap(spool, {"--dsn", rx.dsn()}, {"out", "starting", "err", "about to fail", "segv"}), 30s);
  CHECK(r.term_signal() == SIGSEGV);
  CHECK(r.out == "starting\n");
  CHECK(r.err.find("about to fail\n") == 0);
  CHECK(rx.problems().empty());
  REQUIRE(rx.envelope_count() == 1);
  ReceivedEnvelope env = rx.envelopes()[0];
  REQUIRE(env.item_types().size() >= 2);
  CHECK(env.item_types()[0] == "event");
  const sinks::ParsedItem* tail = env.item("attachment");
  REQUIRE(tail);
  CHECK(tail->header["filename"] == "output-tail.txt");
  CHECK(tail->header["content_type"] == "text/plain");
  CHECK(tail->header["attachment_type"] == "event.attachment");
  CHECK(tail->payload.find("about to fail") != std::string::npos);
  nlohmann::json event = env.event();
  CHECK(event["event_id"] == env.event_id());
  CHECK(event["level"] == "fatal");
  CHECK(env.parsed.header["dsn"] == rx.dsn());
  CHECK(env.parsed.header["sdk"]["name"] == "crashwrap");

  const ReceivedRequest req = rx.requests()[0];
  CHECK(req.header("X-Sentry-Auth") ==
        std::string("Sentry sentry_version=7, sentry_client=crashwrap/") + CRASHWRAP_VERSION + ", sentry_key=testkey");
  CHECK(req.header("Content-Type") == "application/x-sentry-envelope");
  CHECK(req.header("Content-Encoding") == "gzip");
  CHECK(req.header("User-Agent") == std::string("crashwrap/") + CRASHWRAP_VERSION);

  auto entries = spool_entries(spool);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].id == env.event_id());
  CHECK(entries[0].stage == sinks::Stage::Sent);
}

TEST_CASE("zstd and uncompressed bodies (--compression)", "[upload][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult z = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--compression", "zstd"}, failing_child()), 30s);
  CHECK(z.exit_code() == 3);
  RunResult n = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--compression", "none"}, failing_child()), 30s);
  CHECK(n.exit_code() == 3);
  REQUIRE(rx.envelope_count() == 2);
  CHECK(rx.requests()[0].header("Content-Encoding") == "zstd");
  CHECK(rx.requests()[1].header("Content-Encoding").empty());
  CHECK(rx.problems().empty());
}

TEST_CASE("a DSN secret and a path prefix are honoured", "[upload][integration]") {
  TempDir dir;
  ReceiverOptions o;
  o.public_key = "pub";
  o.project_id = "7";
  o.path_prefix = "/sentry";
  Receiver rx(o);
  const std::string dsn = "http://pub:sec@127.0.0.1:" + std::to_string(rx.port()) + "/sentry/7";
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", dsn}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  REQUIRE(rx.envelope_count() == 1);
  CHECK(rx.requests()[0].target == "/sentry/api/7/envelope/");
  CHECK(rx.requests()[0].header("X-Sentry-Auth").find(", sentry_key=pub, sentry_secret=sec") != std::string_view::npos);
}

TEST_CASE("receiver down at crash time: the event is kept, then sent by the next start", "[upload][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  std::uint16_t port;
  std::string dsn;
  {
    Receiver gone;
    port = gone.port();
    dsn = gone.dsn();
  }
  auto start = std::chrono::steady_clock::now();
  RunResult r = run(wrap(spool, {"--dsn", dsn, "--flush-timeout", "2s"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(elapsed_since(start) < 10s);
  auto entries = spool_entries(spool);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].stage == sinks::Stage::Pending);
  CHECK(entries[0].delivery_for(dsn).status == sinks::DsnStatus::Retry);
  const std::string id = entries[0].id;

  ReceiverOptions o;
  o.port = port;
  Receiver rx(o);
  RunResult clean = run(wrap(spool, {"--dsn", dsn}, {"out", "fine"}), 30s);
  CHECK(clean.exit_code() == 0);
  CHECK(clean.out == "fine\n");
  REQUIRE(rx.envelope_count() == 1);
  CHECK(rx.envelopes()[0].event_id() == id);
  CHECK(spool_entries(spool)[0].stage == sinks::Stage::Sent);
}

TEST_CASE("receiver down at crash time: `crashwrap send` delivers later", "[upload][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  std::string dead;
  {
    Receiver gone;
    dead = gone.dsn();
  }
  CHECK(run(wrap(spool, {"--dsn", dead, "--flush-timeout", "1s"}, failing_child("one")), 30s).exit_code() == 3);
  CHECK(run(wrap(spool, {"--dsn", dead, "--flush-timeout", "0"}, failing_child("two")), 30s).exit_code() == 3);

  RunResult still_down = run(send_command(spool, {"--dsn", dead}), 30s);
  CHECK(still_down.exit_code() == 1);
  CHECK(still_down.err.find("crashwrap: send: 0 sent, 0 dropped, 2 left in the spool (last error: connect") !=
        std::string::npos);

  Receiver rx;
  RunResult sent = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(sent.exit_code() == 0);
  CHECK(sent.err == "crashwrap: send: 2 sent, 0 dropped, 0 left in the spool\n");
  CHECK(event_count(rx) == 2);
  // The events saved for another DSN went to the one configured now.
  for (const auto& e : spool_entries(spool)) CHECK(e.stage == sinks::Stage::Sent);
}

TEST_CASE("events saved without a DSN are sent once one is configured", "[upload][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  RunResult r = run(wrap(spool, {}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  REQUIRE(spool_entries(spool).size() == 1);
  Receiver rx;
  RunResult next = run(wrap(spool, {"--dsn", rx.dsn()}, {"exit", "0"}), 30s);
  CHECK(next.exit_code() == 0);
  CHECK(event_count(rx) == 1);
}

TEST_CASE("a malformed DSN: the app runs, the event stays for a later send", "[upload][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  RunResult r = run(wrap(spool, {"--dsn", "http://127.0.0.1:9/not-a-number"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(r.err.find("\nboom\n") != std::string::npos);
  CHECK(r.err.rfind("crashwrap: warning: --dsn 'http://127.0.0.1:9/not-a-number' is not a valid DSN: ", 0) == 0);
  REQUIRE(spool_entries(spool).size() == 1);
  Receiver rx;
  CHECK(run(send_command(spool, {"--dsn", rx.dsn()}), 30s).exit_code() == 0);
  CHECK(event_count(rx) == 1);
}

TEST_CASE("the proxy environment is honoured", "[upload][integration]") {
  TempDir dir;
  Receiver proxy;  // answers absolute-form requests as if it were the server behind the proxy
  std::string unreachable;
  {
    Receiver gone;
    unreachable = gone.dsn();
  }
  ProcessOptions o = wrap(dir.file("spool"), {"--dsn", unreachable}, failing_child());
  o.env_unset.erase(std::find(o.env_unset.begin(), o.env_unset.end(), "http_proxy"));
  o.env_set = {{"http_proxy", "http://127.0.0.1:" + std::to_string(proxy.port())}};
  CHECK(run(o, 30s).exit_code() == 3);
  REQUIRE(proxy.envelope_count() == 1);
  CHECK(proxy.requests()[0].absolute_form);

  // NO_PROXY wins: straight to the server.
  Receiver direct;
  ProcessOptions d = wrap(dir.file("spool2"), {"--dsn", direct.dsn()}, failing_child());
  d.env_unset.clear();
  d.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL"};
  d.env_set = {{"http_proxy", "http://127.0.0.1:" + std::to_string(proxy.port())}, {"no_proxy", "127.0.0.1"}};
  CHECK(run(d, 30s).exit_code() == 3);
  CHECK(direct.envelope_count() == 1);
  CHECK(proxy.request_count() == 1);
}

TEST_CASE("turning TLS verification off (--insecure) warns once, loudly", "[upload][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--insecure"}, failing_child()), 30s);
  CHECK(r.exit_code() == 3);
  const std::string needle = "crashwrap: warning: --insecure: TLS certificates are NOT verified";
  auto first = r.err.find(needle);
  CHECK(first != std::string::npos);
  CHECK(r.err.find(needle, first + 1) == std::string::npos);
  CHECK(rx.envelope_count() == 1);
}
