// Real Java, Mono and Node.js programs under the real crashwrap binary,
// delivering to a loopback receiver: the event that arrives carries the
// exception chain, frames and level the runtime's own output described, the
// JVM's hs_err file rides along as an attachment, and the child's output and
// ending pass through unchanged. A runtime that is not installed skips its
// cases with a message.
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

#define REQUIRE_RUNTIME(var, name)              \
  auto var = find_program(name);                \
  if (!var) {                                   \
    WARN("skipped: " name " is not installed"); \
    return;                                     \
  }

struct Run {
  RunResult result;
  std::vector<ReceivedEnvelope> envelopes;
  std::vector<json> events;
};

// Builds (when `build` is given) in `dir`, then runs `command` under crashwrap
// with a private spool and the receiver's DSN, from `dir`.
Run run_wrapped(const TempDir& dir, Receiver& rx, std::vector<std::string> command,
                std::vector<std::string> build = {}) {
  if (!build.empty()) {
    ProcessOptions b;
    b.argv = std::move(build);
    b.cwd = dir.path();
    RunResult br = run(b, std::chrono::seconds(120));
    INFO("build output: " << br.err << br.out);
    REQUIRE(br.exit_code() == 0);
  }
  ProcessOptions o;
  o.argv = {crashwrap_bin(), "--spool", dir.file("spool"), "--dsn", rx.dsn(), "--"};
  o.argv.insert(o.argv.end(), command.begin(), command.end());
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
                 "JDK_JAVA_OPTIONS", "NODE_OPTIONS", "FORCE_COLOR", "MONO_ENV_OPTIONS", "http_proxy",
                 "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
  o.env_set = {{"NO_COLOR", "1"}};
  o.cwd = dir.path();
  Run r;
  r.result = run(o, std::chrono::seconds(120));
  r.envelopes = rx.envelopes();
  for (const auto& e : r.envelopes)
    if (e.item("event") != nullptr) r.events.push_back(e.event());
  return r;
}

const json& values(const json& event) { return event["exception"]["values"]; }
const json& top_frame(const json& exception) { return exception["stacktrace"]["frames"].back(); }

}  // namespace

TEST_CASE("java: an uncaught exception with its causes is one fatal event", "[runtime][java][integration]") {
  REQUIRE_RUNTIME(javac, "javac");
  REQUIRE_RUNTIME(java, "java");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("Main.java"),
                     "public class Main {\n"
                     "  static class Repository {\n"
                     "    String load(int id) throws java.io.IOException {\n"
                     "      throw new java.io.IOException(\"connection reset while reading row \" + id);\n"
                     "    }\n"
                     "  }\n"
                     "  static String handle(int id) {\n"
                     "    try { return new Repository().load(id); }\n"
                     "    catch (java.io.IOException e) { throw new IllegalStateException(\"request \" + id + \" failed\", e); }\n"
                     "  }\n"
                     "  public static void main(String[] args) {\n"
                     "    System.out.println(\"serving\");\n"
                     "    handle(42);\n"
                     "  }\n"
                     "}\n"));
  Run r = run_wrapped(dir, rx, {*java, "-cp", ".", "Main"}, {*javac, "-g", "Main.java"});
  CHECK(r.result.exit_code() == 1);
  CHECK(r.result.out == "serving\n");
  CHECK(r.result.err.find("Exception in thread \"main\" java.lang.IllegalStateException: request 42 failed\n") == 0);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "java");
  REQUIRE(values(e).size() == 2);
  CHECK(values(e)[0]["type"] == "IOException");
  CHECK(values(e)[0]["module"] == "java.io");
  CHECK(values(e)[0]["value"] == "connection reset while reading row 42");
  CHECK(top_frame(values(e)[0])["module"] == "Main$Repository");
  CHECK(top_frame(values(e)[0])["function"] == "load");
  CHECK(top_frame(values(e)[0])["lineno"] == 4);
  // "... 1 more" stands for main(), copied from the enclosing trace
  CHECK(values(e)[0]["stacktrace"]["frames"][0]["function"] == "main");
  CHECK(values(e)[1]["type"] == "IllegalStateException");
  CHECK(values(e)[1]["module"] == "java.lang");
  CHECK(values(e)[1]["mechanism"]["type"] == "UncaughtExceptionHandler");
  CHECK(values(e)[1]["mechanism"]["handled"] == false);
  CHECK(top_frame(values(e)[1])["function"] == "handle");
  CHECK(top_frame(values(e)[1])["filename"] == "Main.java");
  CHECK(top_frame(values(e)[1])["lineno"] == 9);
  CHECK(top_frame(values(e)[1])["in_app"] == true);
  REQUIRE(e["threads"]["values"].size() == 1);
  CHECK(e["threads"]["values"][0]["name"] == "main");
  CHECK(e["threads"]["values"][0]["crashed"] == true);
}

TEST_CASE("java: an exception that kills a worker thread only is a handled error", "[runtime][java][integration]") {
  REQUIRE_RUNTIME(javac, "javac");
  REQUIRE_RUNTIME(java, "java");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("Main.java"),
                     "public class Main {\n"
                     "  public static void main(String[] args) throws Exception {\n"
                     "    Thread t = new Thread(() -> Integer.parseInt(\"three\"), \"worker-1\");\n"
                     "    t.start();\n"
                     "    t.join();\n"
                     "    System.out.println(\"main: done\");\n"
                     "  }\n"
                     "}\n"));
  Run r = run_wrapped(dir, rx, {*java, "-cp", ".", "Main"}, {*javac, "-g", "Main.java"});
  CHECK(r.result.exit_code() == 0);
  CHECK(r.result.out == "main: done\n");
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "error");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "NumberFormatException");
  CHECK(values(e)[0]["value"] == "For input string: \"three\"");
  CHECK(values(e)[0]["mechanism"]["handled"] == true);
  CHECK(top_frame(values(e)[0])["module"] == "java.lang.NumberFormatException");
  CHECK(top_frame(values(e)[0])["in_app"] == false);
  CHECK(e["threads"]["values"][0]["name"] == "worker-1");
}

TEST_CASE("java: a JVM crash is typed by its signal and carries the hs_err file", "[runtime][java][integration]") {
  REQUIRE_RUNTIME(javac, "javac");
  REQUIRE_RUNTIME(java, "java");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("Main.java"),
                     "import java.lang.reflect.Field;\n"
                     "public class Main {\n"
                     "  public static void main(String[] args) throws Exception {\n"
                     "    Field f = sun.misc.Unsafe.class.getDeclaredField(\"theUnsafe\");\n"
                     "    f.setAccessible(true);\n"
                     "    ((sun.misc.Unsafe) f.get(null)).putAddress(0, 42);\n"
                     "  }\n"
                     "}\n"));
  Run r = run_wrapped(dir, rx, {*java, "-XX:-CreateCoredumpOnCrash", "-cp", ".", "Main"},
                      {*javac, "-g", "-XDignore.symbol.file", "Main.java"});
  // Without a core dump to write HotSpot ends with exit 1 instead of abort().
  CHECK(r.result.exit_code() == 1);
  CHECK(r.result.out.find("# A fatal error has been detected by the Java Runtime Environment:") != std::string::npos);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "SIGSEGV");
  CHECK(values(e)[0]["value"].get<std::string>().find("SIGSEGV (0xb) at pc=") == 0);
  CHECK(top_frame(values(e)[0])["package"] == "libjvm.so");
  bool hs_err = false;
  for (const auto& env : r.envelopes)
    for (const auto& item : env.parsed.items)
      if (item.type() == "attachment" && item.header.value("filename", "").find("hs_err_pid") == 0)
        hs_err = item.payload.find("S U M M A R Y") != std::string::npos;
  CHECK(hs_err);
}

TEST_CASE("mono: an unhandled exception printed twice is one event, inner exceptions first",
          "[runtime][dotnet][integration]") {
  REQUIRE_RUNTIME(mcs, "mcs");
  REQUIRE_RUNTIME(mono, "mono");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("Program.cs"),
                     "using System;\n"
                     "namespace Shop {\n"
                     "  class Cart {\n"
                     "    public static void Checkout(int n) {\n"
                     "      try { if (n == 0) throw new InvalidOperationException(\"cart is empty\"); }\n"
                     "      catch (Exception e) { throw new ApplicationException(\"checkout failed\", e); }\n"
                     "    }\n"
                     "  }\n"
                     "  class Program {\n"
                     "    static void Main() { Console.WriteLine(\"checkout\"); Cart.Checkout(0); }\n"
                     "  }\n"
                     "}\n"));
  Run r = run_wrapped(dir, rx, {*mono, "--debug", "Program.exe"}, {*mcs, "-debug", "-out:Program.exe", "Program.cs"});
  CHECK(r.result.exit_code() == 1);
  CHECK(r.result.out == "checkout\n");
  CHECK(r.result.err.find("[ERROR] FATAL UNHANDLED EXCEPTION: ") != std::string::npos);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "csharp");
  REQUIRE(values(e).size() == 2);
  CHECK(values(e)[0]["type"] == "System.InvalidOperationException");
  CHECK(values(e)[0]["value"] == "cart is empty");
  CHECK(top_frame(values(e)[0])["module"] == "Shop.Cart");
  CHECK(top_frame(values(e)[0])["function"] == "Checkout");
  CHECK(top_frame(values(e)[0])["lineno"] == 5);
  CHECK(values(e)[1]["type"] == "System.ApplicationException");
  CHECK(values(e)[1]["mechanism"]["type"] == "AppDomain.UnhandledException");
  CHECK(top_frame(values(e)[1])["lineno"] == 6);
  CHECK(top_frame(values(e)[1])["abs_path"] == dir.file("Program.cs"));
}

TEST_CASE("node: an uncaught error with a cause is one fatal event, cause first", "[runtime][node][integration]") {
  REQUIRE_RUNTIME(node, "node");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("main.js"),
                     "const fs = require('fs');\n"
                     "function readConfig(path) {\n"
                     "  try { return fs.readFileSync(path, 'utf8'); }\n"
                     "  catch (err) { throw new Error(`could not load ${path}`, { cause: err }); }\n"
                     "}\n"
                     "console.log('booting');\n"
                     "readConfig('/nonexistent/app.json');\n"));
  Run r = run_wrapped(dir, rx, {*node, "main.js"});
  CHECK(r.result.exit_code() == 1);
  CHECK(r.result.out == "booting\n");
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  CHECK(e["platform"] == "node");
  REQUIRE(values(e).size() == 2);
  CHECK(values(e)[0]["type"] == "Error");
  CHECK(values(e)[0]["value"] == "ENOENT: no such file or directory, open '/nonexistent/app.json'");
  CHECK(values(e)[1]["value"] == "could not load /nonexistent/app.json");
  CHECK(values(e)[1]["mechanism"]["type"] == "onuncaughtexception");
  const json& top = top_frame(values(e)[1]);
  CHECK(top["function"] == "readConfig");
  CHECK(top["lineno"] == 4);
  CHECK(top["abs_path"] == dir.file("main.js"));
  CHECK(top["in_app"] == true);
  // the frames Node abbreviated as "... N lines matching cause stack trace ..." are back
  CHECK(values(e)[1]["stacktrace"]["frames"].size() >= values(e)[0]["stacktrace"]["frames"].size() - 1);
}

TEST_CASE("node: a rejected promise with a non-error reason", "[runtime][node][integration]") {
  REQUIRE_RUNTIME(node, "node");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("main.js"), "Promise.reject('connection refused');\n"));
  Run r = run_wrapped(dir, rx, {*node, "main.js"});
  CHECK(r.result.exit_code() == 1);
  REQUIRE(r.events.size() == 1);
  REQUIRE(values(r.events[0]).size() == 1);
  const json& x = values(r.events[0])[0];
  CHECK(x["type"] == "UnhandledPromiseRejection");
  CHECK(x["value"].get<std::string>().find("\"connection refused\"") != std::string::npos);
  CHECK(x["mechanism"]["type"] == "onunhandledrejection");
}

TEST_CASE("node: errors logged by a program that exits 0 are handled errors", "[runtime][node][integration]") {
  REQUIRE_RUNTIME(node, "node");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("main.js"),
                     "for (const id of [1, 2]) {\n"
                     "  try { JSON.parse('{' + id); } catch (err) { console.error(err); }\n"
                     "}\n"
                     "console.log('done');\n"));
  Run r = run_wrapped(dir, rx, {*node, "main.js"});
  CHECK(r.result.exit_code() == 0);
  CHECK(r.result.out == "done\n");
  REQUIRE(r.events.size() == 2);
  for (const json& e : r.events) {
    CHECK(e["level"] == "error");
    CHECK(values(e)[0]["type"] == "SyntaxError");
    CHECK(values(e)[0]["mechanism"]["handled"] == true);
  }
}

TEST_CASE("node: running out of heap is a FatalError with V8's native stack", "[runtime][node][integration]") {
  REQUIRE_RUNTIME(node, "node");
  TempDir dir;
  Receiver rx;
  REQUIRE(write_file(dir.file("main.js"), "const a = []; for (;;) a.push({ n: a.length, s: 'x'.repeat(64) });\n"));
  Run r = run_wrapped(dir, rx, {*node, "--max-old-space-size=16", "main.js"});
  CHECK(r.result.term_signal() == SIGABRT);
  REQUIRE(r.events.size() == 1);
  const json& e = r.events[0];
  CHECK(e["level"] == "fatal");
  REQUIRE(values(e).size() == 1);
  CHECK(values(e)[0]["type"] == "FatalError");
  CHECK(values(e)[0]["value"].get<std::string>().find("JavaScript heap out of memory") != std::string::npos);
  CHECK(values(e)[0]["stacktrace"]["frames"].size() >= 5);
  CHECK(top_frame(values(e)[0])["instruction_addr"].get<std::string>().rfind("0x", 0) == 0);
}
