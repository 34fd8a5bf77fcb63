#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kDotnet = {"dotnet"};
}  // namespace

TEST_CASE("dotnet corpus cases, all detectors on", "[dotnet][corpus]") {
  for (const std::string& c : crashwrap::test::cases_of("dotnet")) {
    SECTION(c) { check_case(c, {}); }
  }
}

namespace {
std::optional<std::string> str(const char* s) { return std::string(s); }
}  // namespace

TEST_CASE(".NET Core: unhandled exception with an inner exception and async boundaries", "[dotnet]") {
  auto out = feed(kDotnet,
                  "Unhandled exception. System.Net.Http.HttpRequestException: Connection refused (localhost:5000)\n"
                  " ---> System.Net.Sockets.SocketException (111): Connection refused\n"
                  "   at System.Net.Sockets.Socket.AwaitableSocketAsyncEventArgs.ThrowException(SocketError error, CancellationToken cancellationToken)\n"
                  "   at System.Net.Http.HttpConnectionPool.ConnectToTcpHostAsync(String host, Int32 port, HttpRequestMessage initialRequest, Boolean async, CancellationToken cancellationToken)\n"
                  "   --- End of inner exception stack trace ---\n"
                  "   at System.Net.Http.HttpConnectionPool.ConnectToTcpHostAsync(String host, Int32 port, HttpRequestMessage initialRequest, Boolean async, CancellationToken cancellationToken)\n"
                  "--- End of stack trace from previous location ---\n"
                  "   at Shop.Client.FetchAsync() in /src/Shop/Client.cs:line 12\n"
                  "   at Shop.Program.Main(String[] args) in /src/Shop/Program.cs:line 8\n"
                  "   at Shop.Program.<Main>(String[] args)\n");
  REQUIRE(out.size() == 1);
  const auto& r = out[0];
  CHECK(r.platform == "csharp");
  REQUIRE(r.exceptions.size() == 2);
  CHECK(r.exceptions[0].type == "System.Net.Sockets.SocketException");
  CHECK(r.exceptions[0].value == str("Connection refused"));
  CHECK(r.exceptions[0].stacktrace.frames.size() == 2);
  CHECK(r.exceptions[0].mechanism.source == "InnerException");
  const auto& outer = r.exceptions[1];
  CHECK(outer.type == "System.Net.Http.HttpRequestException");
  CHECK(outer.mechanism.type == "AppDomain.UnhandledException");
  REQUIRE(outer.stacktrace.frames.size() == 4);
  const Frame& top = outer.stacktrace.frames.back();
  CHECK(top.module == "System.Net.Http.HttpConnectionPool");
  CHECK(top.in_app == std::optional<bool>(false));
  const Frame& app = outer.stacktrace.frames[2];
  CHECK(app.module == "Shop.Client");
  CHECK(app.function == "FetchAsync");
  CHECK(app.abs_path == "/src/Shop/Client.cs");
  CHECK(app.lineno == std::optional<std::uint32_t>(12));
  CHECK(app.in_app == std::optional<bool>(true));
}

TEST_CASE(".NET Core: FileNotFoundException's extra line, generic methods, constructors", "[dotnet]") {
  auto out = feed(kDotnet,
                  "Unhandled exception. System.IO.FileNotFoundException: Could not find file '/x/catalog.json'.\n"
                  "File name: '/x/catalog.json'\n"
                  "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)\n"
                  "   at Shop.Catalog..ctor(String path) in /src/Catalog.cs:line 9\n");
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.back();
  CHECK(e.value == str("Could not find file '/x/catalog.json'.\nFile name: '/x/catalog.json'"));
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames[0].module == "Shop.Catalog");
  CHECK(e.stacktrace.frames[0].function == ".ctor");
  CHECK(e.stacktrace.frames[1].module == "System.Linq.Enumerable");
  CHECK(e.stacktrace.frames[1].function == "First[TSource]");
}

TEST_CASE(".NET: a trace logged by ASP.NET Core's console logger", "[dotnet]") {
  auto out = feed(kDotnet,
                  "fail: Microsoft.AspNetCore.Server.Kestrel[13]\n"
                  "      Connection id \"0HM\", Request id \"0HM:00000001\": An unhandled exception was thrown by the application.\n"
                  "      System.InvalidOperationException: cart is empty\n"
                  "         at Shop.Api.CartController.Checkout() in /src/Api/CartController.cs:line 31\n"
                  "         at lambda_method1(Closure , Object , Object[] )\n"
                  "info: Microsoft.Hosting.Lifetime[0]\n");
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.back();
  CHECK(e.type == "System.InvalidOperationException");
  CHECK(e.mechanism.type == "generic");
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames.back().function == "Checkout");
  CHECK(e.stacktrace.frames.front().function == "lambda_method1");
}

TEST_CASE(".NET Core: stack overflow with repeated frames", "[dotnet]") {
  auto out = feed(kDotnet,
                  "Stack overflow.\n"
                  "Repeat 24033 times:\n"
                  "--------------------------------\n"
                  "   at Shop.Tree.Depth()\n"
                  "--------------------------------\n"
                  "   at Shop.Program.Main(System.String[])\n");
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.back();
  CHECK(e.type == "System.StackOverflowException");
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames.back().function == "Depth");
}

TEST_CASE(".NET: lookalikes are not reports", "[dotnet]") {
  CHECK(feed(kDotnet, "System.InvalidOperationException: logged without a stack\nnext\n").empty());
  CHECK(feed(kDotnet, "java.lang.IllegalStateException: boom\n\tat Main.main(Main.java:3)\n").empty());
  CHECK(feed(kDotnet, "Error: boom\n    at fn (/app/main.js:1:2)\n    at Array.map (<anonymous>)\n").empty());
}

TEST_CASE(".NET: Mono's two prints make one report, back to back runs two", "[dotnet]") {
  std::string mono =
      "\nUnhandled Exception:\nSystem.Exception: boom\n  at Shop.P.Main () [0x00001] in /src/P.cs:3 \n"
      "[ERROR] FATAL UNHANDLED EXCEPTION: System.Exception: boom\n  at Shop.P.Main () [0x00001] in /src/P.cs:3 \n";
  auto out = feed(kDotnet, mono);
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.size() == 1);
  CHECK(feed(kDotnet, mono + mono).size() == 2);
}

TEST_CASE(".NET: a line of other output between frames is skipped", "[dotnet]") {
  auto out = feed(kDotnet,
                  "System.InvalidOperationException: boom\n"
                  "   at Shop.A.Run() in /src/A.cs:line 1\n"
                  "info: heartbeat\n"
                  "   at Shop.Program.Main() in /src/Program.cs:line 2\n"
                  "next\n");
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions[0].stacktrace.frames.size() == 2);
}
