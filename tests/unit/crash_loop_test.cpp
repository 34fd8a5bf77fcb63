#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "sinks/crash_loop.h"
#include "sinks/event_builder.h"
#include "sinks/spool.h"

using namespace crashwrap::sinks;
using crashwrap::parsers::Timestamp;
using namespace std::chrono_literals;

namespace {

Timestamp at(std::chrono::milliseconds ms) { return Timestamp(std::chrono::duration_cast<Timestamp::duration>(ms)); }

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/crash_loop_test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

Spool open_spool(const std::string& dir) {
  SpoolOptions o;
  o.dir = dir;
  std::string error;
  auto s = Spool::open(o, error);
  REQUIRE(s);
  return std::move(*s);
}

}  // namespace

TEST_CASE("the first N per window are kept, the rest counted", "[crash_loop]") {
  const CrashLoopPolicy p(3, 1h);
  nlohmann::json state;
  const Timestamp t0 = at(1'000'000'000ms);
  int kept = 0;
  for (int i = 0; i < 10; ++i) {
    auto v = p.admit(state, "fp", "SIGSEGV", t0 + std::chrono::seconds(i));
    kept += v.keep;
    CHECK(v.in_window == static_cast<std::uint64_t>(i + 1));
    CHECK(v.carried == 0);
  }
  CHECK(kept == 3);
  CHECK(state["fp"]["suppressed"] == 7);
  // Another fingerprint has its own window.
  CHECK(p.admit(state, "other", "x", t0).keep);
  CHECK(p.take_ended(state, t0 + 59min).empty());
}

TEST_CASE("the next full event after the window carries the count", "[crash_loop]") {
  const CrashLoopPolicy p(2, 10min);
  nlohmann::json state;
  const Timestamp t0 = at(5'000'000ms);
  for (int i = 0; i < 5; ++i) p.admit(state, "fp", "boom", t0);
  const auto next = p.admit(state, "fp", "boom", t0 + 10min);
  CHECK(next.keep);
  CHECK(next.carried == 3);
  CHECK(next.in_window == 1);
  // Claimed once: no summary for it afterwards.
  CHECK(p.take_ended(state, t0 + 30min).empty());
}

TEST_CASE("an ended window without a next event becomes one summary", "[crash_loop]") {
  const CrashLoopPolicy p(1, 1min);
  nlohmann::json state;
  const Timestamp t0 = at(7'000'000ms);
  p.admit(state, "b", "B", t0 + 1s);
  p.admit(state, "b", "B", t0 + 2s);
  p.admit(state, "a", "A", t0);
  p.admit(state, "a", "A", t0);
  p.admit(state, "a", "A", t0);
  p.admit(state, "quiet", "Q", t0);  // ended, nothing suppressed: dropped silently
  auto ended = p.take_ended(state, t0 + 2min);
  REQUIRE(ended.size() == 2);
  CHECK(ended[0].fingerprint == "a");
  CHECK(ended[0].suppressed == 2);
  CHECK(ended[0].title == "A");
  CHECK(ended[0].window_end - ended[0].window_start == std::chrono::duration_cast<Timestamp::duration>(1min));
  CHECK(ended[1].fingerprint == "b");
  CHECK(ended[1].suppressed == 1);
  CHECK(state.empty());
  CHECK(p.take_ended(state, t0 + 3min).empty());
}

TEST_CASE("a clock going backwards stays in the window; limit 0 keeps everything", "[crash_loop]") {
  const CrashLoopPolicy p(1, 1h);
  nlohmann::json state;
  const Timestamp t0 = at(9'000'000'000ms);
  CHECK(p.admit(state, "fp", "x", t0).keep);
  CHECK_FALSE(p.admit(state, "fp", "x", t0 - 5h).keep);
  const CrashLoopPolicy off(0, 1h);
  nlohmann::json none;
  for (int i = 0; i < 10; ++i) CHECK(off.admit(none, "fp", "x", t0).keep);
  CHECK(none.is_null());
}

TEST_CASE("garbage state is treated as empty", "[crash_loop]") {
  const CrashLoopPolicy p(1, 1h);
  nlohmann::json state = "nonsense";
  CHECK(p.admit(state, "fp", "x", at(1000ms)).keep);
  nlohmann::json entry_garbage = {{"fp", 42}};
  CHECK(p.admit(entry_garbage, "fp", "x", at(1000ms)).keep);
  CHECK(entry_garbage["fp"]["saved"] == 1);
}

TEST_CASE("the count persists in the spool and is shared by processes", "[crash_loop]") {
  TempDir dir;
  const CrashLoopPolicy p(5, 1h);
  const Timestamp t0 = at(2'000'000'000'000ms);
  // 8 processes x 25 events of one fingerprint, racing on one spool.
  std::vector<pid_t> kids;
  for (int k = 0; k < 8; ++k) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      Spool s = open_spool(dir.path);
      int kept = 0;
      for (int i = 0; i < 25; ++i) kept += crash_loop_admit(s, p, "fp", "T", t0).verdict.keep;
      ::_exit(kept);
    }
    kids.push_back(pid);
  }
  int kept = 0;
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    kept += WEXITSTATUS(status);
  }
  CHECK(kept == 5);
  Spool s = open_spool(dir.path);
  CHECK(crash_loop_take_ended(s, p, t0 + 30min).empty());
  auto ended = crash_loop_take_ended(s, p, t0 + 1h);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].suppressed == 195);
  CHECK(crash_loop_take_ended(s, p, t0 + 2h).empty());
}

TEST_CASE("summary and carried events", "[crash_loop]") {
  crashwrap::config::Config cfg;
  cfg.release = "app@1";
  cfg.tags = {{"team", "core"}};
  CrashLoopSummary s{"abc123", "SIGSEGV: Segmentation fault", 42, at(1'700'000'000'000ms),
                     at(1'700'003'600'000ms)};
  const BuiltEvent e = crash_loop_summary_event(cfg, s, at(1'700'003'700'000ms));
  CHECK(e.event["level"] == "warning");
  CHECK(e.event["extra"]["crashwrap.suppressed"] == 42);
  CHECK(e.event["tags"]["crashwrap.crash_loop"] == "summary");
  CHECK(e.event["tags"]["crashwrap.fingerprint"] == "abc123");
  CHECK(e.event["tags"]["team"] == "core");
  CHECK(e.event["release"] == "app@1");
  CHECK(e.event["extra"]["crashwrap.window_start"] == "2023-11-14T22:13:20.000Z");
  const std::string msg = e.event["logentry"]["formatted"];
  CHECK(msg.find("42 more events like \"SIGSEGV: Segmentation fault\"") != std::string::npos);
  CHECK(msg.find("--crash-loop-limit 5 per 1h") != std::string::npos);
  CHECK(e.fingerprint == "abc123");

  BuiltEvent full;
  full.event = {{"tags", {{"a", "b"}}}};
  add_suppressed_count(full, 0);
  CHECK_FALSE(full.event.contains("extra"));
  add_suppressed_count(full, 7);
  CHECK(full.event["extra"]["crashwrap.suppressed"] == 7);
  CHECK(full.event["tags"]["crashwrap.crash_loop"] == "suppressed");
  CHECK(full.event["tags"]["a"] == "b");
}
