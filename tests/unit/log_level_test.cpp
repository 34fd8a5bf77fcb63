#include "parsers/log_level.h"

#include <catch2/catch.hpp>

#include <string>

using namespace crashwrap::parsers;

namespace {

struct Parsed {
  LogLevel level;
  std::string body;
  bool structured;
  std::vector<LogAttribute> attributes;
  std::size_t dropped;

  const LogAttribute* attr(std::string_view key) const {
    for (const auto& a : attributes)
      if (a.key == key) return &a;
    return nullptr;
  }
};

Parsed parse(std::string_view line) {
  static LogLineParser parser;
  LogRecord r;
  parser.parse(line, r);
  return {r.level, std::string(r.body), r.structured,
          {r.attributes.begin(), r.attributes.begin() + static_cast<std::ptrdiff_t>(r.attribute_count)},
          r.attributes_dropped};
}

LogLevel level_of(std::string_view line) { return parse(line).level; }

}  // namespace

TEST_CASE("level names and severity numbers as Sentry's SDKs send them", "[log_level]") {
  CHECK(log_level_name(LogLevel::Warn) == "warn");
  CHECK(severity_number(LogLevel::Trace) == 1);
  CHECK(severity_number(LogLevel::Debug) == 5);
  CHECK(severity_number(LogLevel::Info) == 9);
  CHECK(severity_number(LogLevel::Warn) == 13);
  CHECK(severity_number(LogLevel::Error) == 17);
  CHECK(severity_number(LogLevel::Fatal) == 21);
  CHECK(log_level_from_word("WARNING") == LogLevel::Warn);
  CHECK(log_level_from_word("Err") == LogLevel::Error);
  CHECK(log_level_from_word("critical") == LogLevel::Fatal);
  CHECK(log_level_from_word("DBG") == LogLevel::Debug);
  CHECK(log_level_from_word("notice") == LogLevel::Info);
  CHECK_FALSE(log_level_from_word("warnings"));
  CHECK_FALSE(log_level_from_word(""));
}

TEST_CASE("JSON lines: level, body and typed attributes", "[log_level]") {
  Parsed p = parse(R"({"level":"warning","msg":"disk \"almost\" full","free_mb":12,"ratio":0.5,)"
                   R"("ok":false,"host":"db-1","none":null})");
  CHECK(p.structured);
  CHECK(p.level == LogLevel::Warn);
  CHECK(p.body == "disk \"almost\" full");
  REQUIRE(p.attributes.size() == 4);
  CHECK(p.attr("free_mb")->type == LogAttribute::Type::Integer);
  CHECK(p.attr("free_mb")->value == "12");
  CHECK(p.attr("ratio")->type == LogAttribute::Type::Double);
  CHECK(p.attr("ratio")->value == "0.5");
  CHECK(p.attr("ok")->type == LogAttribute::Type::Boolean);
  CHECK(p.attr("ok")->value == "false");
  CHECK(p.attr("host")->type == LogAttribute::Type::String);
  CHECK(p.attr("host")->value == "db-1");
  CHECK_FALSE(p.attr("none"));
}

TEST_CASE("JSON lines: the usual level and message keys", "[log_level]") {
  CHECK(level_of(R"({"severity":"ERROR","message":"x"})") == LogLevel::Error);  // Google Cloud
  CHECK(level_of(R"({"levelname":"CRITICAL","message":"x"})") == LogLevel::Fatal);  // python-json-logger
  CHECK(level_of(R"({"lvl":"dbug","msg":"x"})") == LogLevel::Info);  // unknown word: info
  CHECK(level_of(R"({"@l":"Warning","@mt":"x {A}"})") == LogLevel::Warn);  // Serilog CLEF
  CHECK(level_of(R"({"log.level":"error","message":"x"})") == LogLevel::Error);  // ECS, dotted
  CHECK(level_of(R"({"log":{"level":"error"},"message":"x"})") == LogLevel::Error);  // ECS, nested
  CHECK(level_of(R"({"level":50,"msg":"x"})") == LogLevel::Error);  // pino
  CHECK(level_of(R"({"level":60,"msg":"x"})") == LogLevel::Fatal);
  CHECK(level_of(R"({"level":20,"msg":"x"})") == LogLevel::Debug);
  CHECK(level_of(R"({"level":3,"msg":"x"})") == LogLevel::Error);  // syslog severity
  CHECK(parse(R"({"message":"m","body":"b"})").body == "m");
  // No message key: the whole line is the body.
  CHECK(parse(R"({"level":"info","n":1})").body == R"({"level":"info","n":1})");
}

TEST_CASE("JSON lines: nested objects flatten, arrays become JSON text, attributes are bounded",
          "[log_level]") {
  Parsed p = parse(R"({"msg":"m","http":{"method":"GET","status":500,"req":{"id":"a1"}},"tags":["a","b"]})");
  REQUIRE(p.attr("http.method"));
  CHECK(p.attr("http.method")->value == "GET");
  CHECK(p.attr("http.status")->type == LogAttribute::Type::Integer);
  CHECK(p.attr("http.req.id")->value == "a1");
  CHECK(p.attr("tags")->type == LogAttribute::Type::String);
  CHECK(p.attr("tags")->value == R"(["a","b"])");

  std::string many = R"({"msg":"m")";
  for (int i = 0; i < 50; ++i) many += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  many += "}";
  Parsed m = parse(many);
  CHECK(m.attributes.size() == kMaxLineAttributes);
  CHECK(m.dropped == 50 - kMaxLineAttributes);

  Parsed dup = parse(R"({"msg":"m","a":{"b":1},"a.b":2})");
  REQUIRE(dup.attributes.size() == 1);
  CHECK(dup.attr("a.b")->value == "2");
}

TEST_CASE("JSON-looking lines that are not JSON fall back to the text rules", "[log_level]") {
  Parsed p = parse("{ERROR} not json }");
  CHECK_FALSE(p.structured);
  CHECK(p.body == "{ERROR} not json }");
  CHECK(parse("{} ERROR after braces").level == LogLevel::Info);
  CHECK(parse("{\"msg\":\"cut off").level == LogLevel::Info);
  CHECK(parse(std::string("{\"msg\":\"\xff\"}")).structured == false);  // invalid UTF-8
}

TEST_CASE("logfmt lines", "[log_level]") {
  Parsed p = parse(R"(time="2024-05-01T12:00:00Z" level=warning msg="cache \"miss\" rate high" rate=0.4 component=cache)");
  CHECK(p.structured);
  CHECK(p.level == LogLevel::Warn);
  CHECK(p.body == "cache \"miss\" rate high");
  REQUIRE(p.attr("rate"));
  CHECK(p.attr("rate")->value == "0.4");
  CHECK(p.attr("component")->value == "cache");
  CHECK(p.attr("time")->value == "2024-05-01T12:00:00Z");
  CHECK_FALSE(p.attr("level"));
  CHECK_FALSE(p.attr("msg"));
  CHECK(level_of("lvl=eror msg=x") == LogLevel::Info);
  CHECK(level_of("level=error") == LogLevel::Error);
  // key=value somewhere in prose is not logfmt.
  Parsed prose = parse("ERROR retrying with level=2 of 3");
  CHECK_FALSE(prose.structured);
  CHECK(prose.level == LogLevel::Error);
  CHECK(prose.body == "ERROR retrying with level=2 of 3");
  CHECK_FALSE(parse("a=1 b=2").structured);  // neither a level nor a message
}

TEST_CASE("text prefixes of common loggers", "[log_level]") {
  CHECK(level_of("ERROR something broke") == LogLevel::Error);
  CHECK(level_of("[warn] low memory") == LogLevel::Warn);
  CHECK(level_of("WARN: low memory") == LogLevel::Warn);
  CHECK(level_of("Warning: low memory") == LogLevel::Warn);
  CHECK(level_of("error: could not compile") == LogLevel::Error);
  CHECK(level_of("ERROR:root:division failed") == LogLevel::Error);  // Python logging
  CHECK(level_of("CRITICAL:app.db:gone") == LogLevel::Fatal);
  CHECK(level_of("2024-05-01 12:00:00,123 ERROR [main] com.example.App - failed") == LogLevel::Error);
  CHECK(level_of("12:00:00.123 [main] WARN  com.example.App - slow") == LogLevel::Warn);  // logback
  CHECK(level_of("2024-05-01T12:00:00.000Z\tinfo\tapp/main.go:12\tstarted") == LogLevel::Info);  // zap
  CHECK(level_of("2024-05-01T12:00:00.000Z\twarn\tapp/main.go:12\tslow") == LogLevel::Warn);
  CHECK(level_of("12:00:00 WRN retrying attempt=2") == LogLevel::Warn);  // zerolog console
  CHECK(level_of("WARN[0003] slow request") == LogLevel::Warn);  // logrus on a terminal
  CHECK(level_of("[2024-05-01T12:00:00Z ERROR myapp] boom") == LogLevel::Error);  // env_logger
  CHECK(level_of("2024-05-01T12:00:00.000000Z  WARN myapp: slow") == LogLevel::Warn);  // tracing
  CHECK(level_of("[2024-05-01 12:00:00] production.ERROR: boom") == LogLevel::Error);  // monolog
  CHECK(level_of("W1123 12:00:00.000000  1234 main.cc:12] careful") == LogLevel::Warn);  // glog
  CHECK(level_of("E1123 12:00:00.000000  1234 main.cc:12] bad") == LogLevel::Error);
  CHECK(level_of("F1123 12:00:00.000000  1234 main.cc:12] Check failed") == LogLevel::Fatal);
  CHECK(level_of("<3>disk failure") == LogLevel::Error);  // syslog / systemd
  CHECK(level_of("<12>something odd") == LogLevel::Warn);  // facility 1, severity 4
  CHECK(level_of("<7>details") == LogLevel::Debug);
  CHECK(level_of("  DEBUG indented") == LogLevel::Debug);
}

TEST_CASE("ordinary lines are info, whatever their stream or content", "[log_level]") {
  CHECK(level_of("server started on :8080") == LogLevel::Info);
  CHECK(level_of("Error handling is configured") == LogLevel::Info);  // a word, not a level
  CHECK(level_of("the error was ignored") == LogLevel::Info);
  CHECK(level_of("user WARN clicked") == LogLevel::Info);  // after prose: not a prefix
  CHECK(level_of("Traceback (most recent call last):") == LogLevel::Info);
  CHECK(level_of("ValueError: bad value") == LogLevel::Info);  // part of a crash trace
  CHECK(level_of("  at com.example.App.main(App.java:12)") == LogLevel::Info);
  CHECK(level_of("goroutine 1 [running]:") == LogLevel::Info);
  CHECK(level_of("") == LogLevel::Info);
  CHECK(level_of("<999>not syslog") == LogLevel::Info);
  CHECK(level_of("X1123 12:00:00.000000 not glog") == LogLevel::Info);
  Parsed p = parse("plain line");
  CHECK(p.body == "plain line");
  CHECK(p.attributes.empty());
  CHECK_FALSE(p.structured);
}

TEST_CASE("the parser's buffers are reused: a later line does not see an earlier one's fields",
          "[log_level]") {
  LogLineParser parser;
  LogRecord r;
  parser.parse(R"({"level":"error","msg":"a","k":"v"})", r);
  CHECK(r.attribute_count == 1);
  parser.parse("just text", r);
  CHECK(r.attribute_count == 0);
  CHECK(r.level == LogLevel::Info);
  CHECK(r.body == "just text");
  parser.parse("level=warn msg=\"b\"", r);
  CHECK(r.attribute_count == 0);
  CHECK(r.body == "b");
}
