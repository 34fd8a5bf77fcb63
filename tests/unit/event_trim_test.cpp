#include <catch2/catch.hpp>

#include "sinks/event_trim.h"

using namespace crashwrap::sinks;
using nlohmann::json;

namespace {

json frames(int n, int width = 10) {
  json f = json::array();
  for (int i = 0; i < n; ++i) f.push_back({{"function", "f" + std::to_string(i) + std::string(width, 'x')}});
  return f;
}

json crumbs(int n, std::size_t width) {
  json v = json::array();
  for (int i = 0; i < n; ++i) v.push_back({{"message", std::to_string(i) + std::string(width, 'm')}});
  return {{"values", v}};
}

}  // namespace

TEST_CASE("UTF-8 validation and repair", "[event_trim]") {
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5"));
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  CHECK(valid_utf8("a\xffz") == "a\xef\xbf\xbdz");
  CHECK(valid_utf8("\xe2\x82") == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(valid_utf8("ok \xc3\xa9") == "ok \xc3\xa9");
}

TEST_CASE("make_valid_utf8 fixes values and keys", "[event_trim]") {
  json j = {{"a\xff", {"x\xfe", 1}}, {"b", "\xc3"}};
  make_valid_utf8(j);
  REQUIRE_NOTHROW(j.dump());
  CHECK(j == json{{"a\xef\xbf\xbd", {"x\xef\xbf\xbd", 1}}, {"b", "\xef\xbf\xbd"}});
}

TEST_CASE("truncate_utf8 cuts at a character boundary", "[event_trim]") {
  CHECK(truncate_utf8("short", 10) == "short");
  CHECK(truncate_utf8("abcdefghij", 6) == "abc\xe2\x80\xa6");
  // "é" is two bytes: never cut inside it.
  std::string t = truncate_utf8("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 6);
  CHECK(t == "\xc3\xa9\xe2\x80\xa6");
  CHECK(is_valid_utf8(t));
  CHECK(truncate_utf8("abcdef", 2) == "");
}

TEST_CASE("a small event is untouched", "[event_trim]") {
  json e = {{"event_id", "x"}, {"breadcrumbs", crumbs(3, 10)}};
  json before = e;
  auto r = trim_event(e, 1000);
  CHECK(e == before);
  CHECK_FALSE(r.trimmed());
  CHECK(r.fits);
  CHECK(r.bytes_before == json_size(before));
}

TEST_CASE("breadcrumbs go first, oldest first", "[event_trim]") {
  json e = {{"event_id", "x"}, {"breadcrumbs", crumbs(100, 100)}, {"exception", {{"values", {{{"type", "E"}}}}}}};
  auto r = trim_event(e, 4000);
  CHECK(r.fits);
  CHECK(r.bytes_after <= 4000);
  CHECK(json_size(e) == r.bytes_after);
  REQUIRE(e.contains("breadcrumbs"));
  std::size_t left = e["breadcrumbs"]["values"].size();
  CHECK(r.breadcrumbs_removed == 100 - left);
  CHECK(e["breadcrumbs"]["values"].back()["message"].get<std::string>().substr(0, 2) == "99");
  CHECK(r.frames_removed == 0);
  CHECK(r.strings_truncated == 0);
  CHECK(e["extra"]["crashwrap.trimmed"] == json{{"bytes_before", r.bytes_before}, {"breadcrumbs_removed", r.breadcrumbs_removed},
                                                 {"frames_removed", 0}, {"threads_removed", 0}, {"strings_truncated", 0}});
}

TEST_CASE("then the middle of very long stacks", "[event_trim]") {
  json e = {{"exception", {{"values", {{{"type", "RecursionError"}, {"stacktrace", {{"frames", frames(1000)}}}}}}}}};
  auto r = trim_event(e, 20000);
  CHECK(r.fits);
  const json& f = e["exception"]["values"][0]["stacktrace"]["frames"];
  REQUIRE(f.size() == 250);
  CHECK(f[0]["function"].get<std::string>().rfind("f0x", 0) == 0);    // oldest kept
  CHECK(f[49]["function"].get<std::string>().rfind("f49x", 0) == 0);
  CHECK(f[50]["function"].get<std::string>().rfind("f800x", 0) == 0);  // newest kept
  CHECK(f[249]["function"].get<std::string>().rfind("f999x", 0) == 0);
  CHECK(r.frames_removed == 750);
  CHECK(r.strings_truncated == 0);
}

TEST_CASE("then stacks of threads that did not crash", "[event_trim]") {
  json threads = json::array();
  for (int t = 0; t < 50; ++t)
    threads.push_back({{"id", std::to_string(t)}, {"crashed", t == 0}, {"stacktrace", {{"frames", frames(20, 50)}}}});
  json e = {{"threads", {{"values", threads}}}};
  auto r = trim_event(e, 20000);
  CHECK(r.fits);
  CHECK(e["threads"]["values"][0]["stacktrace"]["frames"].size() == 20);
  CHECK(r.threads_removed > 0);
  CHECK(e["threads"]["values"].size() == 50);  // the threads stay, only their stacks go
  CHECK_FALSE(e["threads"]["values"][49].contains("stacktrace"));
}

TEST_CASE("then long strings", "[event_trim]") {
  json e = {{"exception", {{"values", {{{"type", "E"}, {"value", std::string(200000, 'v')}}}}}}};
  auto r = trim_event(e, 20000);
  CHECK(r.fits);
  CHECK(r.strings_truncated == 1);
  std::string v = e["exception"]["values"][0]["value"];
  CHECK(v.size() == 16384);
  CHECK(v.substr(v.size() - 3) == "\xe2\x80\xa6");
}

TEST_CASE("an event that cannot fit says so", "[event_trim]") {
  json e = json::object();
  for (int i = 0; i < 2000; ++i) e["extra"]["k" + std::to_string(i)] = i;
  auto r = trim_event(e, 1000);
  CHECK_FALSE(r.fits);
  CHECK(r.bytes_after > 1000);
}
