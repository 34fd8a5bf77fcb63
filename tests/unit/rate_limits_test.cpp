#include <catch2/catch.hpp>

#include "sinks/rate_limits.h"

using namespace crashwrap::sinks;
using namespace std::chrono_literals;

namespace {
const Timestamp t0 = Timestamp(std::chrono::seconds(1'700'000'000));
}

TEST_CASE("X-Sentry-Rate-Limits limits the named category only", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "60:error", t0);
  CHECK(r.limited_until("error", t0) == t0 + 60s);
  CHECK(r.is_limited("error", t0));
  CHECK(r.is_limited("error", t0 + 59s));
  CHECK_FALSE(r.is_limited("error", t0 + 60s));
  CHECK_FALSE(r.is_limited("session", t0));
  CHECK_FALSE(r.is_limited("attachment", t0 + 1s));
}

TEST_CASE("several entries, several categories, scope, reason and namespaces", "[rate_limits]") {
  RateLimits r;
  r.update(200, "", "120:error;attachment:organization:usage_exceeded, 5:session:project, 30:metric_bucket:organization:quota:custom", t0);
  CHECK(r.limited_until("error", t0) == t0 + 120s);
  CHECK(r.limited_until("attachment", t0) == t0 + 120s);
  CHECK(r.limited_until("session", t0) == t0 + 5s);
  CHECK(r.limited_until("metric_bucket", t0) == t0 + 30s);
  CHECK_FALSE(r.is_limited("transaction", t0));
  CHECK(r.next_expiry(t0) == t0 + 5s);
  CHECK(r.next_expiry(t0 + 6s) == t0 + 30s);
}

TEST_CASE("empty categories limit everything", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "10::organization", t0);
  CHECK(r.is_limited("error", t0));
  CHECK(r.is_limited("monitor", t0 + 9s));
  CHECK_FALSE(r.is_limited("monitor", t0 + 10s));
}

TEST_CASE("a fractional retry_after rounds up to the millisecond", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "1.5:log_item", t0);
  CHECK(r.limited_until("log_item", t0) == t0 + 1500ms);
}

TEST_CASE("429 without the header uses Retry-After for every category", "[rate_limits]") {
  RateLimits r;
  r.update(429, "7", "", t0);
  CHECK(r.limited_until("error", t0) == t0 + 7s);
  CHECK(r.limited_until("session", t0) == t0 + 7s);

  RateLimits d;
  d.update(429, "", "", t0);
  CHECK(d.limited_until("error", t0) == t0 + 60s);

  RateLimits junk;
  junk.update(429, "soon", "", t0);
  CHECK(junk.limited_until("error", t0) == t0 + 60s);
}

TEST_CASE("Retry-After as an HTTP date", "[rate_limits]") {
  // 1700000000 = Tue, 14 Nov 2023 22:13:20 GMT
  auto d = parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", t0);
  REQUIRE(d);
  CHECK(*d == 30s);
  CHECK(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", t0) == 0ms);
  // The obsolete forms recipients must accept (RFC 9110 5.6.7).
  CHECK(parse_retry_after("Tuesday, 14-Nov-23 22:13:50 GMT", t0) == std::optional<std::chrono::milliseconds>(30s));
  CHECK(parse_retry_after("Tue Nov 14 22:14:20 2023", t0) == std::optional<std::chrono::milliseconds>(60s));
  CHECK_FALSE(parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT trailing", t0));
  CHECK_FALSE(parse_retry_after("", t0));
  CHECK_FALSE(parse_retry_after("-5", t0));
}

TEST_CASE("a 2xx or 5xx without headers changes nothing", "[rate_limits]") {
  RateLimits r;
  r.update(200, "30", "", t0);
  r.update(503, "30", "", t0);
  CHECK(r.empty(t0));
}

TEST_CASE("a shorter limit never shortens a longer one", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "60:error", t0);
  r.update(429, "", "5:error", t0 + 1s);
  CHECK(r.limited_until("error", t0 + 1s) == t0 + 60s);
  r.update(429, "", "100:error", t0 + 2s);
  CHECK(r.limited_until("error", t0 + 2s) == t0 + 102s);
}

TEST_CASE("an unreadable entry is skipped, the others apply", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "abc:error, 20:session, ,-3:attachment", t0);
  CHECK_FALSE(r.is_limited("error", t0));
  CHECK(r.is_limited("session", t0));
  CHECK_FALSE(r.is_limited("attachment", t0));
}

TEST_CASE("a clock that jumps backwards does not stretch a limit", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "60:error", t0);
  Timestamp back = t0 - std::chrono::hours(24);
  CHECK(r.limited_until("error", back) == back + 60s);
  CHECK_FALSE(r.is_limited("error", back + 61s));
}

TEST_CASE("limits survive serialize/parse (restart)", "[rate_limits]") {
  RateLimits r;
  r.update(429, "", "60:error;attachment, 30::organization", t0);
  std::string text = r.serialize();
  CHECK(text == "* 1700000030000 30000\nattachment 1700000060000 60000\nerror 1700000060000 60000\n");
  RateLimits back = RateLimits::parse(text + "garbage line\n\nx y z\n");
  CHECK(back.serialize() == text);
  CHECK(back.limited_until("error", t0 + 10s) == t0 + 60s);
  CHECK(back.limited_until("monitor", t0 + 10s) == t0 + 30s);
  CHECK(back.empty(t0 + 60s));
}

TEST_CASE("item types map to Sentry data categories", "[rate_limits]") {
  CHECK(item_category("event") == "error");
  CHECK(item_category("attachment") == "attachment");
  CHECK(item_category("session") == "session");
  CHECK(item_category("sessions") == "session");
  CHECK(item_category("check_in") == "monitor");
  CHECK(item_category("log") == "log_item");
  CHECK(item_category("client_report") == "internal");
  CHECK(item_category("transaction") == "transaction");
}

TEST_CASE("merge keeps the later end of each limit", "[rate_limits]") {
  RateLimits a, b;
  a.update(429, "", "60:error, 5:session", t0);
  b.update(429, "", "10:error, 30:session, 20:attachment", t0);
  a.merge(b);
  CHECK(a.limited_until("error", t0) == t0 + 60s);
  CHECK(a.limited_until("session", t0) == t0 + 30s);
  CHECK(a.limited_until("attachment", t0) == t0 + 20s);
}
