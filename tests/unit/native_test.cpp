#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parsers/native_frames.h"
#include "parsers/registry.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> run(std::string_view text, std::vector<std::string> names = {"cpp", "glibc"}) {
  std::string error;
  auto reg = Registry::create(names, error);
  REQUIRE(reg);
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    Line l;
    l.text = text.substr(pos, end - pos);
    l.number = ++n;
    reg->feed(l, out);
    pos = end + 1;
  }
  reg->finish(out);
  return out;
}

}  // namespace

TEST_CASE("cpp: libstdc++ and libc++abi terminate messages", "[native]") {
  auto out = run(
      "terminate called after throwing an instance of 'std::out_of_range'\n"
      "  what():  vector::_M_range_check: __n (which is 7) >= this->size() (which is 3)\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].runtime == "cpp");
  CHECK(out[0].platform == "native");
  CHECK(out[0].exceptions[0].type == "std::out_of_range");
  CHECK(out[0].exceptions[0].value ==
        std::optional<std::string>("vector::_M_range_check: __n (which is 7) >= this->size() (which is 3)"));
  CHECK(out[0].exceptions[0].mechanism.signal_name == "SIGABRT");

  out = run("libc++abi: terminating due to uncaught exception of type std::__1::system_error: mutex lock failed: Invalid argument\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].type == "std::__1::system_error");
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("mutex lock failed: Invalid argument"));

  out = run("pure virtual method called\nterminate called without an active exception\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].type == "SIGABRT");
  CHECK(out[0].exceptions[0].value ==
        std::optional<std::string>("pure virtual method called\nterminate called without an active exception"));
}

TEST_CASE("cpp: an instance line without what() ends at the next line, which may start another report", "[native]") {
  auto out = run(
      "terminate called after throwing an instance of 'Error*'\n"
      "free(): double free detected in tcache 2\n");
  REQUIRE(out.size() == 2);
  CHECK(out[0].exceptions[0].type == "Error*");
  CHECK_FALSE(out[0].exceptions[0].value);
  CHECK(out[1].runtime == "glibc");
  CHECK(out[1].first_line == 2);
}

TEST_CASE("glibc: assert forms give the message and one frame", "[native]") {
  auto out = run("server: src/pool.c:88: pool_get: Assertion `idx < pool->n' failed.\n");
  REQUIRE(out.size() == 1);
  const Exception& e = out[0].exceptions.at(0);
  CHECK(e.type == "SIGABRT");
  CHECK(e.value == std::optional<std::string>("Assertion `idx < pool->n' failed."));
  REQUIRE(e.stacktrace.frames.size() == 1);
  CHECK(e.stacktrace.frames[0].function == "pool_get");
  CHECK(e.stacktrace.frames[0].filename == "src/pool.c");
  CHECK(e.stacktrace.frames[0].lineno == 88u);
  CHECK(e.stacktrace.frames[0].in_app == true);

  out = run("app: main.c:5: Assertion `ok' failed.\n");  // no function name
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.at(0).function.empty());
  CHECK(out[0].exceptions[0].stacktrace.frames.at(0).lineno == 5u);

  out = run("Assertion failed: n > 0 (queue.c: queue_pop: 41)\n");  // musl
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("Assertion failed: n > 0"));
  CHECK(out[0].exceptions[0].stacktrace.frames.at(0).function == "queue_pop");
  CHECK(out[0].exceptions[0].stacktrace.frames.at(0).lineno == 41u);
}

TEST_CASE("glibc: before 2.26, the error banner, backtrace and memory map", "[native]") {
  auto out = run(
      "*** Error in `./server': double free or corruption (fasttop): 0x0000000001c4f010 ***\n"
      "======= Backtrace: =========\n"
      "/lib/x86_64-linux-gnu/libc.so.6(+0x777e5)[0x7f3b8a2a07e5]\n"
      "/lib/x86_64-linux-gnu/libc.so.6(cfree+0x4c)[0x7f3b8a2a837c]\n"
      "./server(release+0x1d)[0x400a2d]\n"
      "./server(main+0x42)[0x400b12]\n"
      "======= Memory map: ========\n"
      "00400000-00401000 r-xp 00000000 08:01 1234  /srv/server\n"
      "7f3b8a229000-7f3b8a3e9000 r-xp 00000000 08:01 5678  /lib/x86_64-linux-gnu/libc-2.23.so\n"
      "listening again\n");
  REQUIRE(out.size() == 1);
  const Exception& e = out[0].exceptions.at(0);
  CHECK(e.value == std::optional<std::string>("double free or corruption (fasttop)"));
  REQUIRE(e.stacktrace.frames.size() == 4);
  CHECK(e.stacktrace.frames[0].function == "main");  // oldest first
  CHECK(e.stacktrace.frames[0].package == "./server");
  CHECK(e.stacktrace.frames[0].instruction_addr == "0x400b12");
  CHECK(e.stacktrace.frames[0].in_app == true);
  CHECK(e.stacktrace.frames[2].function == "cfree");
  CHECK(e.stacktrace.frames[2].in_app == false);
  CHECK(e.stacktrace.frames[3].function.empty());
  CHECK(out[0].last_line == 9);
}

TEST_CASE("glibc: messages need their exact shape", "[native]") {
  CHECK(run("free(): called for slot 3\n").empty());
  CHECK(run("malloc(): arena 2 ready\n").empty());
  CHECK(run("*** stack smashing is a classic ***\n").empty());
  auto out = run("Fatal glibc error: malloc.c:4376 (_int_malloc): assertion failed: chunk_main_arena (fwd)\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].value ==
        std::optional<std::string>("Fatal glibc error: malloc.c:4376 (_int_malloc): assertion failed: chunk_main_arena (fwd)"));
  out = run("*** stack smashing detected ***: ./legacy terminated\n");
  REQUIRE(out.size() == 1);
}

TEST_CASE("native frames: system frames by function, path and binary", "[native]") {
  auto f = native::parse_sanitizer_frame("    #3 0x7f0 in __libc_start_main_impl ../csu/libc-start.c:360");
  REQUIRE(f);
  CHECK(f->in_app == false);
  f = native::parse_sanitizer_frame("    #1 0x55d in Parser::next(std::string const&) /src/parser.cpp:41:7");
  REQUIRE(f);
  CHECK(f->function == "Parser::next(std::string const&)");
  CHECK(f->in_app == true);
  f = native::parse_sanitizer_frame("    #4 0x7f1 in helper (/usr/lib/x86_64-linux-gnu/libstdc++.so.6+0xd44a2)");
  REQUIRE(f);
  CHECK(f->package == "/usr/lib/x86_64-linux-gnu/libstdc++.so.6");
  CHECK(f->in_app == false);
}

TEST_CASE("glog: a failed CHECK with its stack, then the failure signal handler's copy", "[native]") {
  auto out = run(
      "I0501 10:00:00.000100 4242 main.cc:10] starting\n"
      "F0501 10:00:00.123456 4242 ring.cc:42] Check failed: n_ < 4 (5 vs. 4) ring full\n"
      "*** Check failure stack trace: ***\n"
      "    @     0x7f8b2c5b7e8d  google::LogMessage::Fail()\n"
      "    @     0x7f8b2c5bbd5a  google::LogMessageFatal::~LogMessageFatal()\n"
      "    @     0x55d2c2a6b1a5  Ring::push()\n"
      "    @     0x55d2c2a6b0a5  main\n"
      "    @     0x7f8b2be29d90  (unknown)\n"
      "*** Aborted at 1714557600 (unix time) try \"date -d @1714557600\" if you are using GNU date ***\n"
      "PC: @                0x0 (unknown)\n"
      "*** SIGABRT (@0x1092) received by PID 4242 (TID 0x7f8b2c) from PID 4242; stack trace: ***\n"
      "    @     0x7f8b2be4251f  (unknown)\n"
      "    @     0x55d2c2a6b1a5  Ring::push()\n",
      {"glog"});
  REQUIRE(out.size() == 1);
  const Exception& e = out[0].exceptions.at(0);
  CHECK(out[0].runtime == "cpp");
  CHECK(e.type == "SIGABRT");
  CHECK(e.value == std::optional<std::string>("Check failed: n_ < 4 (5 vs. 4) ring full"));
  CHECK(e.mechanism.signal_number == 6);
  REQUIRE(e.stacktrace.frames.size() == 5);  // the handler's copy is not added
  CHECK(e.stacktrace.frames[0].function.empty());
  CHECK(e.stacktrace.frames[1].function == "main");
  CHECK(e.stacktrace.frames[2].function == "Ring::push()");
  CHECK(e.stacktrace.frames[2].filename == "ring.cc");
  CHECK(e.stacktrace.frames[2].lineno == 42u);
  CHECK(e.stacktrace.frames[4].function == "google::LogMessage::Fail()");
  CHECK(e.stacktrace.frames[4].in_app == false);
  CHECK(out[0].first_line == 2);
  CHECK(out[0].last_line == 13);
}

TEST_CASE("glog and absl failure signal handlers on their own", "[native]") {
  auto out = run(
      "*** Aborted at 1225095260 (unix time) try \"date -d @1225095260\" if you are using GNU date ***\n"
      "*** SIGSEGV (@0x0) received by PID 17711 (TID 0x7f893090a6f0) from PID 0; stack trace: ***\n"
      "PC: @           0x412eb1 TestWaitingLogSink::send()\n"
      "    @     0x7f892fb417d0 (unknown)\n"
      "    @           0x412eb1 TestWaitingLogSink::send()\n"
      "    @           0x4115de main\n",
      {"glog"});
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.at(0).type == "SIGSEGV");
  CHECK(out[0].exceptions.at(0).value ==
        std::optional<std::string>("SIGSEGV (@0x0) received by PID 17711 (TID 0x7f893090a6f0) from PID 0"));
  CHECK(out[0].exceptions.at(0).stacktrace.frames.back().function.empty());
  CHECK(out[0].exceptions.at(0).stacktrace.frames.size() == 3);

  out = run(
      "*** SIGABRT received at time=1714557600 on cpu 3 ***\n"
      "PC: @     0x7f3c0a1e69fc  (unknown)  pthread_kill\n"
      "    @     0x55d2c2a6b1a5         64  absl::WriteFailureInfo()\n"
      "    @     0x55d2c2a6b0a5         32  main\n",
      {"glog"});
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.at(0).type == "SIGABRT");
  CHECK(out[0].exceptions.at(0).stacktrace.frames.at(0).function == "main");
  CHECK(out[0].exceptions.at(0).stacktrace.frames.at(1).in_app == false);
}
