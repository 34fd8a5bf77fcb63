#include <catch2/catch.hpp>

#include "managed_case.h"
#include "parsers/jvm_frames.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
std::optional<std::string> str(const char* s) { return std::string(s); }
}  // namespace

TEST_CASE("java corpus cases, all detectors on", "[jvm][corpus]") {
  for (const std::string& c : crashwrap::test::cases_of("java")) {
    SECTION(c) { check_case(c, {}); }
  }
}

namespace {
const Exception& only_exception(const std::vector<CrashReport>& out) {
  REQUIRE(out.size() == 1);
  REQUIRE_FALSE(out[0].exceptions.empty());
  return out[0].exceptions.back();
}
}  // namespace

TEST_CASE("java frames: module prefixes, hidden classes, sources, packaging data", "[jvm]") {
  auto f = jvm::parse_frame("\tat java.base/java.lang.Thread.run(Thread.java:840)");
  REQUIRE(f);
  CHECK(f->module == "java.lang.Thread");
  CHECK(f->function == "run");
  CHECK(f->filename == "Thread.java");
  CHECK(f->lineno == std::optional<std::uint32_t>(840));
  CHECK(f->in_app == std::optional<bool>(false));

  f = jvm::parse_frame("\tat app//com.acme.shop.Cart$Line.<init>(Cart.kt:12)");
  REQUIRE(f);
  CHECK(f->module == "com.acme.shop.Cart$Line");
  CHECK(f->function == "<init>");
  CHECK(f->filename == "Cart.kt");
  CHECK(f->in_app == std::optional<bool>(true));

  f = jvm::parse_frame("\tat com.acme.mod@1.2/com.acme.Main.run(Main.java:3)");
  REQUIRE(f);
  CHECK(f->module == "com.acme.Main");

  f = jvm::parse_frame("\tat java.base/java.lang.invoke.LambdaForm$DMH/0x0000000800c0c000.invokeStatic(LambdaForm$DMH)");
  REQUIRE(f);
  CHECK(f->module == "java.lang.invoke.LambdaForm$DMH/0x0000000800c0c000");
  CHECK(f->function == "invokeStatic");

  f = jvm::parse_frame("\tat jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)");
  REQUIRE(f);
  CHECK(f->filename.empty());
  CHECK_FALSE(f->lineno);

  f = jvm::parse_frame("\tat com.acme.Gen.call(Unknown Source)");
  REQUIRE(f);
  CHECK(f->filename.empty());

  f = jvm::parse_frame("\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883) ~[spring-webmvc-5.3.1.jar:5.3.1]");
  REQUIRE(f);
  CHECK(f->lineno == std::optional<std::uint32_t>(883));
  CHECK(f->in_app == std::optional<bool>(false));

  // Not Java frames: Node.js, .NET, prose.
  CHECK_FALSE(jvm::is_frame("    at fn (/app/main.js:1:2)"));
  CHECK_FALSE(jvm::is_frame("   at Shop.Program.Main(String[] args) in /src/Program.cs:line 5"));
  CHECK_FALSE(jvm::is_frame("   at System.Linq.ThrowHelper.ThrowNoElementsException()"));
  CHECK_FALSE(jvm::is_frame("    at the moment (nothing) happened"));
  CHECK(jvm::more_count("\t... 23 common frames omitted") == std::optional<std::uint64_t>(23));
  CHECK(jvm::more_count("\t... 2 more") == std::optional<std::uint64_t>(2));
}

TEST_CASE("java: a trace logged by a framework after a prefixed message line", "[jvm]") {
  auto out = feed({"java"},
                  "2024-05-01 10:00:00.123 ERROR 1 --- [nio-8080-exec-1] c.a.web.Handler : request failed\n"
                  "org.springframework.web.util.NestedServletException: Request processing failed\n"
                  "\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014) ~[spring-webmvc.jar:5.3.1]\n"
                  "\tat com.acme.web.Handler.handle(Handler.java:42) ~[classes/:na]\n"
                  "Caused by: java.lang.IllegalArgumentException: id must be positive\n"
                  "\tat com.acme.shop.Orders.find(Orders.java:17) ~[classes/:na]\n"
                  "\t... 1 common frames omitted\n"
                  "2024-05-01 10:00:01.000  INFO 1 --- [main] c.a.App : still serving\n");
  REQUIRE(out.size() == 1);
  const auto& ex = out[0].exceptions;
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].type == "IllegalArgumentException");
  CHECK(ex[0].module == "java.lang");
  // the omitted frame is the enclosing trace's oldest one
  REQUIRE(ex[0].stacktrace.frames.size() == 2);
  CHECK(ex[0].stacktrace.frames[0].function == "handle");
  CHECK(ex[0].stacktrace.frames[1].function == "find");
  CHECK(ex[0].mechanism.source == "cause");
  CHECK(ex[0].mechanism.parent_id == std::optional<int>(0));
  CHECK(ex[1].type == "NestedServletException");
  CHECK(ex[1].module == "org.springframework.web.util");
  CHECK(ex[1].mechanism.exception_id == std::optional<int>(0));
  CHECK(out[0].platform == "java");
  CHECK(out[0].last_line == 7);
}

TEST_CASE("java: a logging prefix on every line, ANSI colours", "[jvm]") {
  auto out = feed({"java"},
                  "Jan 02 10:00:00 host app[812]: \x1b[31mException in thread \"main\" java.lang.IllegalStateException: boom\x1b[0m\n"
                  "Jan 02 10:00:00 host app[812]: \tat com.acme.Main.run(Main.java:9)\n"
                  "Jan 02 10:00:00 host app[812]: \tat com.acme.Main.main(Main.java:4)\n"
                  "Jan 02 10:00:01 host app[812]: shutting down\n");
  const Exception& e = only_exception(out);
  CHECK(e.type == "IllegalStateException");
  CHECK(e.value == str("boom"));
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames.back().function == "run");
  CHECK(e.mechanism.type == "UncaughtExceptionHandler");
  REQUIRE(out[0].threads.size() == 1);
  CHECK(out[0].threads[0].name == "main");
  CHECK(out[0].threads[0].crashed);
  CHECK(e.thread_id == str("main"));
}

TEST_CASE("java: back to back traces stay apart; unrelated lines between frames are tolerated", "[jvm]") {
  std::string trace = "Exception in thread \"main\" java.lang.RuntimeException: one\n\tat A.a(A.java:1)\n\tat A.b(A.java:2)\n";
  auto out = feed({"java"}, trace + trace);
  REQUIRE(out.size() == 2);
  CHECK(out[0].exceptions[0].stacktrace.frames.size() == 2);
  CHECK(out[1].first_line == 4);

  out = feed({"java"},
             "Exception in thread \"worker\" java.lang.RuntimeException: two\n\tat A.a(A.java:1)\n"
             "[heartbeat] ok\n\tat A.b(A.java:2)\n\tat A.c(A.java:3)\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.size() == 3);
}

TEST_CASE("java: lines that only look like a throwable are not reports", "[jvm]") {
  CHECK(feed({"java"}, "java.lang.RuntimeException: logged without a stack\nnext line\n").empty());
  CHECK(feed({"java"}, "shop.errors.InventoryError: sold out\n").empty());
  CHECK(feed({"java"}, "TypeError: x is undefined\n    at fn (/app/main.js:1:2)\n").empty());
  CHECK(feed({"java"}, "server.port: 8080\n\tat least once\n").empty());
}

TEST_CASE("java: suppressed blocks with their own causes stay out of the chain", "[jvm]") {
  auto out = feed({"java"},
                  "Exception in thread \"main\" java.lang.IllegalStateException: outer\n"
                  "\tat Main.run(Main.java:10)\n"
                  "\tSuppressed: java.io.IOException: close failed\n"
                  "\t\tat Main.close(Main.java:20)\n"
                  "\tCaused by: java.net.SocketException: reset\n"
                  "\t\tat Main.flush(Main.java:30)\n"
                  "\t\t... 1 more\n"
                  "Caused by: java.io.UncheckedIOException: inner\n"
                  "\tat Main.load(Main.java:40)\n"
                  "\t... 1 more\n");
  REQUIRE(out.size() == 1);
  const auto& ex = out[0].exceptions;
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].type == "UncheckedIOException");
  CHECK(ex[1].type == "IllegalStateException");
  CHECK(ex[1].stacktrace.frames.size() == 1);
}

TEST_CASE("java: StackOverflowError keeps the JVM's 1024 frames, no more", "[jvm]") {
  std::string text = "Exception in thread \"main\" java.lang.StackOverflowError\n";
  for (int i = 0; i < 1100; ++i) text += "\tat Main.deep(Main.java:3)\n";
  auto out_e = feed({"java"}, text);
  const Exception& e = only_exception(out_e);
  CHECK_FALSE(e.value);
  CHECK(e.stacktrace.frames.size() == 1024);
}

TEST_CASE("java: header variants without a stack", "[jvm]") {
  auto out_a = feed({"java"}, "Exception: java.lang.OutOfMemoryError thrown from the UncaughtExceptionHandler in thread \"main\"\n");
  const Exception& a = only_exception(out_a);
  CHECK(a.type == "OutOfMemoryError");
  CHECK_FALSE(a.value);
  auto out_b = feed({"java"}, "Exception in thread \"main\" java.lang.NullPointerException\n");
  const Exception& b = only_exception(out_b);
  CHECK(b.type == "NullPointerException");
  CHECK(b.stacktrace.frames.empty());
  auto out_c = feed({"java"}, "Terminating due to java.lang.OutOfMemoryError: Java heap space\n");
  const Exception& c = only_exception(out_c);
  CHECK(c.value == str("Java heap space"));
}

TEST_CASE("java: a header line longer than the analysis cap", "[jvm]") {
  std::string msg(20000, 'x');
  auto out = feed({"java"}, "Exception in thread \"main\" java.lang.IllegalStateException: " + msg + "\n\tat Main.main(Main.java:1)\n");
  const Exception& e = only_exception(out);
  REQUIRE(e.value);
  CHECK(e.value->size() < msg.size());
  CHECK(e.stacktrace.frames.size() == 1);
}

TEST_CASE("jvm-fatal: internal error, native out of memory, frames, attachment", "[jvm]") {
  auto out = feed({"jvm-fatal"},
                  "#\n# A fatal error has been detected by the Java Runtime Environment:\n#\n"
                  "#  Internal Error (g1ConcurrentMark.cpp:1234), pid=7, tid=8\n"
                  "#  guarantee(cm_thread()->in_progress()) failed: invariant\n#\n"
                  "# JRE version: OpenJDK Runtime Environment (17.0.15+6)\n"
                  "# Problematic frame:\n# C  [libnative.so+0x1139]  Java_com_acme_Native_crash+0x10\n#\n"
                  "# An error report file with more information is saved as:\n# /srv/app/hs_err_pid7.log\n#\n"
                  "---------------  S U M M A R Y ------------\n");
  const Exception& e = only_exception(out);
  CHECK(out[0].runtime == "jvm-fatal");
  CHECK(e.type == "Internal Error");
  CHECK(e.value == str("Internal Error (g1ConcurrentMark.cpp:1234), pid=7, tid=8\n"
                       "guarantee(cm_thread()->in_progress()) failed: invariant"));
  REQUIRE(e.stacktrace.frames.size() == 1);
  CHECK(e.stacktrace.frames[0].function == "Java_com_acme_Native_crash");
  CHECK(e.stacktrace.frames[0].package == "libnative.so");
  CHECK(e.stacktrace.frames[0].in_app == std::optional<bool>(true));
  CHECK(out[0].attachment_path == "/srv/app/hs_err_pid7.log");

  out = feed({"jvm-fatal"},
             "#\n# There is insufficient memory for the Java Runtime Environment to continue.\n"
             "# Native memory allocation (mmap) failed to map 65536 bytes for committing reserved memory.\n"
             "# An error report file with more information is saved as:\n# /tmp/hs_err_pid9.log\n");
  const Exception& m = only_exception(out);
  CHECK(m.type == "Out of Memory Error");
  CHECK(m.value == str("Native memory allocation (mmap) failed to map 65536 bytes for committing reserved memory."));
  CHECK(out[0].attachment_path == "/tmp/hs_err_pid9.log");

  out = feed({"jvm-fatal"},
             "# A fatal error has been detected by the Java Runtime Environment:\n"
             "#  SIGBUS (0x7) at pc=0x00007f, pid=1, tid=2\n# Problematic frame:\n# j  com.acme.Mapped.read()I+12\n");
  const Exception& s = only_exception(out);
  CHECK(s.type == "SIGBUS");
  CHECK(s.mechanism.signal_number == std::optional<int>(7));
  REQUIRE(s.stacktrace.frames.size() == 1);
  CHECK(s.stacktrace.frames[0].module == "com.acme.Mapped");
  CHECK(s.stacktrace.frames[0].function == "read");
}
