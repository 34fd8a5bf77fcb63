// Protection with the real binary: a crash loop on one spool is limited per
// fingerprint and summarised; secrets never reach the spool or the wire while
// the app's own output keeps them; --sample-rate drops handled errors only.
#include <csignal>
#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "integration/delivery_helpers.h"
#include "sinks/compression.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;

namespace {

// Every envelope file of the spool, decompressed, concatenated.
std::string spool_text(const std::string& spool) {
  std::string all;
  for (const auto& e : spool_entries(spool)) {
    const std::string compressed = read_file(e.path);
    auto text = sinks::decompress(compressed, sinks::Codec::Zstd, 64u << 20);
    REQUIRE(text.status == sinks::DecodeStatus::Ok);
    all += text.data;
  }
  return all;
}

// Every file under `dir` (records, state, flight records), raw.
std::string all_files(const std::string& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir))
    if (f.is_regular_file()) all += read_file(f.path().string());
  return all;
}

// Distinct events in arrival order (delivery is at-least-once: a resend is not a new event).
std::vector<nlohmann::json> events(const Receiver& rx) {
  std::vector<nlohmann::json> out;
  std::set<std::string> seen;
  for (const auto& env : rx.envelopes())
    if (env.item("event") && seen.insert(env.event_id()).second) out.push_back(env.event());
  return out;
}
std::size_t distinct_events(const Receiver& rx) { return events(rx).size(); }

// A Python traceback the child survives: a handled, logged error.
std::vector<std::string> handled_error_then(std::vector<std::string> rest) {
  std::vector<std::string> c = {"err", "Traceback (most recent call last):",
                                "err", "  File \"/app/job.py\", line 3, in <module>",
                                "err", "ValueError: handled and logged",
                                "sleep", "1.5"};
  c.insert(c.end(), rest.begin(), rest.end());
  return c;
}
const std::vector<std::string> kFastVerdict = {"--report-exit-grace", "100ms", "--detector-quiet", "100ms"};

}  // namespace

TEST_CASE("a crash loop of 200 runs: limit full events, the rest counted and summarised",
          "[protect][integration]") {
  TempDir dir;
  Receiver rx;
  const std::string spool = dir.file("spool");
  for (int i = 0; i < 200; ++i) {
    RunResult r = run(wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "0", "--quiet"}, {"segv"}), 30s);
    REQUIRE(r.term_signal() == SIGSEGV);
  }
  // Everything saved is delivered by `crashwrap send`.
  RunResult s = run(send_command(spool, {"--dsn", rx.dsn()}), 60s);
  CHECK(s.exit_code() == 0);
  CHECK(rx.problems().empty());
  auto full = events(rx);
  CHECK(full.size() == 5);
  for (const auto& e : full) CHECK_FALSE(e["tags"].contains("crashwrap.crash_loop"));
  auto state = nlohmann::json::parse(spool_state(spool, "crash-loop.json").value_or("{}"));
  REQUIRE(state.size() == 1);
  CHECK(state.begin().value()["saved"] == 5);
  CHECK(state.begin().value()["suppressed"] == 195);

  // The window ends (here: a shorter window on the next start): one summary
  // with the count, sent by the next crashwrap that runs, even a clean one.
  RunResult next = run(wrap(spool, {"--dsn", rx.dsn(), "--crash-loop-window", "1ms"}, {"exit", "0"}), 30s);
  CHECK(next.exit_code() == 0);
  REQUIRE(rx.wait_for([](const Receiver& r) { return distinct_events(r) == 6; }, 30s));
  const nlohmann::json summary = events(rx).back();
  CHECK(summary["level"] == "warning");
  CHECK(summary["extra"]["crashwrap.suppressed"] == 195);
  CHECK(summary["tags"]["crashwrap.crash_loop"] == "summary");
  CHECK(summary["tags"]["crashwrap.fingerprint"] == full[0]["tags"]["crashwrap.fingerprint"]);
  std::size_t listed = 0;  // `crashwrap list` names it
  for (const auto& e : spool_entries(spool)) listed += e.summary.rfind("crash loop: 195 more events like", 0) == 0;
  CHECK(listed == 1);
  // Claimed once.
  RunResult again = run(wrap(spool, {"--dsn", rx.dsn(), "--crash-loop-window", "1ms"}, {"exit", "0"}), 30s);
  CHECK(again.exit_code() == 0);
  CHECK(distinct_events(rx) == 6);
  CHECK(rx.problems().empty());
}

TEST_CASE("suppressed counts ride on the next full event of a new window", "[protect][integration]") {
  TempDir dir;
  Receiver rx;
  const std::string spool = dir.file("spool");
  for (int i = 0; i < 4; ++i)
    CHECK(run(wrap(spool, {"--crash-loop-limit", "1", "--flush-timeout", "0", "--quiet"}, {"abort"}), 30s)
              .term_signal() == SIGABRT);
  // A state whose window began long ago: the next crash opens a new window.
  auto state = nlohmann::json::parse(spool_state(spool, "crash-loop.json").value_or("{}"));
  REQUIRE(state.size() == 1);
  CHECK(state.begin().value()["suppressed"] == 3);
  state.begin().value()["start"] = 0;
  // The start of a run would claim it as a summary; with the window ended and
  // the same crash arriving first in one process, the event carries it.
  REQUIRE(write_spool_state(spool, "crash-loop.json", state.dump()));
  RunResult r = run(wrap(spool, {"--dsn", rx.dsn(), "--crash-loop-limit", "1"}, {"abort"}), 30s);
  CHECK(r.term_signal() == SIGABRT);
  REQUIRE(rx.wait_for([](const Receiver& x) { return distinct_events(x) >= 1; }, 30s));
  // Delivered: the summary (claimed at start) and the first full events.
  std::uint64_t counted = 0;
  for (const auto& e : events(rx)) counted += e.contains("extra") ? e["extra"].value("crashwrap.suppressed", 0u) : 0u;
  CHECK(counted == 3);
}

TEST_CASE("secrets are scrubbed from the spool and the wire, never from the app's output",
          "[protect][integration]") {
  TempDir dir;
  Receiver rx;
  const std::string spool = dir.file("spool");
  const std::vector<std::string> secrets = {"abcdef0123456789", "topsecretbearer", "hunter2",
                                            "AKIAIOSFODNN7EXAMPLE", "4111111111111111"};
  RunResult r = run(wrap(spool, {"--dsn", rx.dsn()},
                         {"out", "SENTRY_DSN=https://abcdef0123456789@o1.ingest.sentry.io/42",
                          "err", "> Authorization: Bearer topsecretbearer",
                          "out", "login user=bob password=hunter2",
                          "err", "using key AKIAIOSFODNN7EXAMPLE",
                          "out", "charging 4111111111111111 now",
                          "err", "about to crash", "segv"}),
                    30s);
  CHECK(r.term_signal() == SIGSEGV);
  for (const auto& s : secrets) CHECK((r.out + r.err).find(s) != std::string::npos);
  CHECK(r.out.find("login user=bob password=hunter2\n") != std::string::npos);
  REQUIRE(rx.wait_for_envelopes(1, 30s));
  CHECK(rx.problems().empty());

  const std::string on_disk = spool_text(spool) + all_files(spool);
  std::string on_wire;
  for (const auto& env : rx.envelopes()) on_wire += env.parsed.header.dump();
  for (const auto& req : rx.requests()) {
    auto body = sinks::decompress(req.body, sinks::detect_codec(req.body), 64u << 20);
    on_wire += body.status == sinks::DecodeStatus::Ok ? body.data : req.body;
  }
  CHECK(on_wire.find("about to crash") != std::string::npos);  // the test reads the right bytes
  CHECK(on_disk.find("about to crash") != std::string::npos);
  for (const auto& s : secrets) {
    INFO(s);
    CHECK(on_disk.find(s) == std::string::npos);
    CHECK(on_wire.find(s) == std::string::npos);
  }
  CHECK(on_wire.find("password=[Filtered]") != std::string::npos);
  CHECK(on_wire.find("Authorization: [Filtered]") != std::string::npos);
}

TEST_CASE("scrubbing off (--no-scrub) keeps the text as printed", "[protect][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  RunResult r = run(wrap(spool, {"--no-scrub"}, {"err", "password=hunter2", "exit", "3"}), 30s);
  CHECK(r.exit_code() == 3);
  CHECK(spool_text(spool).find("password=hunter2") != std::string::npos);
}

TEST_CASE("a bad --scrub-pattern is one warning and the app runs", "[protect][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  RunResult r = run(wrap(spool, {"--scrub-pattern", "(oops", "--scrub-pattern", "id=[0-9]+"},
                         {"out", "hello", "err", "order id=12345", "exit", "3"}),
                    30s);
  CHECK(r.exit_code() == 3);
  CHECK(r.out == "hello\n");
  CHECK(r.err.find("crashwrap: warning: --scrub-pattern '(oops' is not a valid regular expression") !=
        std::string::npos);
  const std::string text = spool_text(spool);
  CHECK(text.find("id=12345") == std::string::npos);
  CHECK(text.find("order [Filtered]") != std::string::npos);
}

TEST_CASE("sample rate 0 drops handled errors (client report: sample_rate), fatal ones still go",
          "[protect][integration]") {
  TempDir dir;
  Receiver rx;
  const std::string spool = dir.file("spool");
  std::vector<std::string> opts = {"--dsn", rx.dsn(), "--sample-rate", "0"};
  opts.insert(opts.end(), kFastVerdict.begin(), kFastVerdict.end());
  RunResult r = run(wrap(spool, opts, handled_error_then({"segv"})), 30s);
  CHECK(r.term_signal() == SIGSEGV);
  REQUIRE(rx.wait_for([](const Receiver& x) { return distinct_events(x) == 1; }, 30s));
  // The client report rides on a later envelope: a second run delivers it.
  RunResult r2 = run(wrap(spool, {"--dsn", rx.dsn()}, {"exit", "3"}), 30s);
  CHECK(r2.exit_code() == 3);
  REQUIRE(rx.wait_for([](const Receiver& x) { return reported(x, "sample_rate", "error") >= 1; }, 30s));
  CHECK(reported(rx, "sample_rate", "error") == 1);
  for (const auto& e : events(rx)) CHECK(e["level"] != "error");  // no handled error was sent
  CHECK(events(rx)[0]["exception"]["values"].back()["mechanism"]["handled"] == false);
  CHECK(rx.problems().empty());
}

TEST_CASE("sample rate 1 keeps handled errors", "[protect][integration]") {
  TempDir dir;
  Receiver rx;
  std::vector<std::string> opts = {"--dsn", rx.dsn()};
  opts.insert(opts.end(), kFastVerdict.begin(), kFastVerdict.end());
  RunResult r = run(wrap(dir.file("spool"), opts, handled_error_then({"exit", "0"})), 30s);
  CHECK(r.exit_code() == 0);
  REQUIRE(rx.wait_for([](const Receiver& x) { return distinct_events(x) == 1; }, 30s));
  CHECK(events(rx)[0]["exception"]["values"].back()["mechanism"]["handled"] == true);
}

TEST_CASE("a crash held back by the crash-loop limit says so in its summary line", "[protect][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  RunResult first = run(wrap(spool, {"--crash-loop-limit", "1"}, {"exit", "3"}), 30s);
  CHECK(first.exit_code() == 3);
  CHECK(first.err.find("saved to ") != std::string::npos);
  RunResult second = run(wrap(spool, {"--crash-loop-limit", "1"}, {"exit", "3"}), 30s);
  CHECK(second.exit_code() == 3);
  CHECK(second.err.find("\xe2\x80\xa6 not saved: crash loop (over --crash-loop-limit 1 in the window") !=
        std::string::npos);
  CHECK(second.err.find("could not be saved") == std::string::npos);
  CHECK(spool_entries(spool).size() == 1);
}
