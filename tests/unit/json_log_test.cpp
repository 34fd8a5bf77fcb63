#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "parsers/detectors.h"
#include "parsers/registry.h"

using namespace crashwrap::parsers;

namespace {

std::vector<CrashReport> feed(std::vector<std::string> lines, std::size_t cut = 0) {
  std::string error;
  auto reg = Registry::create({"json"}, error);
  REQUIRE(reg);
  std::vector<CrashReport> out;
  std::uint64_t n = 0;
  for (const std::string& text : lines) {
    Line l;
    l.stream = Stream::Stdout;
    l.text = text;
    l.number = ++n;
    l.cut_bytes = cut;
    reg->feed(l, out);
  }
  reg->finish(out);
  return out;
}

std::string tag(const CrashReport& r, std::string_view key) {
  for (const auto& [k, v] : r.tags)
    if (k == key) return v;
  return "<none>";
}

std::string extra(const CrashReport& r, std::string_view key) {
  for (const auto& [k, v] : r.extra)
    if (k == key) return v;
  return "<none>";
}

const char* kPino =
    R"j({"level":50,"time":1714557600000,"pid":4242,"hostname":"web-1","name":"api","msg":"request failed",)j"
    R"j("err":{"type":"RangeError","message":"bad size","stack":"RangeError: bad size\n    at resize (/srv/app/img.js:7:11)\n    at main (/srv/app/main.js:3:1)","code":"E_SIZE"}})j";

}  // namespace

TEST_CASE("json: a pino line with err.stack becomes the embedded runtime's report with the log's fields", "[json_log]") {
  auto out = feed({R"j({"level":30,"msg":"ok"})j", kPino, R"j({"level":30,"msg":"idle"})j"});
  REQUIRE(out.size() == 1);
  const CrashReport& r = out[0];
  CHECK(r.runtime == "node");
  CHECK(r.stream == Stream::Stdout);
  CHECK(r.first_line == 2);
  CHECK(r.last_line == 2);
  CHECK(r.raw == kPino);
  REQUIRE(r.exceptions.size() == 1);
  CHECK(r.exceptions[0].type == "RangeError");
  CHECK(r.exceptions[0].value == std::optional<std::string>("bad size"));
  CHECK(r.exceptions[0].stacktrace.frames.size() == 2);
  CHECK(tag(r, "log.level") == "error");
  CHECK(tag(r, "logger") == "api");
  CHECK(tag(r, "host") == "web-1");
  CHECK(extra(r, "log.message") == "request failed");
  CHECK(extra(r, "log.err.code") == "E_SIZE");
  CHECK(extra(r, "log.err.stack") == "<none>");  // the trace is the exception, not an extra
}

TEST_CASE("json: zap-style bare Go frames get the error from sibling fields", "[json_log]") {
  auto out = feed({R"j({"level":"error","ts":1.5,"caller":"api/h.go:40","msg":"query failed","error":"pq: deadlock detected",)j"
                   R"j("stacktrace":"main.(*API).query\n\t/src/api/h.go:40\nmain.main\n\t/src/api/main.go:12"})j"});
  REQUIRE(out.size() == 1);
  const Exception& e = out[0].exceptions.at(0);
  CHECK(out[0].runtime == "go");
  CHECK(e.type == "error");
  CHECK(e.value == std::optional<std::string>("pq: deadlock detected"));
  REQUIRE(e.stacktrace.frames.size() == 2);
  CHECK(e.stacktrace.frames[1].function == "(*API).query");
  CHECK(e.stacktrace.frames[1].module == "main");
  CHECK(e.stacktrace.frames[1].lineno == 40u);
}

TEST_CASE("json: ECS nested error.stack_trace with its type, and a bare stack given its header back", "[json_log]") {
  auto out = feed({R"j({"@timestamp":"2024-05-01T10:00:00Z","log":{"level":"error","logger":"com.acme.Jobs"},)j"
                   R"j("service":{"name":"jobs"},"message":"job failed","error":{"type":"java.lang.IllegalStateException",)j"
                   R"j("message":"queue closed","stack_trace":"\tat com.acme.Jobs.run(Jobs.java:42)\n\tat java.base/java.lang.Thread.run(Thread.java:833)"}})j"});
  REQUIRE(out.size() == 1);
  const CrashReport& r = out[0];
  CHECK(r.runtime == "java");
  CHECK(r.exceptions.at(0).type == "IllegalStateException");
  CHECK(r.exceptions.at(0).value == std::optional<std::string>("queue closed"));
  CHECK(r.exceptions.at(0).stacktrace.frames.size() == 2);
  CHECK(tag(r, "log.level") == "error");
  CHECK(tag(r, "logger") == "com.acme.Jobs");
  CHECK(tag(r, "service") == "jobs");
}

TEST_CASE("json: lines that are not structured traces are ignored", "[json_log]") {
  CHECK(feed({R"j({"level":"error","msg":"timeout","error":"context deadline exceeded"})j"}).empty());
  CHECK(feed({R"j({"level":"info","msg":"two\nlines","stack":"not a trace\nat all"})j"}).empty());
  CHECK(feed({R"j(["stack", "Traceback (most recent call last):\n"])j"}).empty());
}

TEST_CASE("json: an object that is not valid JSON or was cut still gives its trace, marked partial", "[json_log]") {
  auto out = feed({R"j({"stack":"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: x")j"});
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.at(0).type == "ValueError");
  CHECK(extra(out[0], "log.partial") == "true");
  out = feed({R"j({"exc_info":"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: x"})j"}, 10);
  REQUIRE(out.size() == 1);
  CHECK(out[0].exceptions.at(0).value == std::optional<std::string>("x"));
}

TEST_CASE("json: a prefix before the object and invalid UTF-8 inside it", "[json_log]") {
  std::string line = "2024-05-01T10:00:00Z stderr F {\"levelname\":\"ERROR\",\"message\":\"caf\xe9 \xff\","
                     "\"exc_info\":\"Traceback (most recent call last):\\n  File \\\"/app/m.py\\\", line 3, in run\\n"
                     "    go()\\nKeyError: 'caf\xe9'\"}";
  auto out = feed({line});
  REQUIRE(out.size() == 1);
  CHECK(out[0].runtime == "python");
  CHECK(out[0].exceptions.at(0).type == "KeyError");
  CHECK(out[0].exceptions.at(0).value == std::optional<std::string>("'caf\xef\xbf\xbd'"));
  CHECK(extra(out[0], "log.message") == "caf\xef\xbf\xbd \xef\xbf\xbd");
  CHECK(tag(out[0], "log.level") == "error");
}

TEST_CASE("json: extra fields are capped in number and size", "[json_log]") {
  std::string line = "{";
  for (int i = 0; i < 100; ++i) line += "\"f" + std::to_string(i) + "\":\"" + std::string(5000, 'x') + "\",";
  line += R"j("stack":"Error: e\n    at f (/a.js:1:1)"})j";
  auto out = feed({line});
  REQUIRE(out.size() == 1);
  CHECK(out[0].extra.size() <= 32);
  for (const auto& [k, v] : out[0].extra) CHECK(v.size() <= 1024);
}

TEST_CASE("json: the detector is listed as 'json' and never parses its own output again", "[json_log]") {
  auto names = Registry::names();
  CHECK(std::find(names.begin(), names.end(), "json") != names.end());
  auto d = make_json_log_detector();
  CHECK(d->name() == "json");
  CHECK_FALSE(d->active_since(Stream::Stdout));
}

TEST_CASE("json: a line cut at the analysis cap still gives the start of its trace", "[json_log]") {
  std::string stack = "java.lang.IllegalStateException: pool \\u00e9puis\\u00e9 \\ud83d\\ude00\\n";
  for (int i = 0; i < 400; ++i)
    stack += "\\tat com.acme.Layer" + std::to_string(i) + ".call(Layer" + std::to_string(i) + ".java:" + std::to_string(i + 1) + ")\\n";
  std::string line = R"j({"@timestamp":"2024-05-01T10:00:00Z","level":"ERROR","message":"boom","stack_trace": ")j" + stack + "\"}";
  REQUIRE(line.size() > 16 * 1024);
  std::size_t cut = line.size() - 16 * 1024;
  std::string shown = line.substr(0, 16 * 1024);
  auto out = feed({shown}, cut);
  REQUIRE(out.size() == 1);
  const Exception& e = out[0].exceptions.at(0);
  CHECK(out[0].runtime == "java");
  CHECK(e.type == "IllegalStateException");
  CHECK(e.value == std::optional<std::string>("pool \xc3\xa9puis\xc3\xa9 \xf0\x9f\x98\x80"));
  CHECK(e.stacktrace.frames.size() > 100);
  CHECK(e.stacktrace.frames.back().function == "call");
  CHECK(extra(out[0], "log.partial") == "true");
}

TEST_CASE("json: a trace escaped into the message field (Google Cloud structured logging)", "[json_log]") {
  auto out = feed({R"j({"severity":"ERROR","message":"Traceback (most recent call last):\n  File \"/srv/main.py\", line 8, in handle\n    load()\nOSError: disk full","logging.googleapis.com/labels":{"job":"sync"}})j"});
  REQUIRE(out.size() == 1);
  CHECK(out[0].runtime == "python");
  CHECK(out[0].exceptions.at(0).type == "OSError");
  CHECK(tag(out[0], "log.level") == "error");
}
