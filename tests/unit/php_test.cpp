// Targeted variants of PHP's fatal errors: a logging prefix, eval'd code,
// an empty message, what is not a crash.
#include <catch2/catch.hpp>

#include "parsers/detectors.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> feed(const std::vector<std::string>& lines) {
  auto d = make_php_detector();
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (const std::string& text : lines) {
    Line l;
    l.text = text;
    l.number = ++n;
    d->feed(l, out);
  }
  d->finish(out);
  return out;
}

}  // namespace

TEST_CASE("php: the error log's timestamp prefix and frames built like the SDK's", "[php]") {
  auto out = feed({
      "[23-Nov-2026 19:52:28 UTC] PHP Fatal error:  Uncaught Ns\\NotFound: no user 7 in /srv/src/Repo.php:40",
      "Stack trace:",
      "#0 /srv/src/Service.php(12): Ns\\Repo->find(7)",
      "#1 /srv/vendor/slim/App.php(88): Ns\\Service::load(7)",
      "#2 [internal function]: {closure}(Object(Request))",
      "#3 /srv/public/index.php(5): call_user_func(Object(Closure))",
      "#4 {main}",
      "  thrown in /srv/src/Repo.php on line 40",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "Ns\\NotFound");
  CHECK(e.value == std::optional<std::string>("no user 7"));
  const auto& f = e.stacktrace.frames;
  REQUIRE(f.size() == 5);
  CHECK(f[4].function == "Ns\\Repo::find");  // the throw site, newest last
  CHECK(f[4].abs_path == "/srv/src/Repo.php");
  CHECK(f[4].lineno == std::optional<std::uint32_t>(40));
  CHECK(f[3].function == "Ns\\Service::load");
  CHECK(f[3].lineno == std::optional<std::uint32_t>(12));
  CHECK(f[2].function == "{closure}");
  CHECK(f[2].abs_path == "/srv/vendor/slim/App.php");
  CHECK(f[2].in_app == std::optional<bool>(false));
  CHECK(f[1].function == "call_user_func");
  CHECK(f[1].filename == "[internal]");
  CHECK_FALSE(f[1].lineno.has_value());
  CHECK(f[1].in_app == std::optional<bool>(false));
  CHECK(f[0].function == "{main}");
  CHECK(f[0].abs_path == "/srv/public/index.php");
  CHECK(f[0].lineno == std::optional<std::uint32_t>(5));
}

TEST_CASE("php: eval'd code and an empty message", "[php]") {
  auto out = feed({
      "PHP Fatal error:  Uncaught Exception in /srv/a.php(7) : eval()'d code:1",
      "Stack trace:",
      "#0 /srv/a.php(7): eval()",
      "#1 {main}",
      "  thrown in /srv/a.php(7) : eval()'d code on line 1",
  });
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "Exception");
  CHECK_FALSE(e.value.has_value());
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames[1].abs_path == "/srv/a.php");  // the file and line that ran the eval
  CHECK(e.stacktrace.frames[1].lineno == std::optional<std::uint32_t>(7));
}

TEST_CASE("php: warnings, notices and deprecations are not crashes", "[php]") {
  CHECK(feed({"PHP Warning:  Undefined variable $x in /srv/a.php on line 3"}).empty());
  CHECK(feed({"PHP Notice:  Only variables should be passed by reference in /srv/a.php on line 9"}).empty());
  CHECK(feed({"Deprecated: Creation of dynamic property in /srv/a.php on line 4"}).empty());
  CHECK(feed({"Fatal error: this sentence has no location"}).empty());
}

TEST_CASE("php: a fatal error without an exception", "[php]") {
  auto out = feed({"PHP Fatal error:  Maximum execution time of 30 seconds exceeded in /srv/a.php on line 12"});
  REQUIRE(out.size() == 1);
  const auto& e = out[0].exceptions.at(0);
  CHECK(e.type == "ErrorException");
  CHECK(e.value == std::optional<std::string>("Fatal Error: Maximum execution time of 30 seconds exceeded"));
  REQUIRE(e.stacktrace.frames.size() == 1);
  CHECK(e.stacktrace.frames[0].lineno == std::optional<std::uint32_t>(12));
}

TEST_CASE("php: a Laravel log entry with a previous exception", "[php]") {
  auto out = feed({
      "[2026-11-23 19:52:28] production.ERROR: Charge failed {\"exception\":\"[object] "
      "(App\\\\Billing\\\\GatewayError(code: 3): Charge failed at /var/www/app/Billing/Client.php:41)",
      "[stacktrace]",
      "#0 /var/www/app/Http/Controllers/PayController.php(22): App\\\\Billing\\\\Client->charge(40)",
      "#1 /var/www/vendor/laravel/framework/src/Illuminate/Routing/Controller.php(54): "
      "App\\\\Http\\\\Controllers\\\\PayController->store(Object(Illuminate\\\\Http\\\\Request))",
      "#2 {main}",
      "[previous exception] [object] (RuntimeException(code: 0): socket closed at /var/www/app/Billing/Socket.php:9)",
      "[stacktrace]",
      "#0 /var/www/app/Billing/Client.php(37): App\\\\Billing\\\\Socket->send()",
      "#1 {main}",
      "\"} ",
  });
  REQUIRE(out.size() == 1);
  const auto& ex = out[0].exceptions;
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].type == "RuntimeException");  // the previous exception is the cause: first
  CHECK(ex[0].value == std::optional<std::string>("socket closed"));
  CHECK(ex[1].type == "App\\Billing\\GatewayError");
  CHECK(ex[1].value == std::optional<std::string>("Charge failed"));
  REQUIRE(ex[1].stacktrace.frames.size() == 3);
  CHECK(ex[1].stacktrace.frames[2].function == "App\\Billing\\Client::charge");
  CHECK(ex[1].stacktrace.frames[2].abs_path == "/var/www/app/Billing/Client.php");
  CHECK(ex[1].stacktrace.frames[2].lineno == std::optional<std::uint32_t>(41));
  CHECK(ex[1].stacktrace.frames[1].function == "App\\Http\\Controllers\\PayController::store");
  CHECK(ex[1].stacktrace.frames[1].lineno == std::optional<std::uint32_t>(22));
  REQUIRE(ex[0].stacktrace.frames.size() == 2);
  CHECK(ex[0].stacktrace.frames[1].function == "App\\Billing\\Socket::send");
  CHECK(ex[0].stacktrace.frames[1].lineno == std::optional<std::uint32_t>(9));
}
