#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>

#include "agent/output_tail.h"
#include "parsers/fingerprint.h"
#include "parsers/verdict.h"
#include "unit/fixtures/schema_check.h"
#include "support/process.h"
#include "sinks/event_builder.h"
#include "sinks/event_trim.h"

using namespace crashwrap;
using namespace std::chrono_literals;
using nlohmann::json;
using parsers::ExitKind;
using sinks::build_event;
using sinks::RunFacts;

namespace {

const test::SchemaCheck& schema() {
  static const test::SchemaCheck check;
  return check;
}

parsers::Timestamp at(long long ms) { return parsers::Timestamp(std::chrono::milliseconds(ms)); }

RunFacts facts(ExitKind kind) {
  RunFacts f;
  f.argv = {"/usr/bin/server", "--port", "80"};
  f.pid = 4242;
  f.started = at(1700000000000);
  f.ended = at(1700000003250);
  f.exit.kind = kind;
  f.exit.duration = 3250ms;
  f.exit.last_rss = 123456;
  if (kind == ExitKind::Signal) {
    f.exit.signal = 11;
    f.exit.signal_name = "SIGSEGV";
    f.exit.core_dumped = true;
  }
  if (kind == ExitKind::ErrorExit) f.exit.code = 3;
  return f;
}

parsers::Frame frame(std::string function, std::string filename, std::uint32_t lineno, std::string module = {},
                     std::optional<bool> in_app = std::nullopt) {
  parsers::Frame f;
  f.function = std::move(function);
  f.filename = std::move(filename);
  f.lineno = lineno;
  f.module = std::move(module);
  f.in_app = in_app;
  return f;
}

parsers::LogLine line(parsers::Stream s, long long ms, std::string text) { return {s, at(ms), std::move(text)}; }

parsers::CrashReport python_report() {
  parsers::CrashReport r;
  r.runtime = "python";
  r.platform = "python";
  r.level = parsers::Level::Fatal;
  r.handled = false;
  parsers::Exception cause;
  cause.type = "KeyError";
  cause.value = "'bob'";
  cause.mechanism.type = "chained";
  cause.mechanism.source = "__context__";
  cause.stacktrace.frames.push_back(frame("lookup", "main.py", 6, "", true));
  cause.stacktrace.frames.back().abs_path = "/nonexistent/main.py";
  parsers::Exception final_x;
  final_x.type = "AttributeError";
  final_x.value = "'NoneType' object has no attribute 'get'";
  final_x.mechanism.type = "crashwrap";
  final_x.stacktrace.frames.push_back(frame("<module>", "main.py", 12, "", true));
  final_x.stacktrace.frames.push_back(frame("lookup", "main.py", 10, "", true));
  final_x.stacktrace.frames.push_back({});  // no location at all: must be dropped
  r.exceptions = {cause, final_x};
  r.stream = parsers::Stream::Stderr;
  r.first_line = 3;
  r.last_line = 9;
  r.first_time = at(1700000002000);
  r.last_time = at(1700000002100);
  return r;
}

void require_valid(const json& event) {
  auto errors = schema().errors(event);
  INFO(event.dump(2));
  for (const auto& e : errors) FAIL_CHECK(e);
  CHECK(errors.empty());
}

}  // namespace

TEST_CASE("should_report", "[event_builder]") {
  config::Config c;
  parsers::ExitInfo e;
  CHECK_FALSE(sinks::should_report(c, e));  // clean
  e.kind = ExitKind::ErrorExit;
  e.code = 143;
  CHECK(sinks::should_report(c, e));
  c.ignore_exit_codes = {0, 143};
  CHECK_FALSE(sinks::should_report(c, e));
  e.code = 1;
  CHECK(sinks::should_report(c, e));
  c.report_exit_codes = false;
  CHECK_FALSE(sinks::should_report(c, e));
  e.kind = ExitKind::Signal;
  CHECK(sinks::should_report(c, e));
  e.kind = ExitKind::OomKilled;
  CHECK(sinks::should_report(c, e));
  e.kind = ExitKind::Unknown;
  CHECK(sinks::should_report(c, e));
}

TEST_CASE("a death by signal without a report", "[event_builder]") {
  config::Config c;
  c.server_name = "web-1";
  c.release = "app@1.2";
  c.environment = "prod";
  RunFacts f = facts(ExitKind::Signal);
  auto b = build_event(c, f, nullptr);
  const json& e = b.event;
  require_valid(e);
  CHECK(std::regex_match(b.event_id, std::regex("[0-9a-f]{32}")));
  CHECK(e["event_id"] == b.event_id);
  CHECK(e["timestamp"] == "2023-11-14T22:13:23.250Z");
  CHECK(e["platform"] == "native");
  CHECK(e["level"] == "fatal");
  CHECK(e["logger"] == "crashwrap");
  CHECK(e["server_name"] == "web-1");
  CHECK(e["release"] == "app@1.2");
  CHECK(e["environment"] == "prod");
  REQUIRE(e["exception"]["values"].size() == 1);
  const json& x = e["exception"]["values"][0];
  CHECK(x["type"] == "SIGSEGV");
  CHECK(x["value"] == "Segmentation fault (core dumped)");
  CHECK(x["mechanism"] == json{{"type", "crashwrap"}, {"handled", false}, {"synthetic", true},
                               {"meta", {{"signal", {{"number", 11}, {"name", "SIGSEGV"}}}}}});
  CHECK_FALSE(x.contains("stacktrace"));
  const json& p = e["contexts"]["process"];
  CHECK(p["command"] == "/usr/bin/server --port 80");
  CHECK(p["pid"] == 4242);
  CHECK(p["duration_ms"] == 3250);
  CHECK(p["last_rss_bytes"] == 123456);
  CHECK(p["started"] == "2023-11-14T22:13:20.000Z");
  CHECK(p["exit"] == json{{"kind", "signal"}, {"description", "died of SIGSEGV (core dumped)"}, {"signal", 11},
                          {"signal_name", "SIGSEGV"}, {"core_dumped", true}});
  CHECK(e["contexts"]["os"]["name"] == "Linux");
  CHECK(e["contexts"]["crashwrap"]["version"] == CRASHWRAP_VERSION);
  CHECK(e["tags"]["exit.kind"] == "signal");
  CHECK(e["tags"]["exit.signal"] == "SIGSEGV");
  CHECK(e["tags"]["crashwrap.fingerprint"] == b.fingerprint);
  CHECK(b.fingerprint.size() == 16);
  CHECK_FALSE(e.contains("fingerprint"));
  CHECK_FALSE(e.contains("extra"));
  CHECK_FALSE(e.contains("breadcrumbs"));
  CHECK(b.attachments.empty());  // no output, no tail attachment
  CHECK(b.category == "error");
  CHECK(b.title == "SIGSEGV: Segmentation fault (core dumped)");
}

TEST_CASE("an error exit and an OOM kill", "[event_builder]") {
  config::Config c;
  SECTION("exit code") {
    auto b = build_event(c, facts(ExitKind::ErrorExit), nullptr);
    require_valid(b.event);
    const json& x = b.event["exception"]["values"][0];
    CHECK(x["type"] == "ExitCode");
    CHECK(x["value"] == "server exited with code 3");
    CHECK(x["mechanism"] == json{{"type", "crashwrap"}, {"handled", false}, {"synthetic", true}});
    CHECK(b.event["tags"]["exit.code"] == "3");
    CHECK(b.event["contexts"]["process"]["exit"]["code"] == 3);
  }
  SECTION("OOM") {
    RunFacts f = facts(ExitKind::OomKilled);
    f.exit.signal = 9;
    f.exit.signal_name = "SIGKILL";
    f.exit.oom = parsers::OomEvidence{"memory.events", "/test.slice", 0, 1, 64ull << 20, 67100000};
    auto b = build_event(c, f, nullptr);
    require_valid(b.event);
    const json& x = b.event["exception"]["values"][0];
    CHECK(x["type"] == "OutOfMemory");
    CHECK(x["value"] == "server was killed by the kernel's OOM killer (memory limit 64.0 MiB)");
    CHECK(x["mechanism"]["meta"]["signal"] == json{{"number", 9}, {"name", "SIGKILL"}});
    CHECK(b.event["tags"]["exit.kind"] == "oom_killed");
    CHECK(b.event["tags"]["oom"] == "true");
    CHECK(b.event["contexts"]["process"]["oom"] ==
          json{{"source", "memory.events"}, {"cgroup", "/test.slice"}, {"oom_kill_before", 0}, {"oom_kill_after", 1},
               {"memory_limit_bytes", 64ull << 20}, {"memory_peak_bytes", 67100000}});
  }
}

TEST_CASE("a previous run recovered by the flight recorder", "[event_builder]") {
  config::Config c;
  RunFacts f = facts(ExitKind::Unknown);
  f.abandoned = true;
  f.tail = {line(parsers::Stream::Stdout, 1700000001000, "working")};
  auto b = build_event(c, f, nullptr);
  require_valid(b.event);
  CHECK(b.event["level"] == "fatal");
  const json& x = b.event["exception"]["values"][0];
  CHECK(x["type"] == "AbnormalExit");
  CHECK(x["value"] == "the previous run of server (pid 4242) ended while crashwrap was not watching "
                      "(crashwrap itself was killed, e.g. with its container)");
  CHECK(b.event["tags"]["exit.kind"] == "abandoned");
  CHECK(b.event["contexts"]["crashwrap"]["recovered_from_flight_recorder"] == true);
  REQUIRE(b.attachments.size() == 1);
  CHECK(b.attachments[0].data == "[stdout] working\n");
}

TEST_CASE("a crash report joined with the exit", "[event_builder]") {
  config::Config c;
  RunFacts f = facts(ExitKind::ErrorExit);
  f.exit.code = 1;
  auto r = python_report();
  auto b = build_event(c, f, &r);
  const json& e = b.event;
  require_valid(e);
  CHECK(e["platform"] == "python");
  CHECK(e["level"] == "fatal");
  REQUIRE(e["exception"]["values"].size() == 2);
  const json& cause = e["exception"]["values"][0];
  const json& last = e["exception"]["values"][1];
  CHECK(cause["type"] == "KeyError");
  CHECK(cause["value"] == "'bob'");
  CHECK(cause["mechanism"] == json{{"type", "chained"}, {"handled", false}, {"source", "__context__"}});
  CHECK(cause["stacktrace"]["frames"][0] ==
        json{{"function", "lookup"}, {"filename", "main.py"}, {"abs_path", "/nonexistent/main.py"}, {"lineno", 6},
             {"in_app", true}});
  CHECK(last["type"] == "AttributeError");
  CHECK(last["stacktrace"]["frames"].size() == 2);  // the location-less frame is gone
  CHECK(last["stacktrace"]["frames"][1]["function"] == "lookup");
  CHECK(e["tags"]["runtime"] == "python");
  CHECK(e["tags"]["exit.code"] == "1");
  CHECK(e["contexts"]["runtime"] == json{{"name", "CPython"}});
  CHECK(e["contexts"]["crashwrap"]["detector"] == "python");
  CHECK(e["contexts"]["crashwrap"]["lines"] == "3-9");
  CHECK(e["contexts"]["process"]["exit"]["code"] == 1);
  CHECK(b.title == "AttributeError: 'NoneType' object has no attribute 'get'");
  CHECK(b.fingerprint == parsers::fingerprint(r));
}

TEST_CASE("a trace joined with a death by signal carries the signal", "[event_builder]") {
  config::Config c;
  auto r = python_report();
  r.platform = "rust";  // Sentry has no "rust" platform: the Rust SDK sends "native"
  auto b = build_event(c, facts(ExitKind::Signal), &r);
  require_valid(b.event);
  CHECK(b.event["platform"] == "native");
  CHECK(b.event["exception"]["values"][1]["mechanism"]["meta"]["signal"] == json{{"number", 11}, {"name", "SIGSEGV"}});
  CHECK_FALSE(b.event["exception"]["values"][0]["mechanism"].contains("meta"));
}

TEST_CASE("a handled report while the child runs", "[event_builder]") {
  config::Config c;
  RunFacts f;
  f.argv = {"app"};
  f.pid = 7;
  f.running = true;
  auto r = python_report();
  parsers::Verdict::mark_handled(r);
  auto b = build_event(c, f, &r);
  require_valid(b.event);
  CHECK(b.event["level"] == "error");
  CHECK(b.event["exception"]["values"][1]["mechanism"] == json{{"type", "crashwrap.log"}, {"handled", true}});
  CHECK(b.event["contexts"]["process"]["running"] == true);
  CHECK_FALSE(b.event["contexts"]["process"].contains("exit"));
  CHECK_FALSE(b.event["tags"].contains("exit.kind"));
  CHECK(b.event["tags"]["runtime"] == "python");
  CHECK(b.event["timestamp"] == "2023-11-14T22:13:22.100Z");  // the report's time
}

TEST_CASE("threads", "[event_builder]") {
  config::Config c;
  parsers::CrashReport r;
  r.runtime = "go";
  r.platform = "go";
  r.level = parsers::Level::Fatal;
  r.handled = false;
  parsers::Thread t1{"1", "goroutine 1", "running", true, true, {}};
  t1.stacktrace.frames.push_back(frame("main", "/app/main.go", 9, "main"));
  parsers::Thread t2{"7", "", "chan receive", false, false, {}};
  r.threads = {t1, t2};
  auto b = build_event(c, facts(ExitKind::ErrorExit), &r);
  require_valid(b.event);
  // No exception in the report: how the process ended stands in.
  CHECK(b.event["exception"]["values"][0]["type"] == "ExitCode");
  const json& tv = b.event["threads"]["values"];
  REQUIRE(tv.size() == 2);
  CHECK(tv[0] == json{{"id", "1"}, {"name", "goroutine 1"}, {"state", "running"}, {"crashed", true}, {"current", true},
                      {"stacktrace", {{"frames", {{{"function", "main"}, {"module", "main"}, {"filename", "/app/main.go"},
                                                   {"lineno", 9}}}}}}});
  CHECK(tv[1] == json{{"id", "7"}, {"state", "chan receive"}, {"crashed", false}, {"current", false}});
}

TEST_CASE("breadcrumbs from the output tail", "[event_builder]") {
  config::Config c;
  RunFacts f = facts(ExitKind::ErrorExit);
  using S = parsers::Stream;
  for (int i = 0; i < 120; ++i) f.tail.push_back(line(S::Stdout, 1700000000000 + i, "line " + std::to_string(i)));
  f.tail.push_back(line(S::Stderr, 1700000001000, "ERROR: db down"));
  f.tail.push_back(line(S::Stderr, 1700000001001, "retrying"));
  f.tail.push_back(line(S::Stderr, 1700000002050, "Traceback (most recent call last):"));  // the report's own
  auto r = python_report();
  auto b = build_event(c, f, &r);
  require_valid(b.event);
  const json& v = b.event["breadcrumbs"]["values"];
  REQUIRE(v.size() == 100);
  CHECK(v[0]["message"] == "line 22");
  CHECK(v[98] == json{{"timestamp", "2023-11-14T22:13:21.000Z"}, {"type", "default"}, {"category", "stderr"},
                      {"level", "error"}, {"message", "ERROR: db down"}});
  CHECK(v[99]["level"] == "info");
  CHECK(v[99]["message"] == "retrying");
  CHECK(v[0]["category"] == "stdout");
  REQUIRE(b.attachments.size() == 1);
  CHECK(b.attachments[0].filename == "output-tail.txt");
  CHECK(b.attachments[0].content_type == "text/plain");
  CHECK(b.attachments[0].data == agent::render_tail(f.tail));
}

TEST_CASE("the tail attachment keeps the newest lines within the cap", "[event_builder]") {
  config::Config c;
  c.attachment_max_bytes = 40;
  RunFacts f = facts(ExitKind::ErrorExit);
  for (int i = 0; i < 10; ++i) f.tail.push_back(line(parsers::Stream::Stdout, 1700000000000, "n" + std::to_string(i)));
  auto b = build_event(c, f, nullptr);
  REQUIRE(b.attachments.size() == 1);
  CHECK(b.attachments[0].data == "[stdout] n7\n[stdout] n8\n[stdout] n9\n");
}

TEST_CASE("tags, extra and fingerprint from the configuration", "[event_builder]") {
  config::Config c;
  c.tags = {{"team", "payments"}, {"exit.kind", "overridden"}, {std::string(40, 'k'), std::string(300, 'v')}};
  c.send_env = {"CRASHWRAP_EVENT_TEST_VAR", "CRASHWRAP_EVENT_TEST_UNSET"};
  c.fingerprint_local = true;
  ::setenv("CRASHWRAP_EVENT_TEST_VAR", "visible", 1);
  ::unsetenv("CRASHWRAP_EVENT_TEST_UNSET");
  ::setenv("CRASHWRAP_EVENT_TEST_SECRET", "hidden", 1);
  auto b = build_event(c, facts(ExitKind::ErrorExit), nullptr);
  require_valid(b.event);
  CHECK(b.event["tags"]["team"] == "payments");
  CHECK(b.event["tags"]["exit.kind"] == "overridden");
  CHECK(b.event["tags"][std::string(32, 'k')].get<std::string>().size() == 200);
  CHECK(b.event["extra"] == json{{"CRASHWRAP_EVENT_TEST_VAR", "visible"}});
  CHECK(b.event["fingerprint"] == json::array({b.fingerprint}));
  CHECK(b.event.dump().find("hidden") == std::string::npos);
}

TEST_CASE("invalid UTF-8 becomes valid JSON", "[event_builder]") {
  config::Config c;
  RunFacts f = facts(ExitKind::ErrorExit);
  f.tail.push_back(line(parsers::Stream::Stderr, 1700000001000, "bad \xff\xfe bytes \xc3"));
  auto r = python_report();
  r.exceptions.back().value = std::string("caf\xe9");
  auto b = build_event(c, f, &r);
  std::string text;
  REQUIRE_NOTHROW(text = b.event.dump());  // strict dump: no invalid UTF-8 left
  CHECK(text == sinks::dump_event(b.event));
  CHECK(b.event["breadcrumbs"]["values"][0]["message"] == "bad \xef\xbf\xbd\xef\xbf\xbd bytes \xef\xbf\xbd");
  CHECK(b.event["exception"]["values"][1]["value"] == "caf\xef\xbf\xbd");
  CHECK(b.attachments[0].data == "[stderr] bad \xff\xfe bytes \xc3\n");  // attachments keep the bytes
}

TEST_CASE("a report's attachment file is attached, capped", "[event_builder]") {
  test::TempDir dir;
  std::string path = dir.file("hs_err_pid77.log");
  REQUIRE(test::write_file(path, std::string(5000, 'x')));
  config::Config c;
  c.attachment_max_bytes = 1000;
  auto r = python_report();
  r.attachment_path = path;
  auto b = build_event(c, facts(ExitKind::Signal), &r);
  REQUIRE(b.attachments.size() == 1);
  CHECK(b.attachments[0].filename == "hs_err_pid77.log");
  CHECK(b.attachments[0].data == std::string(1000, 'x'));
  r.attachment_path = dir.file("missing.log");
  CHECK(build_event(c, facts(ExitKind::Signal), &r).attachments.empty());
}

TEST_CASE("source context for interpreted platforms only", "[event_builder]") {
  test::TempDir dir;
  std::string path = dir.file("main.py");
  REQUIRE(test::write_file(path, "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n"));
  config::Config c;
  auto r = python_report();
  r.exceptions.back().stacktrace.frames[1].abs_path = path;
  r.exceptions.back().stacktrace.frames[1].lineno = 7;
  auto b = build_event(c, facts(ExitKind::ErrorExit), &r);
  require_valid(b.event);
  const json& fr = b.event["exception"]["values"][1]["stacktrace"]["frames"][1];
  CHECK(fr["pre_context"] == json{"l2", "l3", "l4", "l5", "l6"});
  CHECK(fr["context_line"] == "l7");
  CHECK(fr["post_context"] == json{"l8"});
  r.platform = "go";
  auto native = build_event(c, facts(ExitKind::ErrorExit), &r);
  CHECK_FALSE(native.event["exception"]["values"][1]["stacktrace"]["frames"][1].contains("context_line"));
}

TEST_CASE("huge events are trimmed below 1 MiB and still valid", "[event_builder]") {
  config::Config c;
  RunFacts f = facts(ExitKind::Signal);
  for (int i = 0; i < 500; ++i)
    f.tail.push_back(line(parsers::Stream::Stdout, 1700000000000 + i, std::string(4000, 'a' + i % 26)));
  auto r = python_report();
  for (int t = 0; t < 200; ++t) {
    parsers::Thread th{std::to_string(t), "", "", t == 0, t == 0, {}};
    for (int i = 0; i < 100; ++i)
      th.stacktrace.frames.push_back(frame("fn_" + std::to_string(i) + std::string(40, 'z'), "/src/long/file.go", 1));
    r.threads.push_back(th);
  }
  auto b = build_event(c, f, &r);
  CHECK(sinks::dump_event(b.event).size() <= sinks::kMaxEventBytes);
  require_valid(b.event);
  const json& t = b.event["extra"]["crashwrap.trimmed"];
  CHECK(t["bytes_before"].get<std::size_t>() > sinks::kMaxEventBytes);
  CHECK(t["breadcrumbs_removed"] == 100);
  CHECK(t["frames_removed"].get<std::size_t>() > 0);
  CHECK(b.event["threads"]["values"][0]["stacktrace"]["frames"].size() == 100);  // the crashed thread keeps its frames
}

TEST_CASE("the schema check is not vacuous", "[event_builder]") {
  auto b = build_event(config::Config{}, facts(ExitKind::Signal), nullptr);
  json bad = b.event;
  bad["exception"]["values"][0]["mechanism"]["bogus"] = 1;
  CHECK_FALSE(schema().errors(bad).empty());
  bad = b.event;
  bad["level"] = "critical";
  CHECK_FALSE(schema().errors(bad).empty());
  bad = b.event;
  bad["unknown_top_level"] = true;
  CHECK_FALSE(schema().errors(bad).empty());
  bad = b.event;
  bad["platform"] = "rust";
  CHECK_FALSE(schema().errors(bad).empty());
}

TEST_CASE("ids and timestamps", "[event_builder]") {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = sinks::new_event_id();
    REQUIRE(id.size() == 32);
    CHECK(id[12] == '4');
    ids.insert(id);
  }
  CHECK(ids.size() == 1000);
  CHECK(sinks::format_rfc3339(at(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(sinks::format_rfc3339(at(1700000000007)) == "2023-11-14T22:13:20.007Z");
  CHECK(sinks::format_rfc3339(at(-1)) == "1969-12-31T23:59:59.999Z");
}
