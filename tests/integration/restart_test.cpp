// --restart end to end: each lifetime is its own session and its own events,
// crashwrap ends with the last child's status, and a SIGTERM stops restarting.
#include <csignal>
#include <set>

#include <catch2/catch.hpp>

#include "integration/lifecycle_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::lifecycle;

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("on-failure with --max-restarts 3: four lifetimes, four sessions, the last status",
          "[restart][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(with_release(dir.file("spool"), rx,
                                 {"--restart", "on-failure", "--max-restarts", "3", "--restart-delay", "10ms"},
                                 {"out", "lifetime", "err", "boom", "exit", "3"}),
                    60s);
  CHECK(r.exit_code() == 3);
  CHECK(r.out == "lifetime\nlifetime\nlifetime\nlifetime\n");
  CHECK(occurrences(r.err, "crashwrap: restarting testapp (it exited with code 3) in ") == 3);
  CHECK(r.err.find("restart 3 of 3") != std::string::npos);
  CHECK(occurrences(r.err, "crashwrap: warning: not restarting testapp again after 3 restarts in a row") == 1);
  CHECK(delivery::event_count(rx) == 4);
  std::set<std::string> sids, closed;
  for (const Item& s : items_of(rx, "session")) {
    sids.insert(s.payload["sid"].get<std::string>());
    if (s.payload["status"] == "errored") {
      closed.insert(s.payload["sid"].get<std::string>());
      CHECK(s.with_event);
      CHECK(s.payload["errors"] == 1);  // each lifetime counts its own errors
    }
  }
  CHECK(sids.size() == 4);
  CHECK(closed == sids);
  // Each lifetime's event has its own output tail, not the previous ones'.
  for (const auto& env : rx.envelopes())
    if (const auto* tail = env.item("attachment")) CHECK(occurrences(tail->payload, "lifetime") == 1);
}

TEST_CASE("on-failure stops at the first success", "[restart][integration]") {
  TempDir dir;
  const std::string marker = dir.file("ran-once");
  // The first lifetime fails, the second finds the marker and succeeds.
  ProcessOptions o = delivery::wrap(dir.file("spool"), {"--restart", "on-failure", "--restart-delay", "10ms"},
                                    {"out", "start"});
  o.argv.resize(o.argv.size() - 3);  // replace testapp by a shell for the marker logic
  o.argv.insert(o.argv.end(), {"/bin/sh", "-c", "echo start; if [ -e " + marker + " ]; then exit 0; fi; touch " +
                                                     marker + "; exit 7"});
  RunResult r = run(o, 30s);
  CHECK(r.exit_code() == 0);
  CHECK(r.out == "start\nstart\n");
  CHECK(occurrences(r.err, "crashwrap: restarting sh (it exited with code 7)") == 1);
}

TEST_CASE("a SIGTERM during the restart delay stops restarting; the status is the last child's",
          "[restart][integration]") {
  TempDir dir;
  ProcessOptions o = delivery::wrap(dir.file("spool"), {"--restart", "always", "--restart-delay", "30s"},
                                    {"out", "ready", "exit", "5"});
  Process p = Process::start(o);
  REQUIRE(p.wait_for_output(StdStream::Err, "crashwrap: restarting testapp", 20s));
  const auto start = std::chrono::steady_clock::now();
  p.send_signal(SIGTERM);
  std::optional<int> status = p.wait(20s);
  REQUIRE(status);
  CHECK(exit_code(*status) == 5);
  CHECK(std::chrono::steady_clock::now() - start < 20s);
  CHECK(p.output(StdStream::Out) == "ready\n");  // no second lifetime
}

TEST_CASE("a SIGTERM while the child runs is forwarded and ends the restarts", "[restart][integration]") {
  TempDir dir;
  ProcessOptions o = delivery::wrap(dir.file("spool"), {"--restart", "always", "--restart-delay", "10ms"},
                                    {"ready", "sleep", "60"});
  Process p = Process::start(o);
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 20s));
  p.send_signal(SIGTERM);
  std::optional<int> status = p.wait(20s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGTERM);
  CHECK(p.output(StdStream::Out) == "ready\n");
  CHECK(p.output(StdStream::Err).find("restarting") == std::string::npos);
}
