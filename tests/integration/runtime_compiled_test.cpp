// Real Go, Rust, C/C++ (glibc, libstdc++, sanitizers) programs and a
// structured-logging program under the real crashwrap binary, delivering to a
// loopback receiver: the event carries the exception, frames, threads and
// level the runtime's output described, and the child's output and ending
// pass through unchanged. A toolchain that is not installed skips its cases.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;
using nlohmann::json;

namespace {

std::optional<std::string> find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

#define REQUIRE_TOOL(var, name)                          \
  auto var = find_program(name);                         \
  if (!var) {                                            \
    WARN("skipped: " name " is not installed");          \
    return;                                              \
  }

// Builds `source` in `dir` with `build` (the source file name is appended
// where "{src}", the output where "{out}" appear). False after a build failure.
bool build(const TempDir& dir, const std::string& file_name, const std::string& source,
           std::vector<std::string> command) {
  REQUIRE(write_file(dir.file(file_name), source));
  for (std::string& a : command) {
    if (a == "{src}") a = dir.file(file_name);
    if (a == "{out}") a = dir.file("app");
  }
  ProcessOptions o;
  o.argv = std::move(command);
  o.cwd = dir.path();
  RunResult r = run(o, std::chrono::seconds(180));
  if (r.exit_code() != 0) WARN("build failed: " << r.err);
  return r.exit_code() == 0;
}

struct Run {
  RunResult result;
  std::vector<json> events;
};

// crashwrap (private spool, loopback DSN) running the built program.
Run run_app(const TempDir& dir, Receiver& rx, std::vector<std::pair<std::string, std::string>> env = {},
            std::vector<std::string> command = {}) {
  ProcessOptions o;
  o.argv = {crashwrap_bin(), "--spool", dir.file("spool"), "--dsn", rx.dsn(), "--"};
  if (command.empty()) command = {dir.file("app")};
  o.argv.insert(o.argv.end(), command.begin(), command.end());
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL", "GOTRACEBACK", "RUST_BACKTRACE",
                 "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS", "http_proxy", "https_proxy",
                 "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  o.env_set = std::move(env);
  o.cwd = dir.path();
  Run r;
  r.result = run(o, std::chrono::seconds(60));
  for (const auto& e : rx.envelopes())
    if (e.item("event") != nullptr) r.events.push_back(e.event());
  return r;
}

const json& values(const json& event) { return event["exception"]["values"]; }
const json& frames(const json& exception) { return exception["stacktrace"]["frames"]; }
const json& top_frame(const json& exception) { return frames(exception).back(); }

const json* crashed_thread(const json& event) {
  if (!event.contains("threads")) return nullptr;
  for (const json& t : event["threads"]["values"])
    if (t.value("crashed", false)) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("go: a nil pointer panic is one fatal event with the goroutines as threads", "[runtime][go][integration]") {
  REQUIRE_TOOL(go, "go");
  TempDir dir;
  Receiver rx;
  const char* source =
      "package main\n"
      "\n"
      "import (\n"
      "\t\"fmt\"\n"
      "\t\"time\"\n"
      ")\n"
      "\n"
      "type Config struct{ host string }\n"
      "\n"
      "func (c *Config) Addr() string { return c.host + \":80\" }\n"
      "\n"
      "func idle() { time.Sleep(time.Hour) }\n"
      "\n"
      "func main() {\n"
      "\tgo idle()\n"
      "\ttime.Sleep(10 * time.Millisecond)\n"
      "\tvar c *Config\n"
      "\tfmt.Println(\"starting\")\n"
      "\tfmt.Println(c.Addr())\n"
      "}\n";
  if (!build(dir, "main.go", source, {*go, "build", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx, {{"GOTRACEBACK", "all"}});
  CHECK(r.result.exit_code() == 2);
  CHECK(r.result.out == "starting\n");
  CHECK(r.result.err.find("panic: runtime error: invalid memory address or nil pointer dereference\n") == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "go");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "panic");
  CHECK(values(e)[0]["value"] == "runtime error: invalid memory address or nil pointer dereference");
  CHECK(values(e)[0]["mechanism"]["handled"] == false);
  CHECK(top_frame(values(e)[0])["function"] == "(*Config).Addr");
  CHECK(top_frame(values(e)[0])["module"] == "main");
  CHECK(top_frame(values(e)[0])["lineno"] == 10);
  CHECK(top_frame(values(e)[0])["in_app"] == true);
  REQUIRE(e.contains("threads"));
  CHECK(e["threads"]["values"].size() == 2);
  const json* crashed = crashed_thread(e);
  REQUIRE(crashed != nullptr);
  CHECK((*crashed)["id"] == "1");
}

TEST_CASE("go: a panic net/http recovered and logged is a handled error", "[runtime][go][integration]") {
  REQUIRE_TOOL(go, "go");
  TempDir dir;
  Receiver rx;
  const char* source =
      "package main\n"
      "\n"
      "import (\n"
      "\t\"fmt\"\n"
      "\t\"net\"\n"
      "\t\"net/http\"\n"
      ")\n"
      "\n"
      "func handler(w http.ResponseWriter, r *http.Request) {\n"
      "\tvar quotas map[string]int\n"
      "\tquotas[\"acme\"]++\n"
      "}\n"
      "\n"
      "func main() {\n"
      "\tln, _ := net.Listen(\"tcp\", \"127.0.0.1:0\")\n"
      "\tgo http.Serve(ln, http.HandlerFunc(handler))\n"
      "\t_, err := http.Get(\"http://\" + ln.Addr().String() + \"/\")\n"
      "\tfmt.Println(\"request done:\", err != nil)\n"
      "}\n";
  if (!build(dir, "main.go", source, {*go, "build", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx);
  CHECK(r.result.exit_code() == 0);
  CHECK(r.result.out == "request done: true\n");
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "error");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "panic");
  CHECK(values(e)[0]["value"] == "assignment to entry in nil map");
  CHECK(values(e)[0]["mechanism"]["handled"] == true);
  bool handler_frame = false;
  for (const json& f : frames(values(e)[0]))
    if (f["function"] == "handler" && f["module"] == "main") handler_frame = true;
  CHECK(handler_frame);
}

TEST_CASE("rust: a panic with RUST_BACKTRACE=1 keeps the frames below the panic machinery", "[runtime][rust][integration]") {
  REQUIRE_TOOL(rustc, "rustc");
  TempDir dir;
  Receiver rx;
  const char* source =
      "fn withdraw(balance: u32, amount: u32) -> u32 {\n"
      "    if amount > balance {\n"
      "        panic!(\"overdrawn: balance {} < {}\", balance, amount);\n"
      "    }\n"
      "    balance - amount\n"
      "}\n"
      "\n"
      "fn main() {\n"
      "    println!(\"left {}\", withdraw(100, 30));\n"
      "    println!(\"left {}\", withdraw(80, 120));\n"
      "}\n";
  if (!build(dir, "main.rs", source, {*rustc, "-g", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx, {{"RUST_BACKTRACE", "1"}});
  CHECK(r.result.exit_code() == 101);
  CHECK(r.result.out == "left 70\n");
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "native");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "panic");
  CHECK(values(e)[0]["value"] == "overdrawn: balance 80 < 120");
  CHECK(top_frame(values(e)[0])["function"] == "main::withdraw");
  CHECK(top_frame(values(e)[0])["lineno"] == 3);
  CHECK(top_frame(values(e)[0])["in_app"] == true);
  for (const json& f : frames(values(e)[0])) CHECK(f.value("function", "").find("panicking") == std::string::npos);
  const json* crashed = crashed_thread(e);
  REQUIRE(crashed != nullptr);
  CHECK((*crashed)["name"] == "main");
}

TEST_CASE("c++: an uncaught exception is one fatal event and crashwrap dies of the same signal", "[runtime][cpp][integration]") {
  REQUIRE_TOOL(gxx, "g++");
  TempDir dir;
  Receiver rx;
  const char* source =
      "#include <cstdio>\n"
      "#include <stdexcept>\n"
      "int main() {\n"
      "  std::puts(\"loading limits\");\n"
      "  std::fflush(stdout);\n"
      "  throw std::runtime_error(\"no limit configured for 'disk'\");\n"
      "}\n";
  if (!build(dir, "main.cpp", source, {*gxx, "-g", "-O0", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx);
  CHECK(r.result.term_signal() == SIGABRT);
  CHECK(r.result.out == "loading limits\n");
  CHECK(r.result.err.find("terminate called after throwing an instance of 'std::runtime_error'\n"
                          "  what():  no limit configured for 'disk'\n") == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "std::runtime_error");
  CHECK(values(e)[0]["value"] == "no limit configured for 'disk'");
}

TEST_CASE("glibc: an assertion failure names the function, file and line", "[runtime][glibc][integration]") {
  REQUIRE_TOOL(gcc, "gcc");
  TempDir dir;
  Receiver rx;
  const char* source =
      "#include <assert.h>\n"
      "static int ring_push(int n) {\n"
      "  assert(n < 4 && \"ring full\");\n"
      "  return n + 1;\n"
      "}\n"
      "int main(void) {\n"
      "  int n = 0;\n"
      "  for (int i = 0; i < 6; ++i) n = ring_push(n);\n"
      "  return n;\n"
      "}\n";
  if (!build(dir, "main.c", source, {*gcc, "-g", "-O0", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx);
  CHECK(r.result.term_signal() == SIGABRT);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "SIGABRT");
  CHECK(values(e)[0]["value"] == "Assertion `n < 4 && \"ring full\"' failed.");
  REQUIRE(frames(values(e)[0]).size() == 1);
  CHECK(top_frame(values(e)[0])["function"] == "ring_push");
  CHECK(top_frame(values(e)[0])["lineno"] == 3);
}

TEST_CASE("asan: a heap-use-after-free report with its free and allocation stacks", "[runtime][asan][integration]") {
  REQUIRE_TOOL(gcc, "gcc");
  TempDir dir;
  Receiver rx;
  const char* source =
      "#include <stdlib.h>\n"
      "static int* make(void) { int* p = malloc(4 * sizeof *p); p[0] = 7; return p; }\n"
      "static int peek(const int* p) { return p[0]; }\n"
      "int main(void) {\n"
      "  int* p = make();\n"
      "  free(p);\n"
      "  return peek(p);\n"
      "}\n";
  if (!build(dir, "main.c", source, {*gcc, "-g", "-O0", "-fsanitize=address", "-fno-omit-frame-pointer", "-o", "{out}", "{src}"}))
    return;
  Run r = run_app(dir, rx);
  CHECK(r.result.exit_code() == 1);
  CHECK(r.result.err.find("==ERROR: AddressSanitizer: heap-use-after-free on address 0x") != std::string::npos);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "heap-use-after-free");
  CHECK(values(e)[0]["value"].get<std::string>().find("heap-use-after-free on address 0x") == 0);
  CHECK(top_frame(values(e)[0])["function"] == "peek");
  CHECK(top_frame(values(e)[0])["lineno"] == 3);
  CHECK(top_frame(values(e)[0])["in_app"] == true);
  REQUIRE(e.contains("threads"));
  CHECK(e["threads"]["values"].size() == 2);  // freed by, previously allocated by
}

TEST_CASE("ubsan: a recoverable report in a program that exits 0 is a handled error", "[runtime][ubsan][integration]") {
  REQUIRE_TOOL(gcc, "gcc");
  TempDir dir;
  Receiver rx;
  const char* source =
      "#include <limits.h>\n"
      "#include <stdio.h>\n"
      "static int twice(int x) { return x * 2; }\n"
      "int main(int argc, char** argv) {\n"
      "  (void)argv;\n"
      "  printf(\"%d\\n\", twice(INT_MAX - argc));\n"
      "  return 0;\n"
      "}\n";
  if (!build(dir, "main.c", source, {*gcc, "-g", "-O0", "-fsanitize=undefined", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx);
  CHECK(r.result.exit_code() == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "error");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "runtime error");
  CHECK(values(e)[0]["value"] == "signed integer overflow: 2147483646 * 2 cannot be represented in type 'int'");
  CHECK(values(e)[0]["mechanism"]["handled"] == true);
  CHECK(top_frame(values(e)[0])["lineno"] == 3);
}

TEST_CASE("json logs: a structured log line carrying a traceback becomes its runtime's event with the log's fields",
          "[runtime][json][integration]") {
  REQUIRE_TOOL(python, "python3");
  TempDir dir;
  Receiver rx;
  const char* source =
      "import json, sys, traceback\n"
      "def charge(cents):\n"
      "    raise ValueError(f'card declined for {cents} cents')\n"
      "try:\n"
      "    charge(250)\n"
      "except ValueError:\n"
      "    print(json.dumps({'level': 'error', 'logger': 'billing', 'msg': 'charge failed',\n"
      "                      'exc_info': traceback.format_exc()}), flush=True)\n"
      "print(json.dumps({'level': 'info', 'msg': 'batch done'}), flush=True)\n";
  REQUIRE(write_file(dir.file("app.py"), source));
  Run r = run_app(dir, rx, {}, {*python, dir.file("app.py")});
  CHECK(r.result.exit_code() == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "error");
  CHECK(e["platform"] == "python");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "ValueError");
  CHECK(values(e)[0]["value"] == "card declined for 250 cents");
  CHECK(top_frame(values(e)[0])["function"] == "charge");
  CHECK(e["tags"]["log.level"] == "error");
  CHECK(e["tags"]["logger"] == "billing");
  CHECK(e["extra"]["log.message"] == "charge failed");
}

TEST_CASE("tsan: a data race with the other access and the thread creations as threads", "[runtime][tsan][integration]") {
  REQUIRE_TOOL(gcc, "gcc");
  TempDir dir;
  Receiver rx;
  const char* source =
      "#include <pthread.h>\n"
      "#include <stdio.h>\n"
      "static long hits;\n"
      "static void* count(void* arg) {\n"
      "  for (int i = 0; i < 1000; ++i) hits++;\n"
      "  return arg;\n"
      "}\n"
      "int main(void) {\n"
      "  pthread_t a, b;\n"
      "  pthread_create(&a, NULL, count, NULL);\n"
      "  pthread_create(&b, NULL, count, NULL);\n"
      "  pthread_join(a, NULL);\n"
      "  pthread_join(b, NULL);\n"
      "  printf(\"hits %ld\\n\", hits);\n"
      "  return 0;\n"
      "}\n";
  if (!build(dir, "main.c", source, {*gcc, "-g", "-O1", "-fsanitize=thread", "-o", "{out}", "{src}"})) return;
  Run r = run_app(dir, rx);
  if (r.result.err.find("FATAL: ThreadSanitizer") != std::string::npos) {
    WARN("skipped: ThreadSanitizer cannot run here: " << r.result.err);
    return;
  }
  CHECK(r.result.exit_code() == 66);
  CHECK(r.result.out.rfind("hits ", 0) == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "data race");
  CHECK(values(e)[0]["value"].get<std::string>().find(" of size 8 at 0x") != std::string::npos);
  CHECK(top_frame(values(e)[0])["function"] == "count");
  CHECK(top_frame(values(e)[0])["lineno"] == 5);
  REQUIRE(e.contains("threads"));
  CHECK(e["threads"]["values"].size() == 3);
}
