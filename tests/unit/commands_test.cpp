#include "agent/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "agent/diag.h"
#include "agent/event_text.h"
#include "sinks/event_builder.h"
#include "sinks/spool.h"
#include "support/process.h"

using namespace crashwrap;
using crashwrap::parsers::Timestamp;
using crashwrap::test::TempDir;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::seconds(1795420800)};  // 2026-11-23T08:00:00Z
const std::string kDsnA = "http://keya@127.0.0.1:9000/1";
const std::string kDsnB = "https://keyb@sentry.example:8443/2";

// Runs `fn` with stdout and diag output captured in files.
struct Captured {
  int code = -1;
  std::string out, err;
};

template <typename Fn>
Captured capture(Fn fn) {
  TempDir dir;
  const int out_fd = ::open(dir.file("out").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  const int err_fd = ::open(dir.file("err").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  agent::diag::set_output_fd(err_fd);
  Captured c;
  c.code = fn();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  agent::diag::set_output_fd(2);
  ::close(out_fd);
  ::close(err_fd);
  c.out = test::read_file(dir.file("out"));
  c.err = test::read_file(dir.file("err"));
  return c;
}

config::Config config_for(const std::string& dir, std::vector<std::string> dsns = {}) {
  config::Config c;
  c.spool_dir = dir;
  c.dsns = std::move(dsns);
  return c;
}

sinks::BuiltEvent crash_event(const std::string& id) {
  sinks::BuiltEvent e;
  e.event_id = id;
  Json frames = Json::array({{{"function", "main"}, {"filename", "main.c"}, {"lineno", 10}, {"in_app", true}},
                             {{"function", "crash_here"}, {"filename", "crash.c"}, {"lineno", 3},
                              {"instruction_addr", "0x401106"}, {"in_app", true}}});
  e.event = {{"event_id", id},
             {"level", "fatal"},
             {"platform", "native"},
             {"timestamp", "2026-11-23T08:00:00.000Z"},
             {"release", "demo@1.2.3"},
             {"tags", {{"exit.signal", "SIGSEGV"}}},
             {"exception",
              {{"values",
                {{{"type", "OSError"}, {"value", "disk gone"}},
                 {{"type", "SIGSEGV"},
                  {"value", "Segmentation fault"},
                  {"mechanism", {{"type", "crashwrap"}, {"handled", false},
                                 {"meta", {{"signal", {{"number", 11}, {"name", "SIGSEGV"}}}}}}},
                  {"stacktrace", {{"frames", frames}}}}}}}},
             {"contexts",
              {{"process", {{"command", "./server --port 80"}, {"pid", 42},
                            {"exit", {{"description", "died of SIGSEGV"}}}}}}}};
  e.attachments.push_back({"output-tail.txt", "text/plain", "[stdout] hello\n[stderr] bye"});
  e.title = "SIGSEGV: Segmentation fault";
  return e;
}

sinks::Spool open_spool(const std::string& dir, std::vector<std::string> dsns = {}) {
  sinks::SpoolOptions o;
  o.dir = dir;
  o.dsns = std::move(dsns);
  std::string error;
  auto s = sinks::Spool::open(o, error);
  REQUIRE(s);
  return std::move(*s);
}

const std::string kId1 = "4f1c2a3b000000000000000000000001";
const std::string kId2 = "4f1c9999000000000000000000000002";

}  // namespace

TEST_CASE("list on a missing or empty spool", "[commands]") {
  TempDir tmp;
  auto missing = capture([&] { return agent::run_list(config_for(tmp.file("none"))); });
  CHECK(missing.code == 0);
  CHECK(missing.out == "no saved events in " + tmp.file("none") + "\n");
  open_spool(tmp.file("empty"));
  auto empty = capture([&] { return agent::run_list(config_for(tmp.file("empty"))); });
  CHECK(empty.code == 0);
  CHECK(empty.out == "no saved events in " + tmp.file("empty") + "\n");
}

TEST_CASE("list shows one row per event with the state of each DSN", "[commands]") {
  TempDir tmp;
  sinks::Spool spool = open_spool(tmp.path(), {kDsnA, kDsnB});
  REQUIRE(spool.save(crash_event(kId1), kT0));
  REQUIRE(spool.save(crash_event(kId2), kT0 + 61s));
  {
    auto c = spool.claim(kId1);
    REQUIRE(c);
    REQUIRE(c->mark_sent(kDsnA, kT0 + 1s));
    REQUIRE(c->mark_retry(kDsnB, kT0 + 90s, kT0 + 1s));
  }
  const auto size = [&](int i) { return std::to_string(spool.entries()[i].size) + "B"; };
  auto r = capture([&] { return agent::run_list(config_for(tmp.path(), {kDsnA, kDsnB})); });
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  const std::string s1 = "127.0.0.1:9000/1: sent; sentry.example:8443/2: retry at 08:01:30Z (1 failed)";
  const std::string s2 = "127.0.0.1:9000/1: pending; sentry.example:8443/2: pending";
  auto pad = [](std::string s, std::size_t n) { s.resize(std::max(n, s.size()), ' '); return s; };
  CHECK(r.out == "ID        SAVED                 SIZE    " + pad("STATE", s1.size()) + "  SUMMARY\n" +
                     "4f1c2a3b  2026-11-23 08:00:00Z  " + pad(size(0), 6) + "  " + s1 +
                     "  SIGSEGV: Segmentation fault\n" + "4f1c9999  2026-11-23 08:01:01Z  " +
                     pad(size(1), 6) + "  " + pad(s2, s1.size()) + "  SIGSEGV: Segmentation fault\n" +
                     "2 events in " + tmp.path() + " (2 pending, 0 sent, 0 dropped)\n");

  // Without DSNs the recorded states still show, and unsent events say so.
  TempDir other;
  sinks::Spool offline = open_spool(other.path());
  REQUIRE(offline.save(crash_event(kId1), kT0));
  auto o = capture([&] { return agent::run_list(config_for(other.path())); });
  CHECK_THAT(o.out, Catch::Contains("  pending (no DSN)  SIGSEGV: Segmentation fault\n"));
}

TEST_CASE("show prints the event with frames top-first, then the tail", "[commands]") {
  TempDir tmp;
  sinks::Spool spool = open_spool(tmp.path());
  auto path = spool.save(crash_event(kId1), kT0);
  REQUIRE(path);
  REQUIRE(spool.save(crash_event(kId2), kT0));
  config::Config cfg = config_for(tmp.path());
  cfg.show_id = "4F1C2";
  auto r = capture([&] { return agent::run_show(cfg); });
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  const std::string size = std::to_string(spool.entries()[0].size) + "B";
  CHECK(r.out ==
        "event       " + kId1 + "\n"
        "saved       2026-11-23 08:00:00Z  " + *path + " (" + size + ")\n"
        "state       pending (no DSN)\n"
        "level       fatal\n"
        "platform    native\n"
        "timestamp   2026-11-23T08:00:00.000Z\n"
        "release     demo@1.2.3\n"
        "exit        died of SIGSEGV\n"
        "tags        exit.signal=SIGSEGV\n"
        "\n"
        "SIGSEGV: Segmentation fault\n"
        "  mechanism crashwrap, unhandled, signal 11 (SIGSEGV)\n"
        "  at crash_here (crash.c:3) [0x401106] *\n"
        "  at main (main.c:10) *\n"
        "\n"
        "an earlier exception in the chain:\n"
        "OSError: disk gone\n"
        "\n"
        "contexts\n"
        "  process: command=./server --port 80 exit.description=died of SIGSEGV pid=42\n"
        "\n"
        "--- output-tail.txt (27 bytes) ---\n"
        "[stdout] hello\n[stderr] bye\n");
}

TEST_CASE("show explains a missing, ambiguous or damaged id", "[commands]") {
  TempDir tmp;
  sinks::Spool spool = open_spool(tmp.path());
  auto path = spool.save(crash_event(kId1), kT0);
  REQUIRE(spool.save(crash_event(kId2), kT0));
  config::Config cfg = config_for(tmp.path());

  cfg.show_id = "4f1c";
  auto amb = capture([&] { return agent::run_show(cfg); });
  CHECK(amb.code == 1);
  CHECK(amb.out.empty());
  CHECK(amb.err == "crashwrap: error: 2 saved events start with '4f1c': " + kId1 + " " + kId2 +
                       " \xe2\x80\x94 fix: give more characters of the id\n");

  cfg.show_id = "0000";
  auto none = capture([&] { return agent::run_show(cfg); });
  CHECK(none.code == 1);
  CHECK(none.err == "crashwrap: error: no saved event id starts with '0000' in " + tmp.path() +
                        " \xe2\x80\x94 fix: run `crashwrap list` to see the saved ids (same --spool)\n");

  REQUIRE(test::write_file(*path, "not zstd"));
  cfg.show_id = "4f1c2";
  auto bad = capture([&] { return agent::run_show(cfg); });
  CHECK(bad.code == 1);
  CHECK(bad.err == "crashwrap: error: the saved event " + kId1 + " (" + *path +
                       ") is damaged: it cannot be read or decompressed \xe2\x80\x94 fix: delete "
                       "the file; the other events are not affected\n");

  cfg.show_id.clear();
  auto missing = capture([&] { return agent::run_show(cfg); });
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::StartsWith("crashwrap: error: `crashwrap show` needs an event id"));
}

TEST_CASE("send without a DSN says what waits and fails only when something does", "[commands]") {
  TempDir tmp;
  auto empty = capture([&] { return agent::run_send(config_for(tmp.path())); });
  CHECK(empty.code == 0);
  CHECK(empty.err == "crashwrap: nothing to send: no DSN is set and no event waits in the spool\n");
  sinks::Spool spool = open_spool(tmp.path());
  REQUIRE(spool.save(crash_event(kId1), kT0));
  auto waiting = capture([&] { return agent::run_send(config_for(tmp.path(), {"not a dsn"})); });
  CHECK(waiting.code == 1);
  CHECK(waiting.err == "crashwrap: error: no usable DSN (1 malformed); 1 event waits in the spool "
                       "\xe2\x80\x94 fix: pass --dsn URL (or set SENTRY_DSN / CRASHWRAP_DSN) to "
                       "`crashwrap send`\n");
}

TEST_CASE("doctor prints one line per check and fails on a broken spool or DSN", "[commands]") {
  TempDir tmp;
  auto good = capture([&] { return agent::run_doctor(config_for(tmp.file("spool"), {kDsnA})); });
  CHECK(good.code == 0);
  const auto lines = std::count(good.out.begin(), good.out.end(), '\n');
  CHECK(lines == 4);
  CHECK_THAT(good.out, Catch::StartsWith("ok    spool     " + tmp.file("spool") +
                                         " is writable (0 events, 0 pending)\n"));
  CHECK_THAT(good.out, Catch::Contains("\nok    dsn       http://keya@127.0.0.1:9000/1 \xe2\x86\x92 "
                                       "http://127.0.0.1:9000/api/1/envelope/\n"));
  CHECK_THAT(good.out, Catch::Contains("\nok    stdbuf    ") || Catch::Contains("\nwarn  stdbuf    "));
  CHECK_THAT(good.out, Catch::Contains("\nok    cgroup    ") || Catch::Contains("\nwarn  cgroup    "));

  REQUIRE(test::write_file(tmp.file("file"), "x"));
  auto bad = capture([&] {
    return agent::run_doctor(config_for(tmp.file("file/spool"), {"http://127.0.0.1/1"}));
  });
  CHECK(bad.code == 1);
  CHECK_THAT(bad.out, Catch::StartsWith("FAIL  spool     cannot create the spool directory " +
                                        tmp.file("file/spool") + ": Not a directory"));
  CHECK_THAT(bad.out, Catch::Contains("\nFAIL  dsn       "));
}

TEST_CASE("an envelope without an event renders as nothing but its attachments", "[commands]") {
  std::string error;
  auto env = sinks::parse_envelope(
      "{}\n{\"type\":\"attachment\",\"length\":2,\"filename\":\"a.txt\"}\nhi\n", error);
  REQUIRE(env);
  CHECK(agent::render_event(*env).empty());
  CHECK(agent::render_attachments(*env) == "\n--- a.txt (2 bytes) ---\nhi\n");
}
