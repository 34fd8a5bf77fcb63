#include "agent/flight_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>

#include "agent/diag.h"
#include "support/process.h"

using namespace crashwrap;
using agent::AbandonedRun;
using agent::FlightRecorder;
using namespace std::chrono_literals;

namespace {

const parsers::Timestamp kStart = parsers::Timestamp(std::chrono::seconds(1'700'000'000));

parsers::Line line_at(parsers::Stream s, std::string_view text, int ms_after_start) {
  parsers::Line l;
  l.stream = s;
  l.text = text;
  l.time = kStart + std::chrono::milliseconds(ms_after_start);
  return l;
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

// Runs `body` in a forked process that then dies by SIGKILL, as crashwrap
// does when its whole container is OOM-killed. Returns the child's pid.
pid_t in_killed_process(const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::raise(SIGKILL);
    ::_exit(99);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  return pid;
}

// Captures crashwrap's own messages for the scope of a test.
struct DiagCapture {
  test::TempDir dir;
  int fd;
  DiagCapture() : fd(::open(dir.file("diag").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
    agent::diag::set_output_fd(fd);
  }
  ~DiagCapture() {
    agent::diag::set_output_fd(2);
    ::close(fd);
  }
  std::string text() const { return test::read_file(dir.file("diag")); }
};

std::size_t count_of(const std::string& s, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

// White-box offsets of the record header (agent/flight_recorder.cpp), used
// only to simulate pid reuse.
constexpr off_t kOwnerPidOffset = 28;
constexpr off_t kOwnerStartOffset = 32;

template <typename T>
T read_at(const std::string& path, off_t off) {
  T v{};
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(::pread(fd, &v, sizeof v, off) == static_cast<ssize_t>(sizeof v));
  ::close(fd);
  return v;
}
template <typename T>
void write_at(const std::string& path, off_t off, T v) {
  int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(::pwrite(fd, &v, sizeof v, off) == static_cast<ssize_t>(sizeof v));
  ::close(fd);
}

}  // namespace

TEST_CASE("create: a 0600 record in a 0700 runs/ directory, sized header + ring", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  auto fr = FlightRecorder::create(spool, {"app", "--flag"}, 10000);
  REQUIRE(fr);
  CHECK(fr->ring_capacity() == 12288);  // rounded up to whole pages
  struct stat st {};
  REQUIRE(::stat((spool + "/runs").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(fr->path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 4096 + 12288);
  CHECK(fr->path().rfind(spool + "/runs/run-" + std::to_string(::getpid()) + "-", 0) == 0);
  CHECK(dir_entries(spool + "/runs").size() == 1);  // no temp file left behind

  // Its owner (this process) lives: recovery leaves it alone.
  fr->child_started(42, kStart, {});
  CHECK(FlightRecorder::recover(spool).empty());
  CHECK(std::filesystem::exists(fr->path()));

  const std::string path = fr->path();
  fr->remove();
  CHECK_FALSE(std::filesystem::exists(path));
  fr->remove();  // idempotent
  fr->on_line(line_at(parsers::Stream::Stdout, "after remove", 1));  // harmless no-op
}

TEST_CASE("a run whose owner was SIGKILLed is recovered once, with its tail", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  std::vector<parsers::OomCounter> before = {{"memory.events", "/app.slice/x", 3, 67108864, std::nullopt},
                                             {"memory.oom_control", "/docker/ab", 0, std::nullopt, 1234}};
  const pid_t owner = in_killed_process([&] {
    auto fr = FlightRecorder::create(spool, {"/usr/bin/server", "--port", "8080", ""}, 4096);
    if (!fr) ::_exit(1);
    fr->child_started(4321, kStart, before);
    fr->on_line(line_at(parsers::Stream::Stdout, "listening on :8080", 10));
    fr->on_line(line_at(parsers::Stream::Stderr, "", 20));
    fr->on_line(line_at(parsers::Stream::Stderr, std::string_view("bin\0ary\r\xff", 9), 30));
    fr->on_line(line_at(parsers::Stream::Stderr, "last words", 40));
  });

  auto runs = FlightRecorder::recover(spool);
  REQUIRE(runs.size() == 1);
  const AbandonedRun& r = runs[0];
  CHECK(r.argv == std::vector<std::string>{"/usr/bin/server", "--port", "8080", ""});
  CHECK(r.owner_pid == owner);
  CHECK(r.child_pid == 4321);
  CHECK(r.started == kStart);
  CHECK(r.last_update == kStart + 40ms);
  CHECK(r.record_path.rfind(spool + "/runs/run-" + std::to_string(owner) + "-", 0) == 0);
  REQUIRE(r.tail.size() == 4);
  CHECK(r.tail[0].stream == parsers::Stream::Stdout);
  CHECK(r.tail[0].text == "listening on :8080");
  CHECK(r.tail[0].time == kStart + 10ms);
  CHECK(r.tail[1].stream == parsers::Stream::Stderr);
  CHECK(r.tail[1].text.empty());
  CHECK(r.tail[2].text == std::string("bin\0ary\r\xff", 9));
  CHECK(r.tail[3].text == "last words");
  CHECK(r.tail[3].time == kStart + 40ms);
  REQUIRE(r.oom_before.size() == 2);
  CHECK(r.oom_before[0].source == "memory.events");
  CHECK(r.oom_before[0].cgroup == "/app.slice/x");
  CHECK(r.oom_before[0].oom_kill == 3);
  CHECK(r.oom_before[0].limit == 67108864u);
  CHECK(r.oom_before[0].peak == std::nullopt);
  CHECK(r.oom_before[1].source == "memory.oom_control");
  CHECK(r.oom_before[1].limit == std::nullopt);
  CHECK(r.oom_before[1].peak == 1234u);

  CHECK(dir_entries(spool + "/runs").empty());  // claimed and deleted
  CHECK(FlightRecorder::recover(spool).empty());
}

TEST_CASE("an abandoned run is OOM-killed only when its counter grew", "[flight_recorder]") {
  AbandonedRun run;
  run.started = kStart;
  run.last_update = kStart + 2500ms;
  run.oom_before = {{"memory.events", "/app", 1, 1 << 20, std::nullopt}};
  parsers::ExitInfo same = agent::classify_abandoned_run(run, {{"memory.events", "/app", 1, 1 << 20, 5}});
  CHECK(same.kind == parsers::ExitKind::Unknown);
  CHECK(same.duration == 2500ms);
  CHECK_FALSE(same.oom);
  parsers::ExitInfo grown = agent::classify_abandoned_run(run, {{"memory.events", "/app", 2, 1 << 20, 5}});
  CHECK(grown.kind == parsers::ExitKind::OomKilled);
  CHECK(grown.signal_name == "SIGKILL");
  REQUIRE(grown.oom);
  CHECK(grown.oom->memory_limit == (1u << 20));
  CHECK(grown.oom->memory_peak == 5u);
  CHECK(agent::classify_abandoned_run(run, {}).kind == parsers::ExitKind::Unknown);
}

TEST_CASE("the ring keeps the newest whole lines after wrapping", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  in_killed_process([&] {
    auto fr = FlightRecorder::create(spool, {"app"}, 4096);
    if (!fr) ::_exit(1);
    fr->child_started(1, kStart, {});
    for (int i = 1; i <= 1000; ++i) {
      std::string text = "line " + std::to_string(i) + " " + std::string(i % 37, 'x');
      fr->on_line(line_at(i % 2 ? parsers::Stream::Stdout : parsers::Stream::Stderr, text, i));
    }
  });
  auto runs = FlightRecorder::recover(spool);
  REQUIRE(runs.size() == 1);
  const auto& tail = runs[0].tail;
  REQUIRE(tail.size() > 20);
  std::size_t bytes = 0;
  const int first = 1000 - static_cast<int>(tail.size()) + 1;
  for (std::size_t k = 0; k < tail.size(); ++k) {
    const int i = first + static_cast<int>(k);
    INFO("line " << i);
    CHECK(tail[k].text == "line " + std::to_string(i) + " " + std::string(i % 37, 'x'));
    CHECK(tail[k].stream == (i % 2 ? parsers::Stream::Stdout : parsers::Stream::Stderr));
    CHECK(tail[k].time == kStart + std::chrono::milliseconds(i));
    bytes += 18 + tail[k].text.size();
  }
  CHECK(bytes <= 4096);
  CHECK(bytes > 4096 - 2 * (18 + 45));  // at most the partly overwritten oldest line is lost
}

TEST_CASE("a line longer than a quarter of the ring is cut, not lost", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  const std::string huge(100000, 'z');
  in_killed_process([&] {
    auto fr = FlightRecorder::create(spool, {"app"}, 4096);
    if (!fr) ::_exit(1);
    fr->child_started(1, kStart, {});
    fr->on_line(line_at(parsers::Stream::Stderr, huge, 1));
    fr->on_line(line_at(parsers::Stream::Stderr, "after", 2));
  });
  auto runs = FlightRecorder::recover(spool);
  REQUIRE(runs.size() == 1);
  REQUIRE(runs[0].tail.size() == 2);
  CHECK(runs[0].tail[0].text == std::string(1024, 'z'));
  CHECK(runs[0].tail[1].text == "after");
}

TEST_CASE("records of dead owners that never started or ended are deleted silently", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  in_killed_process([&] { (void)FlightRecorder::create(spool, {"starting"}, 4096); });
  in_killed_process([&] {
    auto fr = FlightRecorder::create(spool, {"ended"}, 4096);
    if (!fr) ::_exit(1);
    fr->child_started(5, kStart, {});
    fr->on_line(line_at(parsers::Stream::Stdout, "bye", 1));
    fr->child_ended();
  });
  REQUIRE(dir_entries(spool + "/runs").size() == 2);
  DiagCapture diag;
  CHECK(FlightRecorder::recover(spool).empty());
  CHECK(dir_entries(spool + "/runs").empty());
  CHECK(diag.text().empty());
}

TEST_CASE("pid reuse: a live pid with another start time is a dead owner", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  const pid_t owner = in_killed_process([&] {
    auto fr = FlightRecorder::create(spool, {"app"}, 4096);
    if (!fr) ::_exit(1);
    fr->child_started(7, kStart, {});
  });
  auto names = dir_entries(spool + "/runs");
  REQUIRE(names.size() == 1);
  const std::string path = spool + "/runs/" + names[0];
  REQUIRE(read_at<std::int32_t>(path, kOwnerPidOffset) == owner);
  const auto dead_start = read_at<std::uint64_t>(path, kOwnerStartOffset);

  // This process's own start time, as a record made here holds it.
  auto mine = FlightRecorder::create(dir.file("other"), {"x"}, 4096);
  REQUIRE(mine);
  const auto own_start = read_at<std::uint64_t>(mine->path(), kOwnerStartOffset);
  REQUIRE(own_start != 0);
  CHECK(dead_start >= own_start);

  // Pretend the owner's pid now belongs to this (live) test process...
  write_at<std::int32_t>(path, kOwnerPidOffset, ::getpid());
  SECTION("with another start time: a reused pid, recovered") {
    // Start times tick at 100 Hz; a child forked right after this process
    // started may share its tick, so make the difference explicit.
    write_at<std::uint64_t>(path, kOwnerStartOffset, own_start + 1);
    CHECK(FlightRecorder::recover(spool).size() == 1);
  }
  SECTION("with this process's own start time: a live owner, left alone") {
    write_at<std::uint64_t>(path, kOwnerStartOffset, own_start);
    CHECK(FlightRecorder::recover(spool).empty());
    CHECK(std::filesystem::exists(path));
    write_at<std::uint64_t>(path, kOwnerStartOffset, own_start + 1);
    CHECK(FlightRecorder::recover(spool).size() == 1);
  }
}

TEST_CASE("corrupt and foreign files get one warning each and stay", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  std::filesystem::create_directories(spool + "/runs");
  REQUIRE(test::write_file(spool + "/runs/run-1-00.rec", "garbage"));
  REQUIRE(test::write_file(spool + "/runs/notes.txt", "hello"));
  std::string future(8192, '\0');
  std::memcpy(future.data(), "CWFLIGHT", 8);
  future[8] = 99;  // version 99
  REQUIRE(test::write_file(spool + "/runs/run-2-00.rec", future));
  REQUIRE(test::write_file(spool + "/runs/.run-3-00.tmp", "being created"));

  REQUIRE(test::write_file(spool + "/runs/.run-4-00.tmp", "left by a crashwrap killed in create()"));
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
  std::filesystem::last_write_time(spool + "/runs/.run-4-00.tmp", old);

  DiagCapture diag;
  CHECK(FlightRecorder::recover(spool).empty());
  CHECK_FALSE(std::filesystem::exists(spool + "/runs/.run-4-00.tmp"));  // stale: removed
  CHECK(std::filesystem::exists(spool + "/runs/.run-3-00.tmp"));        // fresh: may be in use
  const std::string text = diag.text();
  CHECK(count_of(text, "\n") == 3);
  CHECK(count_of(text, "crashwrap: warning: ignoring ") == 3);
  CHECK(text.find("runs/run-1-00.rec: not a crashwrap flight record") != std::string::npos);
  CHECK(text.find("runs/notes.txt: not a crashwrap flight record") != std::string::npos);
  CHECK(text.find("runs/run-2-00.rec: flight record format 99, this crashwrap reads 1") != std::string::npos);
  CHECK(dir_entries(spool + "/runs").size() == 4);
}

TEST_CASE("no runs directory: nothing to recover", "[flight_recorder]") {
  test::TempDir dir;
  DiagCapture diag;
  CHECK(FlightRecorder::recover(dir.file("none")).empty());
  CHECK(diag.text().empty());
}

TEST_CASE("an impossible spool: nullopt and one warning", "[flight_recorder]") {
  test::TempDir dir;
  REQUIRE(test::write_file(dir.file("file"), "x"));
  DiagCapture diag;
  auto fr = FlightRecorder::create(dir.file("file") + "/spool", {"app"}, 4096);
  CHECK_FALSE(fr);
  const std::string text = diag.text();
  CHECK(count_of(text, "\n") == 1);
  CHECK(text.rfind("crashwrap: warning: cannot keep a flight record in " + dir.file("file") + "/spool/runs: ", 0) ==
        0);
  CHECK(text.find("Not a directory") != std::string::npos);
}

TEST_CASE("crashwraps starting together claim each abandoned run exactly once", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  constexpr int kRuns = 6, kRecoverers = 4;
  for (int i = 0; i < kRuns; ++i)
    in_killed_process([&] {
      auto fr = FlightRecorder::create(spool, {"app", std::to_string(i)}, 4096);
      if (!fr) ::_exit(1);
      fr->child_started(100 + i, kStart + std::chrono::seconds(i), {});
    });

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  int go[2];
  REQUIRE(::pipe(go) == 0);
  std::vector<pid_t> kids;
  for (int k = 0; k < kRecoverers; ++k) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      ::close(go[1]);
      char c;
      (void)::read(go[0], &c, 1);  // start together
      for (const auto& r : FlightRecorder::recover(spool)) {
        const char id = static_cast<char>('0' + (r.child_pid - 100));
        (void)::write(fds[1], &id, 1);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  ::close(fds[1]);
  ::close(go[0]);
  ::close(go[1]);  // EOF releases every recoverer at once
  for (pid_t p : kids) ::waitpid(p, nullptr, 0);
  std::string seen;
  char buf[64];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) seen.append(buf, n);
  ::close(fds[0]);
  std::sort(seen.begin(), seen.end());
  CHECK(seen == "012345");
  CHECK(dir_entries(spool + "/runs").empty());
}

TEST_CASE("recovered runs come oldest first", "[flight_recorder]") {
  test::TempDir dir;
  const std::string spool = dir.file("spool");
  for (int i : {2, 0, 1})
    in_killed_process([&] {
      auto fr = FlightRecorder::create(spool, {"app"}, 4096);
      if (!fr) ::_exit(1);
      fr->child_started(i, kStart + std::chrono::seconds(i), {});
    });
  auto runs = FlightRecorder::recover(spool);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].child_pid == 0);
  CHECK(runs[1].child_pid == 1);
  CHECK(runs[2].child_pid == 2);
}

TEST_CASE("on_line cost", "[.][bench][flight_recorder]") {
  test::TempDir dir;
  auto fr = FlightRecorder::create(dir.file("spool"), {"app"}, 256 * 1024);
  REQUIRE(fr);
  fr->child_started(1, kStart, {});
  const std::string text(100, 'a');
  parsers::Line l = line_at(parsers::Stream::Stdout, text, 0);
  constexpr int kLines = 5'000'000;
  for (int i = 0; i < 100000; ++i) fr->on_line(l);  // fault the pages in
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) {
    l.number = static_cast<std::uint64_t>(i);
    fr->on_line(l);
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / kLines;
  WARN("FlightRecorder::on_line: " << ns << " ns/line (100-byte lines, 256 KiB ring)");
  fr->remove();
}
