// The local outbox with the real binary: bounds, an unwritable spool, a full
// disk, and `crashwrap list` / `show` on what a crash saved.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "sinks/atomic_file.h"
#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

RunResult cw(std::vector<std::string> args, const std::string& spool) {
  return run(crashwrap_options(std::move(args), spool), 30s);
}

std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (std::size_t p = 0; p < text.size();) {
    std::size_t nl = text.find('\n', p);
    if (nl == std::string::npos) nl = text.size();
    if (text.compare(p, prefix.size(), prefix) == 0) out.push_back(text.substr(p, nl - p));
    p = nl + 1;
  }
  return out;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("crash runs beyond --spool-max-files keep the newest and count the overflow",
          "[outbox][integration]") {
  TempDir tmp;
  const std::string spool = tmp.file("spool");
  std::vector<std::string> saved_ids;
  for (int i = 1; i <= 5; ++i) {
    RunResult r = cw({"--spool-max-files", "3", "--", test_program("testapp"), "out",
                             "run " + std::to_string(i), "exit", "3"},
                            spool);
    REQUIRE_FALSE(r.timed_out());
    CHECK(r.exit_code() == 3);
    CHECK(r.out == "run " + std::to_string(i) + "\n");
    std::smatch m;
    REQUIRE(std::regex_search(r.err, m, std::regex("event ([0-9a-f]{8})")));
    saved_ids.push_back(m[1]);
  }
  auto pending = crashwrap::sinks::list_dir(spool + "/pending");
  std::sort(pending.begin(), pending.end());
  REQUIRE(pending.size() == 3);
  for (int i = 0; i < 5; ++i) {
    const bool kept = std::any_of(pending.begin(), pending.end(), [&](const std::string& name) {
      return name.compare(0, 8, saved_ids[i]) == 0;
    });
    CHECK(kept == (i >= 2));  // the two oldest went
  }
  CHECK(crashwrap::sinks::list_dir(spool + "/records").size() == 3);
  const auto discarded = nlohmann::json::parse(read_file(spool + "/state/discarded.json"));
  CHECK(discarded == nlohmann::json{{"queue_overflow", {{"error", 2}}}});

  RunResult list = cw({"list"}, spool);
  CHECK(list.exit_code() == 0);
  CHECK(count_lines(list.out) == 5);  // header, 3 rows, footer
  CHECK_THAT(list.out, Catch::EndsWith("3 events in " + spool + " (3 pending, 0 sent, 0 dropped)\n"));
}

TEST_CASE("an unwritable spool is one warning; output and exit code are intact",
          "[outbox][integration]") {
  TempDir tmp;
  REQUIRE(write_file(tmp.file("plain-file"), "not a directory"));
  const std::string spool = tmp.file("plain-file/spool");
  RunResult r = cw({"--", test_program("testapp"), "outlines", "1000", "err", "oops", "exit", "7"},
                          spool);
  REQUIRE_FALSE(r.timed_out());
  CHECK(r.exit_code() == 7);
  std::string expected;
  for (int i = 1; i <= 1000; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "stdout %08d\n", i);
    expected += buf;
  }
  CHECK(r.out == expected);
  const auto warnings = lines_starting(r.err, "crashwrap: warning:");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "crashwrap: warning: cannot create the spool directory " + spool +
                           ": Not a directory; crash events of this run are not kept \xe2\x80\x94 "
                           "point --spool (CRASHWRAP_SPOOL) at a writable directory");
  CHECK(lines_starting(r.err, "oops").size() == 1);
}

TEST_CASE("a full disk is one warning; output and exit code are intact", "[outbox][integration]") {
  // A 1 MiB tmpfs in a private mount namespace of a forked helper; the child
  // fills it while it runs, so the spool (and the flight record) open fine and
  // then the crash event finds no space.
  TempDir tmp;
  const std::string mnt = tmp.file("small");
  REQUIRE(::mkdir(mnt.c_str(), 0700) == 0);
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    char ok = 'n';
    if (::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
        ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m,nr_inodes=200") == 0) {
      ok = 'y';
      const std::string arg = "echo filling; dd if=/dev/zero of=" + mnt +
                              "/fill bs=4k 2>/dev/null; echo full >&2; exit 5";
      RunResult r = cw({"--", "sh", "-c", arg}, mnt + "/spool");
      const auto warnings = lines_starting(r.err, "crashwrap: warning:");
      std::string report = std::to_string(r.exit_code()) + "\n" + std::to_string(warnings.size()) + "\n" +
                           (warnings.empty() ? "" : warnings[0]) + "\n" + r.out +
                           std::to_string(lines_starting(r.err, "full").size()) + "\n";
      (void)!::write(pipefd[1], &ok, 1);
      (void)!::write(pipefd[1], report.data(), report.size());
    } else {
      (void)!::write(pipefd[1], &ok, 1);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  REQUIRE(::waitpid(pid, nullptr, 0) == pid);
  REQUIRE_FALSE(got.empty());
  if (got[0] != 'y') {
    WARN("skipped: cannot mount a small tmpfs in a private mount namespace here");
    return;
  }
  std::vector<std::string> fields;
  for (std::size_t p = 1; p < got.size(); p = got.find('\n', p) + 1) fields.push_back(got.substr(p, got.find('\n', p) - p));
  REQUIRE(fields.size() == 5);
  CHECK(fields[0] == "5");
  CHECK(fields[1] == "1");
  CHECK_THAT(fields[2], Catch::StartsWith("crashwrap: warning: cannot save the event to the spool " + mnt + "/spool: "));
  CHECK_THAT(fields[2], Catch::Contains("No space left on device"));
  CHECK_THAT(fields[2], Catch::EndsWith("free disk space or lower --spool-max-bytes"));
  CHECK(fields[3] == "filling");
  CHECK(fields[4] == "1");
}

TEST_CASE("list and show describe a saved crash", "[outbox][integration]") {
  TempDir tmp;
  const std::string spool = tmp.file("spool");
  RunResult crash = cw({"--", test_program("testapp"), "out", "starting up", "err",
                               "about to fail", "raise", "SEGV"},
                              spool);
  REQUIRE_FALSE(crash.timed_out());
  CHECK(crash.term_signal() == SIGSEGV);
  std::smatch m;
  REQUIRE(std::regex_search(crash.err, m, std::regex("event ([0-9a-f]{8})")));
  const std::string id8 = m[1];

  RunResult list = cw({"list"}, spool);
  CHECK(list.exit_code() == 0);
  CHECK(list.err.empty());
  const auto rows = lines_starting(list.out, id8);
  REQUIRE(rows.size() == 1);
  CHECK(std::regex_search(rows[0], std::regex("^[0-9a-f]{8}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  \\d+B +pending \\(no DSN\\)  SIGSEGV")));
  CHECK_THAT(list.out, Catch::StartsWith("ID        SAVED                 SIZE    STATE"));

  RunResult show = cw({"show", id8.substr(0, 5)}, spool);
  CHECK(show.exit_code() == 0);
  CHECK(show.err.empty());
  CHECK(std::regex_search(show.out, std::regex("^event       " + id8 + "[0-9a-f]{24}\n")));
  CHECK_THAT(show.out, Catch::Contains("\nstate       pending (no DSN)\n"));
  CHECK_THAT(show.out, Catch::Contains("\nlevel       fatal\n"));
  CHECK_THAT(show.out, Catch::Contains("\nSIGSEGV"));
  CHECK_THAT(show.out, Catch::Contains("mechanism crashwrap, unhandled, signal 11 (SIGSEGV)"));
  CHECK_THAT(show.out, Catch::Contains("\n--- output-tail.txt ("));
  CHECK_THAT(show.out, Catch::EndsWith("[stdout] starting up\n[stderr] about to fail\n"));

  RunResult unknown = cw({"show", "ffffffff"}, spool);
  CHECK(unknown.exit_code() == 1);
  CHECK(unknown.out.empty());
  CHECK(unknown.err == "crashwrap: error: no saved event id starts with 'ffffffff' in " + spool +
                           " \xe2\x80\x94 fix: run `crashwrap list` to see the saved ids (same --spool)\n");
}

TEST_CASE("list on a spool that does not exist yet says so and creates nothing", "[outbox][integration]") {
  TempDir tmp;
  const std::string spool = tmp.file("never-used");
  RunResult list = cw({"list"}, spool);
  CHECK(list.exit_code() == 0);
  CHECK(list.out == "no saved events in " + spool + "\n");
  struct stat st {};
  CHECK(::stat(spool.c_str(), &st) != 0);
}
