// The flight recorder end to end: crashwrap and its child are SIGKILLed
// together (as a cgroup OOM kill of a whole container does), and the next
// crashwrap start on the same spool reports the previous run's abnormal end.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/paths.h"
#include "support/process.h"
#include "sinks/envelope.h"
#include "sinks/spool.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

struct SavedEvent {
  nlohmann::json event;
  std::map<std::string, std::string> attachments;  // filename → data
};

std::vector<SavedEvent> saved_events(const std::string& spool_dir) {
  std::vector<SavedEvent> out;
  sinks::SpoolOptions opts;
  opts.dir = spool_dir;
  std::string error;
  auto spool = sinks::Spool::open(opts, error);
  REQUIRE(spool);
  for (const auto& entry : spool->entries()) {
    auto bytes = spool->read_envelope(entry);
    REQUIRE(bytes);
    auto env = sinks::parse_envelope(*bytes, error);
    REQUIRE(env);
    SavedEvent saved;
    for (const auto& item : env->items) {
      if (item.type() == "event") saved.event = nlohmann::json::parse(item.payload);
      if (item.type() == "attachment") saved.attachments[item.header.value("filename", "")] = item.payload;
    }
    if (!saved.event.is_null()) out.push_back(std::move(saved));
  }
  return out;
}

std::vector<std::string> records(const std::string& spool_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(spool_dir + "/runs", ec))
    out.push_back(e.path().string());
  return out;
}

bool a_record_contains(const std::string& spool_dir, std::string_view text) {
  for (const auto& path : records(spool_dir))
    if (read_file(path).find(text) != std::string::npos) return true;
  return false;
}

ProcessOptions crashwrap_run(const std::string& spool_dir, std::vector<std::string> child) {
  ProcessOptions o;
  o.argv = {crashwrap_bin(), "--spool", spool_dir, "--"};
  o.argv.insert(o.argv.end(), child.begin(), child.end());
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL", "SENTRY_RELEASE", "SENTRY_ENVIRONMENT"};
  return o;
}

// Starts crashwrap on a child that prints, then sleeps; returns once the
// child's lines are in the flight record. `child_pid` is the wrapped child.
Process start_sleeping_run(const std::string& spool, pid_t& child_pid) {
  Process p = Process::start(crashwrap_run(
      spool, {test_program("testapp"), "out", "first line", "err", "second line", "pid", "ready", "sleep", "60"}));
  REQUIRE(p.wait_for_output(StdStream::Out, "ready\n", 10s));
  const std::string out = p.output(StdStream::Out);
  const auto at = out.find("pid ");
  REQUIRE(at != std::string::npos);
  child_pid = static_cast<pid_t>(std::stol(out.substr(at + 4)));
  // Lines reach the record just after the passthrough: wait for the last one.
  REQUIRE(wait_until([&] { return a_record_contains(spool, "ready"); }, 10s));
  return p;
}

bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

TEST_CASE("SIGKILL of crashwrap and its child: the next start reports the run with its tail",
          "[integration][flight_recorder]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  pid_t child = 0;
  Process first = start_sleeping_run(spool, child);
  REQUIRE(records(spool).size() == 1);

  REQUIRE(first.send_signal(SIGKILL));
  REQUIRE(::kill(child, SIGKILL) == 0);
  auto status = first.wait(10s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGKILL);
  REQUIRE(wait_until([&] { return gone(child); }, 10s));  // reaped by init
  CHECK(saved_events(spool).empty());
  CHECK(records(spool).size() == 1);  // left "running" by a dead owner

  RunResult second = run(crashwrap_run(spool, {test_program("testapp"), "out", "second run"}), 20s);
  REQUIRE_FALSE(second.timed_out());
  CHECK(second.exit_code() == 0);
  CHECK(second.out == "second run\n");
  INFO("stderr of the second run: " << second.err);
  CHECK(second.err.find("previous run of ") != std::string::npos);
  CHECK(second.err.find("ended while no crashwrap was watching") != std::string::npos);

  auto events = saved_events(spool);
  REQUIRE(events.size() == 1);
  const auto& ev = events[0];
  INFO(ev.event.dump(2));
  CHECK(ev.event.value("level", "") == "fatal");
  CHECK(ev.event.dump().find("testapp") != std::string::npos);
  REQUIRE(ev.attachments.count("output-tail.txt") == 1);
  const std::string& tail = ev.attachments.at("output-tail.txt");
  CHECK(tail.find("first line") != std::string::npos);
  CHECK(tail.find("second line") != std::string::npos);
  CHECK(tail.find("ready") != std::string::npos);
  CHECK(tail.find("first line") < tail.find("second line"));
  CHECK(tail.find("second run") == std::string::npos);

  CHECK(records(spool).empty());  // claimed, and the second run's own record removed at its end

  RunResult third = run(crashwrap_run(spool, {"true"}), 20s);
  CHECK(third.exit_code() == 0);
  CHECK(third.err.find("previous run") == std::string::npos);
  CHECK(saved_events(spool).size() == 1);  // reported once only
}

TEST_CASE("a run whose crashwrap still lives is not reported by another start",
          "[integration][flight_recorder]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  pid_t child = 0;
  Process first = start_sleeping_run(spool, child);

  RunResult other = run(crashwrap_run(spool, {"true"}), 20s);
  CHECK(other.exit_code() == 0);
  CHECK(other.err.find("previous run") == std::string::npos);
  CHECK(saved_events(spool).empty());
  CHECK(records(spool).size() == 1);  // only the live run's record remains

  // Its child ends normally: crashwrap reports nothing and leaves no record.
  REQUIRE(::kill(child, SIGKILL) == 0);
  auto status = first.wait(20s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGKILL);  // crashwrap re-raised its child's signal
  CHECK(records(spool).empty());
  RunResult after = run(crashwrap_run(spool, {"true"}), 20s);
  CHECK(after.err.find("previous run") == std::string::npos);
}
