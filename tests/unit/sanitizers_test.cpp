#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parsers/native_frames.h"
#include "parsers/registry.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> run(std::string_view text) {
  std::string error;
  auto reg = Registry::create({"asan", "lsan", "tsan", "ubsan"}, error);
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

TEST_CASE("sanitizer frames: every line shape the runtimes print", "[sanitizers]") {
  auto f = native::parse_sanitizer_frame("    #0 0x4c5d3a in operator new[](unsigned long) ../../src/asan_new_delete.cpp:98");
  REQUIRE(f);
  CHECK(f->instruction_addr == "0x4c5d3a");
  CHECK(f->function == "operator new[](unsigned long)");
  CHECK(f->abs_path == "../../src/asan_new_delete.cpp");
  CHECK(f->lineno == 98u);
  CHECK_FALSE(f->colno);
  CHECK(f->in_app == false);

  f = native::parse_sanitizer_frame("    #4 0x55 in _start (/srv/app+0x10f0) (BuildId: 2128f576a4f49dc1)");
  REQUIRE(f);
  CHECK(f->function == "_start");
  CHECK(f->package == "/srv/app");
  CHECK(f->abs_path.empty());
  CHECK(f->in_app == false);

  f = native::parse_sanitizer_frame("    #2 0x7f00  (<unknown module>)");
  REQUIRE(f);
  CHECK(f->function.empty());
  CHECK(f->package.empty());

  f = native::parse_sanitizer_frame("    #6 <null> <null> (libstdc++.so.6+0xd44a2) (BuildId: 289ee39f)");
  REQUIRE(f);
  CHECK(f->function.empty());
  CHECK(f->instruction_addr.empty());
  CHECK(f->package == "libstdc++.so.6");

  f = native::parse_sanitizer_frame("    #1 std::vector<int, std::allocator<int> >::at(unsigned long) /usr/include/c++/12/bits/stl_vector.h:1124:2 (app+0x2)");
  REQUIRE(f);
  CHECK(f->function == "std::vector<int, std::allocator<int> >::at(unsigned long)");
  CHECK(f->colno == 2u);
  CHECK(f->in_app == false);

  CHECK_FALSE(native::parse_sanitizer_frame("#0 not indented"));
  CHECK_FALSE(native::parse_sanitizer_frame("    #x 0x1 in f"));
}

TEST_CASE("asan: recover mode prints reports back to back and the program goes on", "[sanitizers]") {
  std::string report =
      "=================================================================\n"
      "==77==ERROR: AddressSanitizer: global-buffer-overflow on address 0x5600 at pc 0x1 bp 0x2 sp 0x3\n"
      "WRITE of size 1 at 0x5600 thread T0\n"
      "    #0 0x55f in fill /src/buf.c:4\n"
      "    #1 0x560 in main /src/buf.c:9\n"
      "\n"
      "0x5600 is located 0 bytes to the right of global variable 'buf' defined in 'buf.c:1:6' (0x55f0) of size 16\n"
      "SUMMARY: AddressSanitizer: global-buffer-overflow /src/buf.c:4 in fill\n"
      "Shadow bytes around the buggy address:\n"
      "=>0x0ac0: 00 00[f9]f9\n"
      "Shadow byte legend (one shadow byte represents 8 application bytes):\n"
      "  Addressable:           00\n";
  auto out = run(report + report + "program output goes on\n");
  REQUIRE(out.size() == 2);
  for (const CrashReport& r : out) {
    CHECK(r.runtime == "asan");
    REQUIRE(r.exceptions.size() == 1);
    CHECK(r.exceptions[0].type == "global-buffer-overflow");
    CHECK(r.exceptions[0].value ==
          std::optional<std::string>("global-buffer-overflow on address 0x5600 at pc 0x1 bp 0x2 sp 0x3\n"
                                     "WRITE of size 1 at 0x5600 thread T0"));
    CHECK(r.exceptions[0].stacktrace.frames.size() == 2);
    CHECK(r.exceptions[0].stacktrace.frames.back().function == "fill");
    CHECK(r.threads.empty());
  }
  CHECK(out[0].first_line == 2);
  CHECK(out[0].last_line == 12);
  CHECK(out[1].first_line == 14);
}

TEST_CASE("msan and ubsan's own fatal signal use the sanitizer header", "[sanitizers]") {
  auto out = run(
      "==9==WARNING: MemorySanitizer: use-of-uninitialized-value\n"
      "    #0 0x4a in check /src/m.c:7:9\n"
      "\n"
      "SUMMARY: MemorySanitizer: use-of-uninitialized-value /src/m.c:7:9 in check\n"
      "Exiting\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].runtime == "msan");
  CHECK(out[0].exceptions[0].type == "use-of-uninitialized-value");
  CHECK(out[0].last_line == 5);

  out = run(
      "UndefinedBehaviorSanitizer:DEADLYSIGNAL\n"
      "==12==ERROR: UndefinedBehaviorSanitizer: SEGV on unknown address 0x000000000000 (pc 0x1 bp 0x2 sp 0x3 T12)\n"
      "==12==The signal is caused by a READ memory access.\n"
      "    #0 0x55 in read_cfg /src/cfg.c:3:10\n"
      "UndefinedBehaviorSanitizer can not provide additional info.\n"
      "SUMMARY: UndefinedBehaviorSanitizer: SEGV /src/cfg.c:3:10 in read_cfg\n"
      "==12==ABORTING\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].runtime == "ubsan");
  CHECK(out[0].exceptions[0].type == "SEGV");
  CHECK(out[0].exceptions[0].value ==
        std::optional<std::string>("SEGV on unknown address 0x000000000000 (pc 0x1 bp 0x2 sp 0x3 T12)\n"
                                   "The signal is caused by a READ memory access."));
  CHECK(out[0].first_line == 2);
  CHECK(out[0].last_line == 7);
}

TEST_CASE("tsan: reports other than data races take their value from the first description", "[sanitizers]") {
  auto out = run(
      "==================\n"
      "WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=31)\n"
      "  Cycle in lock order graph: M0 (0x7b0c) => M1 (0x7b0d) => M0\n"
      "\n"
      "  Mutex M1 acquired here while holding mutex M0 in main thread:\n"
      "    #0 pthread_mutex_lock <null> (app+0x1)\n"
      "    #1 transfer /src/bank.c:12 (app+0x2)\n"
      "\n"
      "  Mutex M0 acquired here while holding mutex M1 in thread T1:\n"
      "    #0 pthread_mutex_lock <null> (app+0x1)\n"
      "    #1 audit /src/bank.c:20 (app+0x3)\n"
      "\n"
      "SUMMARY: ThreadSanitizer: lock-order-inversion (potential deadlock) /src/bank.c:12 in transfer\n"
      "==================\n"
      "ThreadSanitizer: reported 1 warnings\n");
  REQUIRE(out.size() == 1);
  const CrashReport& r = out[0];
  CHECK(r.runtime == "tsan");
  CHECK(r.exceptions[0].type == "lock-order-inversion (potential deadlock)");
  CHECK(r.exceptions[0].value == std::optional<std::string>("Mutex M1 acquired here while holding mutex M0 in main thread"));
  CHECK(r.exceptions[0].stacktrace.frames.back().function == "pthread_mutex_lock");
  REQUIRE(r.threads.size() == 1);
  CHECK(r.threads[0].name == "Mutex M0 acquired here while holding mutex M1 in thread T1");
  CHECK(r.threads[0].stacktrace.frames.back().function == "pthread_mutex_lock");
  CHECK(r.threads[0].stacktrace.frames.front().function == "audit");
  CHECK(r.last_line == 14);
}

TEST_CASE("ubsan: runtime error lines need a source location prefix", "[sanitizers]") {
  CHECK(run("panic: runtime error: index out of range [5] with length 3\n").empty());
  CHECK(run("ERROR handler: runtime error: boom\n").empty());
  auto out = run("<unknown>: runtime error: call to function through pointer to incorrect function type\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.empty());
  out = run("src/a.c:3:9: runtime error: load of misaligned address 0x01 for type 'int'\n"
            "0x01: note: pointer points here\n"
            " 00 00 00\n"
            "              ^\n"
            "src/a.c:5:1: runtime error: null pointer passed as argument 1\n");
  REQUIRE(out.size() == 2);
  CHECK(out[0].last_line == 4);
  CHECK(out[1].exceptions[0].stacktrace.frames.at(0).lineno == 5u);
}

TEST_CASE("lsan: several leaks, the first stack is the exception's", "[sanitizers]") {
  auto out = run(
      "==3==ERROR: LeakSanitizer: detected memory leaks\n"
      "\n"
      "Direct leak of 8 byte(s) in 1 object(s) allocated from:\n"
      "    #0 0x1 in malloc (/usr/lib/libasan.so.8+0x1)\n"
      "    #1 0x2 in a /src/x.c:2\n"
      "\n"
      "Direct leak of 4 byte(s) in 1 object(s) allocated from:\n"
      "    #0 0x1 in malloc (/usr/lib/libasan.so.8+0x1)\n"
      "    #1 0x3 in b /src/x.c:3\n"
      "\n"
      "-----------------------------------------------------\n"
      "Suppressions used:\n"
      "  count      bytes template\n"
      "      1         16 libfoo\n"
      "-----------------------------------------------------\n"
      "\n"
      "SUMMARY: AddressSanitizer: 12 byte(s) leaked in 2 allocation(s).\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("12 byte(s) leaked in 2 allocation(s)."));
  CHECK(out[0].exceptions[0].stacktrace.frames.front().function == "a");
  CHECK(out[0].exceptions[0].stacktrace.frames.back().in_app == false);
  REQUIRE(out[0].threads.size() == 1);
  CHECK(out[0].threads[0].name == "Direct leak of 4 byte(s) in 1 object(s) allocated from");
  CHECK(out[0].last_line == 17);
}
