#include <catch2/catch.hpp>

#include "managed_case.h"
#include "parsers/node_frames.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kNode = {"node"};
}  // namespace

TEST_CASE("node corpus cases, all detectors on", "[node][corpus]") {
  for (const std::string& c : crashwrap::test::cases_of("node")) {
    SECTION(c) { check_case(c, {}); }
  }
}

namespace {
std::optional<std::string> str(const char* s) { return std::string(s); }
const std::string kTrailer = "\nNode.js v18.19.0\n";
}  // namespace

TEST_CASE("node frames", "[node]") {
  bool props = false;
  auto f = node::parse_frame("    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:164:12) {", &props);
  REQUIRE(f);
  CHECK(props);
  CHECK(f->function == "Function.executeUserEntryPoint [as runMain]");
  CHECK(f->filename == "node:internal/modules/run_main");
  CHECK(f->lineno == std::optional<std::uint32_t>(164));
  CHECK(f->colno == std::optional<std::uint32_t>(12));
  CHECK(f->in_app == std::optional<bool>(false));

  f = node::parse_frame("    at async main (file:///srv/app/main.mjs:11:17)");
  REQUIRE(f);
  CHECK(f->function == "main");
  CHECK(f->filename == "/srv/app/main.mjs");
  CHECK(f->abs_path == "/srv/app/main.mjs");
  CHECK(f->in_app == std::optional<bool>(true));

  f = node::parse_frame("    at /srv/app/node_modules/express/lib/router/index.js:284:7");
  REQUIRE(f);
  CHECK(f->function.empty());
  CHECK(f->in_app == std::optional<bool>(false));

  f = node::parse_frame("    at new Session (/srv/app/session.js:3:25)");
  REQUIRE(f);
  CHECK(f->function == "new Session");

  f = node::parse_frame("    at Array.map (<anonymous>)");
  REQUIRE(f);
  CHECK(f->filename == "<anonymous>");
  CHECK(f->in_app == std::optional<bool>(false));
  CHECK(node::is_frame("    at async Promise.all (index 1)"));

  CHECK_FALSE(node::is_frame("\tat Main.main(Main.java:3)"));
  CHECK_FALSE(node::is_frame("  at Shop.P.Main () [0x00001] in /src/P.cs:3"));
  CHECK_FALSE(node::is_frame("    at the end of the day"));

  auto n = node::parse_native_frame(" 7: 0x10ea385 v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace) [/usr/bin/node]");
  REQUIRE(n);
  CHECK(n->instruction_addr == "0x10ea385");
  CHECK(n->function == "v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace)");
  CHECK(n->package == "/usr/bin/node");

  auto h = node::parse_error_header("TypeError [ERR_INVALID_ARG_TYPE]: The \"path\" argument must be of type string", false);
  REQUIRE(h);
  CHECK(h->name == "TypeError");
  CHECK(h->code == "ERR_INVALID_ARG_TYPE");
  CHECK_FALSE(node::parse_error_header("Note: something", true));
  CHECK(node::parse_error_header("Note: something", false));
}

TEST_CASE("node: older unhandled rejection format", "[node]") {
  auto out = feed(kNode,
                  "node:internal/process/promises:288\n"
                  "            triggerUncaughtException(err, true /* fromPromise */);\n"
                  "            ^\n\n"
                  "[UnhandledPromiseRejection: This error originated either by throwing inside of an async function "
                  "without a catch block, or by rejecting a promise which was not handled with .catch(). The promise "
                  "rejected with the reason \"oops\".] {\n"
                  "  code: 'ERR_UNHANDLED_REJECTION'\n}\n" + kTrailer);
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.back();
  CHECK(e.type == "UnhandledPromiseRejection");
  CHECK(text::ends_with(*e.value, "with the reason \"oops\"."));
  CHECK(e.mechanism.type == "onunhandledrejection");
  CHECK(out[0].last_line == 9);  // the "Node.js v" trailer
  REQUIRE_FALSE(out[0].extra.empty());
  CHECK(out[0].extra[0] == std::pair<std::string, std::string>("error.code", "ERR_UNHANDLED_REJECTION"));
}

TEST_CASE("node: V8 fatal errors", "[node]") {
  auto out = feed(kNode,
                  "\n<--- Last few GCs --->\n\n[1:0x5]   100 ms: Mark-sweep 15.9 (17.3) -> 15.8 (17.3) MB\n\n"
                  "<--- JS stacktrace --->\n\n"
                  "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory\n"
                  " 1: 0xa18150 node::Abort() [node]\n"
                  " 2: 0xa1855c node::OnFatalError(char const*, char const*) [node]\n");
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.back();
  CHECK(e.type == "FatalError");
  CHECK(e.mechanism.synthetic);
  CHECK(e.value == str("Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory"));
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames.back().function == "node::Abort()");
  CHECK(out[0].first_line == 2);

  out = feed(kNode,
             "\n\n#\n# Fatal error in , line 0\n# Check failed: (location_) != nullptr.\n#\n#\n#\n"
             "#FailureMessage Object: 0x7ffc2f8ba3d0\n----- Native stack trace -----\n\n"
             " 1: 0xb7d1c1 node::DumpBacktrace(_IO_FILE*) [node]\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.back().value == str("Check failed: (location_) != nullptr."));
  CHECK(out[0].exceptions.back().stacktrace.frames.size() == 1);
}

TEST_CASE("node: a logged error after a prefix, with ANSI colours", "[node]") {
  auto out = feed(kNode,
                  "[12:00:00] Request failed: \x1b[31mError: upstream timeout\x1b[39m\n"
                  "\x1b[90m    at Client.fetch (/srv/app/client.js:40:11)\x1b[39m\n"
                  "    at async handler (/srv/app/server.js:12:5)\n"
                  "[12:00:01] GET /health 200\n");
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.back();
  CHECK(e.type == "Error");
  CHECK(e.value == str("upstream timeout"));
  CHECK(e.mechanism.type == "generic");
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames.back().function == "Client.fetch");
  CHECK(e.stacktrace.frames.front().function == "handler");
}

TEST_CASE("node: lookalikes are not reports", "[node]") {
  CHECK(feed(kNode, "Error: config file not found: /etc/app.json\n").empty());
  CHECK(feed(kNode, "ValueError: bad value\nTraceback is above\n").empty());
  CHECK(feed(kNode, "listening on /srv/app/server.js:3000\nready\n").empty());
  CHECK(feed(kNode, "java.lang.RuntimeException: x\n\tat A.b(A.java:1)\n").empty());
}

TEST_CASE("node: every report back to back with itself, and between unrelated lines", "[node]") {
  for (const std::string& c : crashwrap::test::cases_of("node")) {
    if (c == "node/json-lines-logger-stack") continue;
    std::string text = crashwrap::test::read_file(crashwrap::test::corpus_dir() + "/" + c + "/stderr");
    auto once = feed(kNode, text);
    auto twice = feed(kNode, "starting\n" + text + text + "done\n");
    INFO(c);
    CHECK(twice.size() == 2 * once.size());
  }
}

TEST_CASE("node: the stack of an 'error' event's emit site is not the error's", "[node]") {
  for (auto [c, frames] : {std::pair<const char*, std::size_t>{"node/worker-thread-error", 4},
                           {"node/unhandled-error-event", 8}, {"node/econnrefused-emit-site", 1}}) {
    INFO(c);
    auto out = feed(kNode, crashwrap::test::read_file(crashwrap::test::corpus_dir() + "/" + c + "/stderr"));
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].exceptions.size() == 1);
    CHECK(out[0].exceptions[0].stacktrace.frames.size() == frames);
    CHECK(out[0].exceptions[0].mechanism.type == "onuncaughtexception");
    CHECK(text::starts_with(out[0].raw.substr(out[0].raw.rfind('\n') + 1), "Node.js v"));
  }
}

TEST_CASE("node: a line of other output between frames is skipped", "[node]") {
  auto out = feed(kNode,
                  "TypeError: x is not a function\n"
                  "    at a (/srv/app/a.js:1:1)\n"
                  "[metrics] flushed 12 series\n"
                  "    at b (/srv/app/b.js:2:2)\n"
                  "ordinary line one\nordinary line two\nordinary line three\nordinary line four\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.size() == 2);
  CHECK(out[0].last_line == 4);
}
