// Targeted variants of Python's output the corpus does not pin down: group
// ids and parents, library frames, colours, interleaved lines, old dump
// headers, what is not a report.
#include <catch2/catch.hpp>

#include "parsers/detectors.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> feed(const std::vector<std::string>& lines, Stream stream = Stream::Stderr) {
  auto d = make_python_detector();
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (const std::string& text : lines) {
    Line l;
    l.stream = stream;
    l.text = text;
    l.number = ++n;
    d->feed(l, out);
  }
  d->finish(out);
  return out;
}

}  // namespace

TEST_CASE("python: a nested exception group carries Sentry's ids, parents and sources", "[python]") {
  auto out = feed({
      "  + Exception Group Traceback (most recent call last):",
      "  |   File \"/srv/app.py\", line 9, in <module>",
      "  |     raise ExceptionGroup(\"outer\", [ValueError(\"a\"), ExceptionGroup(\"inner\", [KeyError(\"k\")])])",
      "  | ExceptionGroup: outer (2 sub-exceptions)",
      "  +-+---------------- 1 ----------------",
      "    | ValueError: a",
      "    +---------------- 2 ----------------",
      "    | ExceptionGroup: inner (1 sub-exception)",
      "    +-+---------------- 1 ----------------",
      "      | KeyError: 'k'",
      "      +------------------------------------",
  });
  REQUIRE(out.size() == 1);
  const auto& ex = out[0].exceptions;
  REQUIRE(ex.size() == 4);
  // Members first, each group after its members; the root group last with id 0.
  CHECK(ex[0].type == "ValueError");
  CHECK(ex[1].type == "KeyError");
  CHECK(ex[2].type == "ExceptionGroup");
  CHECK(ex[2].value == std::optional<std::string>("inner (1 sub-exception)"));
  CHECK(ex[3].value == std::optional<std::string>("outer (2 sub-exceptions)"));
  CHECK(ex[3].mechanism.exception_id == std::optional<int>(0));
  CHECK_FALSE(ex[3].mechanism.parent_id);
  CHECK(ex[3].mechanism.is_exception_group);
  CHECK(ex[2].mechanism.is_exception_group);
  CHECK_FALSE(ex[0].mechanism.is_exception_group);
  CHECK(ex[0].mechanism.parent_id == ex[3].mechanism.exception_id);
  CHECK(ex[0].mechanism.source == "exceptions[0]");
  CHECK(ex[2].mechanism.parent_id == ex[3].mechanism.exception_id);
  CHECK(ex[2].mechanism.source == "exceptions[1]");
  CHECK(ex[1].mechanism.parent_id == ex[2].mechanism.exception_id);
  CHECK(ex[1].mechanism.source == "exceptions[0]");
  REQUIRE(ex[3].stacktrace.frames.size() == 1);
  CHECK(ex[3].stacktrace.frames[0].lineno == std::optional<std::uint32_t>(9));
}

TEST_CASE("python: a plain chain has no group ids, and a cause without a traceback is kept", "[python]") {
  auto out = feed({
      "Traceback (most recent call last):",
      "  File \"/srv/app.py\", line 3, in <module>",
      "    main()",
      "TypeError: bad input",
      "",
      "During handling of the above exception, another exception occurred:",
      "",
      "RuntimeError: cleanup failed",
  });
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].exceptions.size() == 2);
  CHECK(out[0].exceptions[0].type == "TypeError");
  CHECK(out[0].exceptions[1].type == "RuntimeError");
  CHECK(out[0].exceptions[1].stacktrace.frames.empty());
  for (const auto& e : out[0].exceptions) {
    CHECK_FALSE(e.mechanism.exception_id);
    CHECK_FALSE(e.mechanism.parent_id);
    CHECK(e.mechanism.source.empty());
    CHECK(e.mechanism.type == "excepthook");
  }
}

TEST_CASE("python: library and frozen frames are not in-app and are named by module", "[python]") {
  auto out = feed({
      "Traceback (most recent call last):",
      "  File \"/srv/app/main.py\", line 4, in <module>",
      "  File \"<frozen importlib._bootstrap>\", line 1178, in _find_and_load",
      "  File \"/usr/lib/python3/dist-packages/requests/__init__.py\", line 12, in <module>",
      "  File \"/opt/venv/lib/python3.12/site-packages/urllib3/util/retry.py\", line 80, in increment",
      "  File \"/usr/lib/python3.11/json/decoder.py\", line 337, in decode",
      "urllib3.exceptions.MaxRetryError: too many retries",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "MaxRetryError");
  CHECK(e.module == "urllib3.exceptions");
  const auto& f = e.stacktrace.frames;
  REQUIRE(f.size() == 5);
  CHECK(f[0].in_app == std::optional<bool>(true));
  CHECK(f[0].filename == "main.py");
  CHECK(f[0].abs_path == "/srv/app/main.py");
  CHECK(f[1].in_app == std::optional<bool>(false));
  CHECK(f[1].filename == "<frozen importlib._bootstrap>");
  CHECK(f[2].module == "requests");
  CHECK(f[2].filename == "requests/__init__.py");
  CHECK(f[3].module == "urllib3.util.retry");
  CHECK(f[3].in_app == std::optional<bool>(false));
  CHECK(f[4].module == "json.decoder");
  CHECK(f[4].function == "decode");
}

TEST_CASE("python: colours, an interleaved line and a missing message", "[python]") {
  auto out = feed({
      "\x1b[35mTraceback (most recent call last):\x1b[0m",
      "  File \x1b[35m\"/srv/app.py\"\x1b[0m, line \x1b[35m7\x1b[0m, in \x1b[35mwait\x1b[0m",
      "[poller] INFO heartbeat 14",
      "    time.sleep(5)",
      "\x1b[1;35mKeyboardInterrupt\x1b[0m",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "KeyboardInterrupt");
  CHECK_FALSE(e.value.has_value());
  REQUIRE(e.stacktrace.frames.size() == 1);
  CHECK(e.stacktrace.frames[0].function == "wait");
  CHECK(e.stacktrace.frames[0].lineno == std::optional<std::uint32_t>(7));
}

TEST_CASE("python: an old single-thread faulthandler dump", "[python]") {
  auto out = feed({
      "Fatal Python error: Bus error",
      "",
      "Traceback (most recent call first):",
      "  File \"/srv/mm.py\", line 12 in read_page",
      "  File \"/srv/mm.py\", line 20 in <module>",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "SIGBUS");
  CHECK(e.mechanism.signal_number == std::optional<int>(7));
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames[1].function == "read_page");  // newest last
  REQUIRE(out[0].threads.size() == 1);
  CHECK(out[0].threads[0].crashed);
  CHECK(out[0].threads[0].stacktrace.frames.empty());  // the stack lives in the exception
}

TEST_CASE("python: what is not a report", "[python]") {
  // A traceback cut off before its exception line, a header quoted in a log
  // line, a stack printed by traceback.print_stack (no header, frames with "in").
  CHECK(feed({"Traceback (most recent call last):", "  File \"/srv/app.py\", line 3, in <module>"}).empty());
  CHECK(feed({"INFO Traceback (most recent call last): collection is on", "ValueError: nope"}).empty());
  CHECK(feed({"  File \"/srv/app.py\", line 3, in <module>", "    main()"}).empty());
  CHECK(feed({"Exception in thread pool: none", "all good"}).empty());
}

TEST_CASE("python: two streams keep separate tracebacks", "[python]") {
  auto d = make_python_detector();
  std::vector<CrashReport> out;
  auto line = [&](Stream s, std::uint64_t n, const char* text) {
    Line l;
    l.stream = s;
    l.number = n;
    l.text = text;
    d->feed(l, out);
  };
  line(Stream::Stderr, 1, "Traceback (most recent call last):");
  line(Stream::Stdout, 1, "Traceback (most recent call last):");
  line(Stream::Stderr, 2, "  File \"/srv/a.py\", line 1, in a");
  line(Stream::Stdout, 2, "  File \"/srv/b.py\", line 2, in b");
  line(Stream::Stdout, 3, "OSError: b");
  line(Stream::Stderr, 3, "ValueError: a");
  d->finish(out);
  REQUIRE(out.size() == 2);
  for (const auto& r : out) {
    REQUIRE(r.exceptions.size() == 1);
    REQUIRE(r.exceptions[0].stacktrace.frames.size() == 1);
    if (r.stream == Stream::Stderr) {
      CHECK(r.exceptions[0].type == "ValueError");
      CHECK(r.exceptions[0].stacktrace.frames[0].function == "a");
    } else {
      CHECK(r.exceptions[0].type == "OSError");
      CHECK(r.exceptions[0].stacktrace.frames[0].function == "b");
    }
  }
}
