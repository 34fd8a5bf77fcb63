#include "sinks/log_batcher.h"

#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sinks/envelope.h"

using namespace crashwrap;
using namespace crashwrap::sinks;
using crashwrap::parsers::Line;
using crashwrap::parsers::Stream;
using crashwrap::parsers::Timestamp;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::seconds(1795420800) + 250ms};

struct Saved {
  std::vector<std::string> envelopes;
  std::vector<std::size_t> counts;
  std::vector<std::pair<std::string, std::uint64_t>> discards;
  bool accept = true;
};

LogBatcherOptions options() {
  LogBatcherOptions o;
  o.release = "app@1.2.3";
  o.environment = "production";
  o.server_name = "web-1";
  o.pid = 4242;
  o.seed = 7;
  return o;
}

LogBatcher batcher(Saved& s, LogBatcherOptions o = options(), LogBatcher::Scrub scrub = {}) {
  return LogBatcher(
      std::move(o),
      [&s](std::string_view env, std::size_t n) {
        s.envelopes.emplace_back(env);
        s.counts.push_back(n);
        return s.accept;
      },
      [&s](std::string_view reason, std::uint64_t n) { s.discards.emplace_back(std::string(reason), n); },
      std::move(scrub));
}

void add(LogBatcher& b, std::string_view text, Stream stream = Stream::Stdout, Timestamp t = kT0) {
  Line line;
  line.stream = stream;
  line.time = t;
  line.text = text;
  b.add(line);
}

// The log item of a saved envelope: checks the framing and the item header.
Json logs_of(const std::string& envelope) {
  std::string error;
  auto parsed = parse_envelope(envelope, error);
  INFO(error);
  REQUIRE(parsed);
  CHECK_FALSE(parsed->header.contains("event_id"));
  CHECK(parsed->header["sdk"]["name"] == "crashwrap");
  REQUIRE(parsed->items.size() == 1);
  const ParsedItem& item = parsed->items[0];
  CHECK(item.type() == "log");
  CHECK(item.header["content_type"] == "application/vnd.sentry.items.log+json");
  Json payload = Json::parse(item.payload);  // throws on invalid JSON: the test fails
  REQUIRE(payload["items"].is_array());
  CHECK(item.header["item_count"] == payload["items"].size());
  return payload["items"];
}

std::uint64_t discarded(const Saved& s, std::string_view reason) {
  std::uint64_t n = 0;
  for (const auto& [r, q] : s.discards)
    if (r == reason) n += q;
  return n;
}

}  // namespace

TEST_CASE("a batch becomes one log envelope with Sentry's log fields", "[log_batcher]") {
  Saved s;
  LogBatcher b = batcher(s);
  add(b, R"({"level":"error","msg":"payment failed","order":17,"amount":9.5,"retry":true})", Stream::Stderr);
  add(b, "WARN: cache is cold", Stream::Stdout, kT0 + 1500ms);
  add(b, "plain line on stderr", Stream::Stderr);
  CHECK(s.envelopes.empty());
  CHECK(b.batched() == 3);
  b.flush(kT0 + 2s);
  REQUIRE(s.envelopes.size() == 1);
  CHECK(s.counts[0] == 3);
  Json logs = logs_of(s.envelopes[0]);
  REQUIRE(logs.size() == 3);

  const Json& e = logs[0];
  CHECK(e["timestamp"].get<double>() == Approx(1795420800.25));
  CHECK(std::regex_match(e["trace_id"].get<std::string>(), std::regex("[0-9a-f]{32}")));
  CHECK(e["level"] == "error");
  CHECK(e["severity_number"] == 17);
  CHECK(e["body"] == "payment failed");
  const Json& a = e["attributes"];
  CHECK(a["order"] == Json({{"value", 17}, {"type", "integer"}}));
  CHECK(a["amount"] == Json({{"value", 9.5}, {"type", "double"}}));
  CHECK(a["retry"] == Json({{"value", true}, {"type", "boolean"}}));
  CHECK(a["log.iostream"] == Json({{"value", "stderr"}, {"type", "string"}}));
  CHECK(a["process.pid"] == Json({{"value", 4242}, {"type", "integer"}}));
  CHECK(a["server.address"]["value"] == "web-1");
  CHECK(a["sentry.release"]["value"] == "app@1.2.3");
  CHECK(a["sentry.environment"]["value"] == "production");
  CHECK(a["sentry.sdk.name"]["value"] == "crashwrap");
  CHECK(a["sentry.sdk.version"]["value"] == CRASHWRAP_VERSION);
  CHECK(a["sentry.origin"]["value"] == "auto.log.crashwrap");
  CHECK_FALSE(a.contains("level"));
  CHECK_FALSE(a.contains("msg"));

  CHECK(logs[1]["level"] == "warn");
  CHECK(logs[1]["severity_number"] == 13);
  CHECK(logs[1]["body"] == "WARN: cache is cold");
  CHECK(logs[1]["timestamp"].get<double>() == Approx(1795420801.75));
  CHECK(logs[1]["attributes"]["log.iostream"]["value"] == "stdout");
  // stderr alone is not an error.
  CHECK(logs[2]["level"] == "info");
  CHECK(logs[2]["severity_number"] == 9);
  // One trace for the run.
  CHECK(logs[1]["trace_id"] == e["trace_id"]);
  CHECK(b.stats().kept == 3);
  CHECK(b.stats().envelopes == 1);
}

TEST_CASE("unset release and environment are left out, not sent empty", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.release.clear();
  o.environment.clear();
  LogBatcher b = batcher(s, o);
  add(b, "x");
  b.flush(kT0);
  Json a = logs_of(s.envelopes.at(0))[0]["attributes"];
  CHECK_FALSE(a.contains("sentry.release"));
  CHECK_FALSE(a.contains("sentry.environment"));
}

TEST_CASE("batches hold at most max_items logs", "[log_batcher]") {
  Saved s;
  LogBatcher b = batcher(s);
  for (int i = 0; i < 250; ++i) add(b, "line " + std::to_string(i));
  REQUIRE(s.envelopes.size() == 2);
  CHECK(s.counts == std::vector<std::size_t>{100, 100});
  b.flush(kT0);
  REQUIRE(s.envelopes.size() == 3);
  CHECK(s.counts[2] == 50);
  CHECK(logs_of(s.envelopes[0]).size() == 100);
  CHECK(logs_of(s.envelopes[2])[49]["body"] == "line 249");
  b.flush(kT0);  // nothing left: no empty envelope
  CHECK(s.envelopes.size() == 3);
}

TEST_CASE("batches stay under max_payload_bytes", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.max_payload_bytes = 4096;
  LogBatcher b = batcher(s, o);
  const std::string long_line(1000, 'x');
  for (int i = 0; i < 20; ++i) add(b, long_line);
  b.flush(kT0);
  REQUIRE(s.envelopes.size() > 1);
  std::size_t total = 0;
  for (const auto& env : s.envelopes) {
    Json logs = logs_of(env);
    total += logs.size();
    CHECK(logs.size() <= 4);  // 4 KiB of payload, then a flush
  }
  CHECK(total == 20);
}

TEST_CASE("tick flushes a batch once its oldest log has waited flush_interval", "[log_batcher]") {
  Saved s;
  LogBatcher b = batcher(s);
  add(b, "first");
  b.tick(kT0 + 999ms);
  CHECK(s.envelopes.empty());
  add(b, "second", Stream::Stdout, kT0 + 999ms);
  b.tick(kT0 + 1s);
  REQUIRE(s.envelopes.size() == 1);
  CHECK(s.counts[0] == 2);
  b.tick(kT0 + 5s);
  CHECK(s.envelopes.size() == 1);
  // A clock that went back flushes rather than waiting forever.
  add(b, "third", Stream::Stdout, kT0 + 10s);
  b.tick(kT0);
  CHECK(s.envelopes.size() == 2);
}

TEST_CASE("min level: lower lines are ignored, not counted as drops", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.min_level = parsers::LogLevel::Warn;
  LogBatcher b = batcher(s, o);
  add(b, "DEBUG noise");
  add(b, "INFO noise");
  add(b, "plain");
  add(b, "WARN kept");
  add(b, R"({"level":"fatal","msg":"kept too"})");
  b.flush(kT0);
  Json logs = logs_of(s.envelopes.at(0));
  REQUIRE(logs.size() == 2);
  CHECK(logs[0]["body"] == "WARN kept");
  CHECK(logs[1]["level"] == "fatal");
  CHECK(b.stats().below_level == 3);
  CHECK(s.discards.empty());
}

TEST_CASE("sample rate: info and below are sampled, warn and above always kept", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.min_level = parsers::LogLevel::Trace;
  o.sample_rate = 0.0;
  LogBatcher b = batcher(s, o);
  for (int i = 0; i < 10; ++i) add(b, "info line");
  add(b, "DEBUG line");
  add(b, "ERROR line");
  add(b, "WARN line");
  b.flush(kT0);
  Json logs = logs_of(s.envelopes.at(0));
  REQUIRE(logs.size() == 2);
  CHECK(discarded(s, "sample_rate") == 11);

  Saved half;
  o.sample_rate = 0.5;
  LogBatcher h = batcher(half, o);
  for (int i = 0; i < 1000; ++i) add(h, "info line");
  h.flush(kT0);
  const auto kept = h.stats().kept;
  CHECK(kept > 400);
  CHECK(kept < 600);
  CHECK(discarded(half, "sample_rate") == 1000 - kept);
}

TEST_CASE("byte budget per minute: lines over it are dropped and counted", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.budget_bytes_per_minute = 4000;
  LogBatcher b = batcher(s, o);
  int warned = 0;
  b.on_budget_exceeded([&] { ++warned; });
  for (int i = 0; i < 100; ++i) add(b, "ERROR line " + std::to_string(i));
  const auto kept = b.stats().kept;
  CHECK(kept > 0);
  CHECK(kept < 20);  // each log is a few hundred bytes with its attributes
  CHECK(b.stats().over_budget == 100 - kept);
  CHECK(warned == 1);
  // Drops are reported at most once a second, and all of them on flush.
  b.tick(kT0 + 100ms);
  CHECK(discarded(s, "ratelimit_backoff") == 100 - kept);
  add(b, "ERROR over", Stream::Stdout, kT0 + 200ms);
  b.tick(kT0 + 300ms);
  CHECK(discarded(s, "ratelimit_backoff") == 100 - kept);
  b.flush(kT0 + 400ms);
  CHECK(discarded(s, "ratelimit_backoff") == 101 - kept);
  // The next minute has a fresh budget.
  add(b, "ERROR next minute", Stream::Stdout, kT0 + 61s);
  CHECK(b.stats().kept == kept + 1);
  CHECK(warned == 1);
}

TEST_CASE("budget 0 means no budget", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.budget_bytes_per_minute = 0;
  LogBatcher b = batcher(s, o);
  for (int i = 0; i < 20000; ++i) add(b, "a line of some length to fill the budget quickly");
  b.flush(kT0);
  CHECK(b.stats().kept == 20000);
  CHECK(b.stats().over_budget == 0);
}

TEST_CASE("any bytes become valid JSON text", "[log_batcher]") {
  Saved s;
  LogBatcher b = batcher(s);
  add(b, std::string("bad \xff\xfe utf8 \xc3\xa9 \"q\" \\ tab\there \x01 end"));
  add(b, std::string("truncated \xe2\x82"));
  add(b, std::string("surrogate \xed\xa0\x80 overlong \xc0\xaf"));
  add(b, R"(key="with \"quote\"" level=info msg="m")");
  b.flush(kT0);
  Json logs = logs_of(s.envelopes.at(0));
  CHECK(logs[0]["body"] == "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xc3\xa9 \"q\" \\ tab\there \x01 end");
  CHECK(logs[1]["body"] == "truncated \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(logs[2]["body"] == "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd overlong \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(logs[3]["attributes"]["key"]["value"] == "with \"quote\"");
}

TEST_CASE("a line's own fields never shadow crashwrap's attributes", "[log_batcher]") {
  Saved s;
  LogBatcher b = batcher(s);
  add(b, R"({"msg":"m","sentry.release":"fake","process.pid":1,"server.address":"x","log.iostream":"y","sentry":{"sdk":{"name":"z"}}})");
  b.flush(kT0);
  const std::string& env = s.envelopes.at(0);
  Json a = logs_of(env)[0]["attributes"];
  CHECK(a["sentry.release"]["value"] == "app@1.2.3");
  CHECK(a["process.pid"]["value"] == 4242);
  CHECK(a["server.address"]["value"] == "web-1");
  CHECK(a["log.iostream"]["value"] == "stdout");
  CHECK(a["sentry.sdk.name"]["value"] == "crashwrap");
  // Each key once in the text (nlohmann would keep the last of duplicates).
  CHECK(env.find("\"sentry.release\"") == env.rfind("\"sentry.release\""));
  CHECK(env.find("\"process.pid\"") == env.rfind("\"process.pid\""));
}

TEST_CASE("the scrub hook sees every body and string attribute", "[log_batcher]") {
  Saved s;
  LogBatcher b = batcher(s, options(), [](std::string& text) {
    for (std::size_t at; (at = text.find("hunter2")) != std::string::npos;) text.replace(at, 7, "[Filtered]");
  });
  add(b, R"({"msg":"login with hunter2","password":"hunter2","n":2})");
  add(b, "password=hunter2 level=info msg=\"hunter2 again\"");
  b.flush(kT0);
  const std::string& env = s.envelopes.at(0);
  CHECK(env.find("hunter2") == std::string::npos);
  Json logs = logs_of(env);
  CHECK(logs[0]["body"] == "login with [Filtered]");
  CHECK(logs[0]["attributes"]["password"]["value"] == "[Filtered]");
  CHECK(logs[1]["body"] == "[Filtered] again");
}

TEST_CASE("a batch the spool refuses is counted", "[log_batcher]") {
  Saved s;
  s.accept = false;
  LogBatcher b = batcher(s);
  add(b, "x");
  b.flush(kT0);
  CHECK(b.stats().save_failures == 1);
  CHECK(b.batched() == 0);
}

TEST_CASE("process.pid follows the child: unknown before it starts, new after a restart", "[log_batcher]") {
  Saved s;
  LogBatcherOptions o = options();
  o.pid = 0;
  LogBatcher b = batcher(s, o);
  add(b, "before the child");
  b.child_started(100);
  add(b, "first lifetime");
  b.child_started(200);
  add(b, "second lifetime");
  b.flush(kT0);
  Json logs = logs_of(s.envelopes.at(0));
  CHECK_FALSE(logs[0]["attributes"].contains("process.pid"));
  CHECK(logs[1]["attributes"]["process.pid"]["value"] == 100);
  CHECK(logs[2]["attributes"]["process.pid"]["value"] == 200);
}
