#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parsers/registry.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> run(std::string_view text, std::vector<std::string> names = {"go"}) {
  std::string error;
  auto reg = Registry::create(names, error);
  REQUIRE(reg);
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    Line l;
    l.stream = Stream::Stderr;
    l.text = text.substr(pos, end - pos);
    l.number = ++n;
    reg->feed(l, out);
    pos = end + 1;
  }
  reg->finish(out);
  return out;
}

const Frame& top(const Exception& e) { return e.stacktrace.frames.back(); }

}  // namespace

TEST_CASE("go: function names split like Sentry's Go SDK, arguments dropped", "[go]") {
  auto out = run(
      "panic: boom\n"
      "\n"
      "goroutine 7 [running]:\n"
      "gopkg.in/yaml.v3.(*decoder).unmarshal(0xc0000a2000, {0x5cf1a0?})\n"
      "\t/root/go/pkg/mod/gopkg.in/yaml.v3@v3.0.1/decode.go:493 +0x2d\n"
      "github.com/acme/shop/internal/cart.(*Cart).Add[...](0xc000010000, {0x1, 0x2})\n"
      "\t/src/shop/internal/cart/cart.go:88 +0x1d\n"
      "main.main.func1()\n"
      "\t/src/shop/main.go:12 +0x25\n");
  REQUIRE(out.size() == 1);
  const auto& frames = out[0].exceptions.at(0).stacktrace.frames;
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].module == "main");  // oldest first
  CHECK(frames[0].function == "main.func1");
  CHECK(frames[1].module == "github.com/acme/shop/internal/cart");
  CHECK(frames[1].function == "(*Cart).Add[...]");
  CHECK(frames[1].lineno == 88u);
  CHECK(frames[1].in_app == true);
  CHECK(frames[2].module == "gopkg.in/yaml");  // the SDK splits at the first '.' after the last '/'
  CHECK(frames[2].function == "v3.(*decoder).unmarshal");
  CHECK(frames[2].in_app == false);  // module cache
  CHECK(frames[2].abs_path == "/root/go/pkg/mod/gopkg.in/yaml.v3@v3.0.1/decode.go");
}

TEST_CASE("go: newer runtimes: gp=/m= headers, 'created by … in goroutine N', tab-indented value lines", "[go]") {
  auto out = run(
      "panic: invalid config:\n"
      "\tmissing port\n"
      "\tmissing user [recovered, repanicked]\n"
      "\n"
      "goroutine 21 gp=0xc000102380 m=3 mp=0xc000100008 [running]:\n"
      "main.load(...)\n"
      "\t/app/main.go:9\n"
      "created by main.main in goroutine 1\n"
      "\t/app/main.go:20 +0x3c\n"
      "\n"
      "goroutine 1 gp=0xc000002380 m=nil [chan receive, 5 minutes]:\n"
      "main.main()\n"
      "\t/app/main.go:22 +0x4f\n");
  REQUIRE(out.size() == 1);
  const CrashReport& r = out[0];
  REQUIRE(r.exceptions.size() == 1);
  CHECK(r.exceptions[0].value == std::optional<std::string>("invalid config:\nmissing port\nmissing user"));
  REQUIRE(r.threads.size() == 2);
  CHECK(r.threads[0].id == "21");
  CHECK(r.threads[0].crashed);
  CHECK(r.threads[0].stacktrace.frames.size() == 1);  // "created by" is not a frame
  CHECK(r.threads[1].id == "1");
  CHECK(r.threads[1].state == "chan receive");
  CHECK_FALSE(r.threads[1].crashed);
  CHECK(r.exceptions[0].thread_id == std::optional<std::string>("21"));
  CHECK(top(r.exceptions[0]).function == "load");
}

TEST_CASE("go: a goroutine printed twice keeps the copy with a stack", "[go]") {
  auto out = run(
      "fatal error: concurrent map writes\n"
      "\n"
      "goroutine 5 [running]:\n"
      "\tgoroutine running on other thread; stack unavailable\n"
      "created by main.main\n"
      "\t/app/main.go:20 +0x3c\n"
      "\n"
      "goroutine 5 [running]:\n"
      "main.record(...)\n"
      "\t/app/main.go:12\n");
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].threads.size() == 1);
  CHECK(out[0].threads[0].stacktrace.frames.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.size() == 1);
  CHECK(top(out[0].exceptions[0]).function == "record");
}

TEST_CASE("go: in_app is false for GOROOT, the standard library and the runtime", "[go]") {
  auto out = run(
      "panic: x\n"
      "\n"
      "goroutine 1 [running]:\n"
      "sync.(*WaitGroup).Wait(0x0?)\n"
      "\t/opt/go/src/sync/waitgroup.go:139 +0x52\n"
      "runtime.gopark(0x0?)\n"
      "\t/usr/local/go/src/runtime/proc.go:363 +0xd6\n"
      "example.com/app/vendor/github.com/x/y.F()\n"
      "\t/app/vendor/github.com/x/y/y.go:3 +0x1\n"
      "example.com/app/store.Open()\n"
      "\t/app/store/store.go:3 +0x1\n");
  REQUIRE(out.size() == 1);
  const auto& f = out[0].exceptions[0].stacktrace.frames;  // oldest first
  REQUIRE(f.size() == 4);
  CHECK(f[0].in_app == true);   // example.com/app/store
  CHECK(f[1].in_app == false);  // vendored
  CHECK(f[2].in_app == false);  // runtime under /usr/local/go
  CHECK(f[3].in_app == false);  // sync under a GOROOT elsewhere
}

TEST_CASE("go: a lone 'panic:' log line is not a report; back-to-back panics stay apart", "[go]") {
  CHECK(run("2024-05-01 12:00:00 ERROR panic: handled nicely\n2024-05-01 12:00:01 INFO next\n").empty());
  CHECK(run("ValueError: panic: not ours\n\nnext\n").empty());

  std::string one = "panic: first\n\ngoroutine 1 [running]:\nmain.a()\n\t/app/a.go:1 +0x1\n";
  std::string two = "panic: second\n\ngoroutine 1 [running]:\nmain.b()\n\t/app/b.go:2 +0x1\n";
  auto out = run(one + two);
  REQUIRE(out.size() == 2);
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("first"));
  CHECK(out[1].exceptions[0].value == std::optional<std::string>("second"));
  CHECK(top(out[1].exceptions[0]).function == "b");
  CHECK(out[1].first_line == 6);
}

TEST_CASE("go: an interleaved line inside a dump is tolerated, 'exit status' ends it", "[go]") {
  auto out = run(
      "panic: runtime error: index out of range [5] with length 3\n"
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4827bb]\n"
      "\n"
      "goroutine 1 [running]:\n"
      "main.handler(...)\n"
      "worker 3: still alive\n"
      "\t/app/main.go:15\n"
      "main.main()\n"
      "\t/app/main.go:20 +0x3b\n"
      "exit status 2\n"
      "after\n");
  REQUIRE(out.size() == 1);
  const CrashReport& r = out[0];
  CHECK(r.last_line == 10);
  CHECK(r.platform == "go");
  CHECK(r.exceptions[0].mechanism.signal_name == "SIGSEGV");
  CHECK(r.exceptions[0].mechanism.signal_number == 11);
  CHECK(r.exceptions[0].stacktrace.frames.size() == 2);
  CHECK(top(r.exceptions[0]).function == "handler");
}

TEST_CASE("go: http panic serving behind a log prefix, fault address preamble", "[go]") {
  auto out = run(
      "2024/05/01 10:00:00 http: panic serving 10.0.0.7:51234: nope: bad tenant\n"
      "goroutine 34 [running]:\n"
      "main.orders(...)\n"
      "\t/app/main.go:14 +0x85\n"
      "2024/05/01 10:00:01 served /health\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].type == "panic");
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("nope: bad tenant"));

  out = run(
      "unexpected fault address 0x7f0000000000\n"
      "fatal error: fault\n"
      "[signal SIGBUS: bus error code=0x2 addr=0x7f0000000000 pc=0x45f0c1]\n"
      "\n"
      "goroutine 1 [running]:\n"
      "main.main()\n"
      "\t/app/main.go:9 +0x1\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].type == "fatal error");
  CHECK(out[0].exceptions[0].value == std::optional<std::string>("fault"));
  CHECK(out[0].exceptions[0].mechanism.signal_name == "SIGBUS");
  CHECK(out[0].first_line == 1);
}

TEST_CASE("go: the goroutine count is capped", "[go]") {
  std::string text = "fatal error: all goroutines are asleep - deadlock!\n\n";
  for (int i = 1; i <= 1500; ++i)
    text += "goroutine " + std::to_string(i) + " [select]:\nmain.loop()\n\t/app/main.go:5 +0x1\n\n";
  auto out = run(text);
  REQUIRE(out.size() == 1);
  CHECK(out[0].threads.size() == 1000);
  CHECK(out[0].threads.back().id == "1000");
  CHECK(out[0].threads.back().stacktrace.frames.size() == 1);
}

TEST_CASE("go: GOTRACEBACK=crash repeats the signal per thread after '-----'; two dumps stay apart", "[go]") {
  std::string dump =
      "SIGQUIT: quit\n"
      "PC=0x45ef63 m=0 sigcode=0\n"
      "\n"
      "goroutine 1 [sleep]:\n"
      "main.main()\n"
      "\t/app/main.go:23 +0x114\n"
      "\n"
      "rax    0x0\n"
      "rflags 0x286\n";
  std::string next_m =
      "\n"
      "-----\n"
      "\n"
      "SIGQUIT: quit\n"
      "PC=0x45ef99 m=2 sigcode=0\n"
      "\n"
      "goroutine 0 [idle]:\n"
      "runtime.futex()\n"
      "\t/usr/lib/go/src/runtime/sys_linux_amd64.s:560 +0x23\n";
  auto out = run(dump + next_m);
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.size() == 1);
  CHECK(out[0].exceptions[0].type == "SIGQUIT");
  CHECK(out[0].exceptions[0].mechanism.signal_number == 3);
  CHECK(out[0].threads.size() == 2);
  CHECK(out[0].last_line == 18);

  out = run(dump + dump);
  REQUIRE(out.size() == 2);
  CHECK(out[1].first_line == 10);
}
