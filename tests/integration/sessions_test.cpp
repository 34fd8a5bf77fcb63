// Release-health sessions end to end: the real binary, a loopback receiver,
// one session per lifetime of the child, closed with how the child ended.
#include <unistd.h>

#include <csignal>

#include <catch2/catch.hpp>

#include "integration/lifecycle_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::lifecycle;

namespace {

// The init update and the final one of the only session sent.
struct Lifetime {
  Item init;
  Item last;
};

Lifetime one_session(const Receiver& rx) {
  std::vector<Item> s = items_of(rx, "session");
  REQUIRE(s.size() == 2);
  const Item& init = s[0].payload.contains("init") ? s[0] : s[1];
  const Item& last = s[0].payload.contains("init") ? s[1] : s[0];
  CHECK(init.payload["init"] == true);
  CHECK(init.payload["status"] == "ok");
  CHECK(init.payload["errors"] == 0);
  CHECK_FALSE(last.payload.contains("init"));
  CHECK(last.payload["sid"] == init.payload["sid"]);
  CHECK(last.payload["started"] == init.payload["started"]);
  CHECK(last.payload["did"] == "host-a");
  CHECK(last.payload["attrs"]["release"] == "app@1.0");
  CHECK(last.payload["duration"].is_number());
  CHECK(last.payload["duration"].get<double>() >= 0.0);
  return {init, last};
}

}  // namespace

TEST_CASE("a clean exit: init ok, then exited", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx, {"--environment", "staging"}, {"out", "hello"}), 30s);
  CHECK(r.exit_code() == 0);
  CHECK(r.out == "hello\n");
  CHECK(rx.problems().empty());
  Lifetime l = one_session(rx);
  CHECK(l.last.payload["status"] == "exited");
  CHECK(l.last.payload["errors"] == 0);
  CHECK(l.last.payload["attrs"]["environment"] == "staging");
  CHECK_FALSE(l.last.with_event);
  CHECK(delivery::event_count(rx) == 0);
}

TEST_CASE("exit 3: errored, in the envelope of the exit's event", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx, {}, {"err", "boom", "exit", "3"}), 30s);
  CHECK(r.exit_code() == 3);
  Lifetime l = one_session(rx);
  CHECK(l.last.payload["status"] == "errored");
  CHECK(l.last.payload["errors"] == 1);
  REQUIRE(l.last.with_event);
  CHECK(l.last.event["release"] == "app@1.0");
  CHECK(delivery::event_count(rx) == 1);
}

TEST_CASE("an ignored exit code ends the session as exited", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx, {"--ignore-exit-codes", "3"}, {"exit", "3"}), 30s);
  CHECK(r.exit_code() == 3);
  Lifetime l = one_session(rx);
  CHECK(l.last.payload["status"] == "exited");
  CHECK(delivery::event_count(rx) == 0);
}

TEST_CASE("SIGSEGV: crashed, in the same envelope as the crash event", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx, {}, {"out", "going down", "segv"}), 30s);
  CHECK(r.term_signal() == SIGSEGV);
  Lifetime l = one_session(rx);
  CHECK(l.last.payload["status"] == "crashed");
  CHECK(l.last.payload["errors"] == 1);
  REQUIRE(l.last.with_event);
  CHECK(l.last.event["level"] == "fatal");
  const auto envelopes = rx.envelopes();
  const auto types = envelopes[l.last.envelope].item_types();
  CHECK(types.front() == "event");
  CHECK(types.back() == "session");
}

TEST_CASE("a handled, logged trace: errored, the update on its own", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx, {"--report-exit-grace", "200ms", "--detector-quiet", "200ms"},
                                 {"err", "Traceback (most recent call last):", "err",
                                  "  File \"/srv/app.py\", line 3, in <module>", "err", "ValueError: bad input",
                                  "sleep", "1.5", "exit", "0"}),
                    30s);
  CHECK(r.exit_code() == 0);
  Lifetime l = one_session(rx);
  CHECK(l.last.payload["status"] == "errored");
  CHECK(l.last.payload["errors"] == 1);
  CHECK_FALSE(l.last.with_event);
  REQUIRE(delivery::event_count(rx) == 1);
  for (const auto& env : rx.envelopes())
    if (env.item("event")) CHECK(env.event()["level"] == "error");
}

TEST_CASE("crashwrap and its child SIGKILLed: the next start closes the session as abnormal",
          "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  const std::string spool = dir.file("spool");
  std::string sid;
  {
    Process p = Process::start(with_release(spool, rx, {}, {"ready", "sleep", "60"}));
    REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
    REQUIRE(rx.wait_for([](const Receiver& r) { return count_of(r, "session") >= 1; }, 10s));
    sid = items_of(rx, "session")[0].payload["sid"];
    p.signal_group(SIGKILL);
    REQUIRE(p.wait(10s));
  }
  RunResult next = run(with_release(spool, rx, {}, {"exit", "0"}), 30s);
  CHECK(next.exit_code() == 0);
  CHECK(next.err.find("ended while no crashwrap was watching") != std::string::npos);
  std::vector<Item> abnormal;
  for (const Item& s : items_of(rx, "session"))
    if (s.payload["status"] == "abnormal") abnormal.push_back(s);
  REQUIRE(abnormal.size() == 1);
  CHECK(abnormal[0].payload["sid"] == sid);
  CHECK_FALSE(abnormal[0].payload.contains("init"));
  CHECK(abnormal[0].payload["attrs"]["release"] == "app@1.0");
  CHECK(abnormal[0].with_event);
  CHECK(abnormal[0].event["tags"]["exit.kind"].is_string());
}

TEST_CASE("no release or --no-sessions: no session is sent", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  ProcessOptions none = delivery::wrap(dir.file("spool"), {"--dsn", rx.dsn()}, {"exit", "3"});
  for (const char* v : {"SENTRY_RELEASE", "SOURCE_VERSION", "GIT_COMMIT", "GITHUB_SHA", "HEROKU_SLUG_COMMIT",
                               "K_REVISION", "CI_COMMIT_SHA", "CIRCLE_SHA1", "BUILD_SOURCEVERSION"})
    none.env_unset.push_back(v);
  CHECK(run(none, 30s).exit_code() == 3);
  CHECK(run(with_release(dir.file("spool2"), rx, {"--no-sessions"}, {"exit", "3"}), 30s).exit_code() == 3);
  CHECK(delivery::event_count(rx) == 2);
  CHECK(count_of(rx, "session") == 0);
}

TEST_CASE("a release from the environment (GITHUB_SHA) starts sessions", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  ProcessOptions o = delivery::wrap(dir.file("spool"), {"--dsn", rx.dsn()}, {"exit", "0"});
  o.env_unset.push_back("SENTRY_RELEASE");
  o.env_unset.push_back("SOURCE_VERSION");
  o.env_unset.push_back("HEROKU_SLUG_COMMIT");
  o.env_unset.push_back("K_REVISION");
  o.env_unset.push_back("GIT_COMMIT");
  o.env_set = {{"GITHUB_SHA", "0123456789abcdef"}};
  CHECK(run(o, 30s).exit_code() == 0);
  std::vector<Item> s = items_of(rx, "session");
  REQUIRE(s.size() == 2);
  CHECK(s[0].payload["attrs"]["release"] == "0123456789abcdef");
}

TEST_CASE("a long run sends periodic ok updates of the same session", "[sessions][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx, {"--session-update-interval", "300ms"}, {"sleep", "1.5"}), 30s);
  CHECK(r.exit_code() == 0);
  std::vector<Item> s = items_of(rx, "session");
  REQUIRE(s.size() >= 3);
  std::size_t periodic = 0;
  for (const Item& i : s) {
    CHECK(i.payload["sid"] == s[0].payload["sid"]);
    if (i.payload["status"] == "ok" && !i.payload.contains("init")) {
      ++periodic;
      CHECK(i.payload["duration"].get<double>() >= 0.3);
    }
  }
  CHECK(periodic >= 2);
  CHECK(s.back().payload["status"] == "exited");
}
