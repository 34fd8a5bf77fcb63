#include "sinks/envelope.h"

#include <catch2/catch.hpp>
#include <string>

#include "sinks/event_builder.h"
#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap::sinks;
using crashwrap::parsers::Timestamp;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::milliseconds(1795420800123)};  // 2026-11-23T08:00:00.123Z
const std::string kId = "9ec79c33ec9942ab8353589fcb2e04dc";
const std::string kDsn = "http://public@127.0.0.1:9000/42";

std::string fixture(const std::string& name) {
  return crashwrap::test::read_file(crashwrap::test::source_dir() +
                                    "/tests/unit/fixtures/envelope/" + name);
}

BuiltEvent sample_event(std::string tail = "[stderr] boom\n") {
  BuiltEvent e;
  e.event_id = kId;
  e.event = {{"event_id", kId}, {"platform", "native"}, {"level", "fatal"}};
  e.attachments.push_back({"output-tail.txt", "text/plain", std::move(tail)});
  return e;
}

std::string parse_error(std::string_view bytes) {
  std::string error;
  auto env = parse_envelope(bytes, error);
  return env ? "" : error;
}

}  // namespace

TEST_CASE("rfc3339 writes UTC with milliseconds and reads it back", "[envelope]") {
  CHECK(rfc3339(kT0) == "2026-11-23T08:00:00.123Z");
  CHECK(rfc3339(Timestamp{}) == "1970-01-01T00:00:00.000Z");
  CHECK(parse_rfc3339("2026-11-23T08:00:00.123Z") == kT0);
  CHECK(parse_rfc3339("2026-11-23T09:00:00.123+01:00") == kT0);
  CHECK(parse_rfc3339("2026-11-23T08:00:00Z") == Timestamp{std::chrono::seconds(1795420800)});
  CHECK_FALSE(parse_rfc3339("2026-13-23T08:00:00Z"));
  CHECK_FALSE(parse_rfc3339("yesterday"));
  CHECK_FALSE(parse_rfc3339("2026-11-23T08:00:00Zjunk"));
}

TEST_CASE("an event envelope has the exact framing Sentry expects", "[envelope]") {
  BuiltEnvelope b = build_event_envelope(sample_event(), kDsn, kT0, EnvelopeLimits{});
  REQUIRE(b.fits);
  const std::string event = R"({"event_id":")" + kId + R"(","level":"fatal","platform":"native"})";
  const std::string expected =
      R"({"event_id":")" + kId + R"(","sent_at":"2026-11-23T08:00:00.123Z","dsn":")" + kDsn +
      R"(","sdk":{"name":"crashwrap","version":")" CRASHWRAP_VERSION R"("}})" "\n"
      R"({"type":"event","length":)" + std::to_string(event.size()) + "}\n" + event + "\n" +
      R"({"type":"attachment","length":14,"filename":"output-tail.txt","content_type":"text/plain","attachment_type":"event.attachment"})"
      "\n[stderr] boom\n\n";
  CHECK(b.bytes == expected);
  CHECK(b.size == expected.size());
  CHECK(b.attachments_dropped == 0);
}

TEST_CASE("without a dsn or event id the header leaves those keys out", "[envelope]") {
  const auto h = envelope_header("", kT0, "");
  CHECK(h.dump() == R"({"sent_at":"2026-11-23T08:00:00.123Z","sdk":{"name":"crashwrap","version":")" CRASHWRAP_VERSION R"("}})");
}

TEST_CASE("length counts bytes, not characters, and payload newlines are kept", "[envelope]") {
  const std::string tail = "caf\xc3\xa9\r\nline two\n\xff\xfe binary\n";
  BuiltEnvelope b = build_event_envelope(sample_event(tail), "", kT0, EnvelopeLimits{});
  std::string error;
  auto env = parse_envelope(b.bytes, error);
  REQUIRE(env);
  REQUIRE(env->items.size() == 2);
  CHECK(env->items[1].header["length"] == tail.size());
  CHECK(env->items[1].payload == tail);
}

TEST_CASE("invalid UTF-8 in the event becomes U+FFFD instead of failing", "[envelope]") {
  BuiltEvent e = sample_event();
  e.event["message"] = std::string("bad \xff byte");
  BuiltEnvelope b = build_event_envelope(e, "", kT0, EnvelopeLimits{});
  std::string error;
  auto env = parse_envelope(b.bytes, error);
  REQUIRE(env);
  const Json event = Json::parse(env->items[0].payload);
  CHECK(event["message"] == "bad \xef\xbf\xbd byte");
}

TEST_CASE("an empty attachment is never written", "[envelope]") {
  CHECK_FALSE(attachment_item("output-tail.txt", ""));
  BuiltEnvelope b = build_event_envelope(sample_event(""), "", kT0, EnvelopeLimits{});
  std::string error;
  auto env = parse_envelope(b.bytes, error);
  REQUIRE(env);
  REQUIRE(env->items.size() == 1);
  CHECK(env->items[0].type() == "event");
  CHECK(b.attachments_dropped == 0);
}

TEST_CASE("attachments over the cap are left out and counted", "[envelope]") {
  BuiltEvent e = sample_event(std::string(2000, 'x'));
  e.attachments.push_back({"small.txt", "text/plain", "ok\n"});
  EnvelopeLimits limits;
  limits.attachment_max_bytes = 1999;
  BuiltEnvelope b = build_event_envelope(e, "", kT0, limits);
  REQUIRE(b.fits);
  CHECK(b.attachments_dropped == 1);
  CHECK(b.attachment_bytes_dropped == 2000);
  std::string error;
  auto env = parse_envelope(b.bytes, error);
  REQUIRE(env);
  REQUIRE(env->items.size() == 2);
  CHECK(env->items[1].header["filename"] == "small.txt");
}

TEST_CASE("to fit the envelope limit attachments go largest first, the event stays", "[envelope]") {
  BuiltEvent e = sample_event(std::string(5000, 'a'));
  e.attachments.push_back({"b.txt", "text/plain", std::string(3000, 'b')});
  e.attachments.push_back({"c.txt", "text/plain", std::string(100, 'c')});
  const std::size_t all = build_event_envelope(e, "", kT0, EnvelopeLimits{}).size;
  EnvelopeLimits limits;
  limits.envelope_max_bytes = all - 1000;  // dropping the 5000-byte one is enough
  BuiltEnvelope b = build_event_envelope(e, "", kT0, limits);
  REQUIRE(b.fits);
  CHECK(b.attachments_dropped == 1);
  CHECK(b.attachment_bytes_dropped == 5000);
  CHECK(b.bytes.size() <= limits.envelope_max_bytes);
  std::string error;
  auto env = parse_envelope(b.bytes, error);
  REQUIRE(env);
  REQUIRE(env->items.size() == 3);
  CHECK(env->items[0].type() == "event");
  CHECK(env->items[1].header["filename"] == "b.txt");
  CHECK(env->items[2].header["filename"] == "c.txt");

  limits.envelope_max_bytes = 200;  // not even the event fits
  BuiltEnvelope none = build_event_envelope(e, "", kT0, limits);
  CHECK_FALSE(none.fits);
  CHECK(none.bytes.empty());
  CHECK(none.attachments_dropped == 3);
  CHECK(none.size > 200);
}

TEST_CASE("extra items follow the event and its attachments", "[envelope]") {
  Json report = {{"timestamp", "2026-11-23T08:00:00.123Z"},
                 {"discarded_events", {{{"reason", "queue_overflow"}, {"category", "error"}, {"quantity", 2}}}}};
  std::vector<EnvelopeItem> extra{client_report_item(report)};
  BuiltEnvelope b = build_event_envelope(sample_event(), kDsn, kT0, EnvelopeLimits{}, extra);
  std::string error;
  auto env = parse_envelope(b.bytes, error);
  REQUIRE(env);
  REQUIRE(env->items.size() == 3);
  CHECK(env->items[2].type() == "client_report");
  CHECK(Json::parse(env->items[2].payload) == report);
}

TEST_CASE("log, session and check-in items carry their headers", "[envelope]") {
  Json logs = Json::array({{{"timestamp", 1.5}, {"level", "info"}, {"body", "a"}},
                           {{"timestamp", 2.5}, {"level", "warn"}, {"body", "b"}}});
  Envelope env;
  env.header = envelope_header("", kT0, kDsn);
  env.items = {log_item(logs), session_item({{"sid", kId}}), check_in_item({{"status", "ok"}})};
  const std::string bytes = serialize(env);
  std::string error;
  auto parsed = parse_envelope(bytes, error);
  REQUIRE(parsed);
  REQUIRE(parsed->items.size() == 3);
  const auto& log = parsed->items[0];
  CHECK(log.header["item_count"] == 2);
  CHECK(log.header["content_type"] == "application/vnd.sentry.items.log+json");
  CHECK(Json::parse(log.payload) == Json{{"items", logs}});
  CHECK(parsed->items[1].type() == "session");
  CHECK(parsed->items[2].type() == "check_in");
  CHECK(bytes.substr(bytes.find('\n') + 1, 12) == R"({"type":"log)");
}

TEST_CASE("every valid protocol fixture parses with the right items", "[envelope]") {
  struct Case {
    const char* file;
    std::vector<std::string> types;
  };
  for (const Case& c : {Case{"error-event.envelope", {"event", "attachment", "session"}},
                        Case{"session-update.envelope", {"session"}},
                        Case{"check-in.envelope", {"check_in"}},
                        Case{"log-batch.envelope", {"log"}},
                        Case{"client-report.envelope", {"client_report"}}}) {
    INFO(c.file);
    const std::string bytes = fixture(c.file);
    REQUIRE_FALSE(bytes.empty());
    std::string error;
    auto env = parse_envelope(bytes, error);
    REQUIRE(env);
    std::vector<std::string> types;
    for (const auto& item : env->items) types.push_back(item.type());
    CHECK(types == c.types);
  }
  std::string error;
  auto env = parse_envelope(fixture("error-event.envelope"), error);
  REQUIRE(env);
  CHECK(env->event_id() == kId);
  REQUIRE(env->first("attachment"));
  CHECK(env->first("attachment")->payload.size() == 56);
  CHECK(env->first("transaction") == nullptr);
}

TEST_CASE("framing errors are rejected with the reason", "[envelope]") {
  CHECK_THAT(parse_error(fixture("invalid-bad-length.envelope")),
             Catch::Contains("item 1: payload of length 1694 is not followed by a newline"));
  CHECK_THAT(parse_error(fixture("invalid-truncated-payload.envelope")),
             Catch::Contains("payload truncated"));
  CHECK_THAT(parse_error(fixture("invalid-missing-type.envelope")),
             Catch::Contains("\"type\""));
  CHECK_THAT(parse_error(fixture("invalid-extra-trailing-newline.envelope")),
             Catch::Contains("empty line"));
  CHECK_THAT(parse_error(fixture("invalid-duplicate-sent-at.envelope")),
             Catch::Contains("envelope header: header has the key \"sent_at\" twice"));
  CHECK(parse_error("") == "envelope header: empty line where a header was expected");
  CHECK_THAT(parse_error("\xef\xbb\xbf{}\n"), Catch::Contains("not a bare JSON object"));
  CHECK_THAT(parse_error("{}\r\n"), Catch::Contains("not a bare JSON object"));
  CHECK_THAT(parse_error("{}\n {\"type\":\"a\"}\n"), Catch::Contains("item 1"));
  CHECK_THAT(parse_error("{}\n{\"type\":\"a\",\"length\":-1}\nx\n"), Catch::Contains("negative"));
  CHECK_THAT(parse_error("{}\n{\"type\":\"a\",\"length\":\"1\"}\nx\n"),
             Catch::Contains("not an integer"));
  CHECK_THAT(parse_error("{}\n{\"type\":\"a\",\"length\":1.0}\nx\n"),
             Catch::Contains("not an integer"));
  CHECK_THAT(parse_error("{}\n{\"type\":\"a\",\"length\":4294967296}\nx\n"),
             Catch::Contains("not an integer"));
  CHECK_THAT(parse_error("{}\n{\"type\":\"a\"}"), Catch::Contains("not followed by a newline"));
  CHECK_THAT(parse_error("{}\n{\"type\":\"\"}\n{}\n"), Catch::Contains("\"type\""));
  CHECK_THAT(parse_error("{\"a\":{\"b\":1,\"b\":2}}\n"), Catch::Contains("\"b\" twice"));
}

TEST_CASE("the grammar's optional parts are accepted", "[envelope]") {
  std::string error;
  CHECK(parse_envelope("{}", error));                                    // header only
  CHECK(parse_envelope("{}\n", error));                                  // and its newline
  auto a = parse_envelope("{}\n{\"type\":\"a\",\"length\":3}\nxyz", error);  // no final newline
  REQUIRE(a);
  CHECK(a->items[0].payload == "xyz");
  auto b = parse_envelope("{}\n{\"type\":\"a\"}\n{\"k\":1}\n{\"type\":\"b\",\"length\":0}\n\n", error);
  REQUIRE(b);
  REQUIRE(b->items.size() == 2);
  CHECK(b->items[0].payload == "{\"k\":1}");
  CHECK(b->items[1].payload.empty());
  auto c = parse_envelope("{}\n{\"type\":\"a\",\"length\":2}\n\n\n\n", error);  // payload is "\n\n"
  REQUIRE(c);
  CHECK(c->items[0].payload == "\n\n");
  // Same keys in different objects are not duplicates.
  CHECK(parse_envelope("{\"a\":{\"k\":1},\"b\":{\"k\":2}}\n", error));
}

TEST_CASE("serialize and parse are inverse", "[envelope]") {
  Envelope env;
  env.header = envelope_header(kId, kT0, kDsn);
  env.items.push_back(event_item({{"event_id", kId}, {"message", "line\nbreak"}}));
  env.items.push_back(*attachment_item("a.bin", std::string("\0\n\n\xff", 4), "application/octet-stream"));
  const std::string bytes = serialize(env);
  std::string error;
  auto parsed = parse_envelope(bytes, error);
  REQUIRE(parsed);
  CHECK(parsed->header == Json::parse(env.header.dump()));
  REQUIRE(parsed->items.size() == 2);
  CHECK(parsed->items[0].payload == env.items[0].payload);
  CHECK(parsed->items[1].payload == std::string("\0\n\n\xff", 4));
  CHECK(parsed->items[1].header["content_type"] == "application/octet-stream");
}

TEST_CASE("rewrite_header sets sent_at and dsn and keeps the items byte for byte", "[envelope]") {
  const std::string saved = build_event_envelope(sample_event(), "", kT0, EnvelopeLimits{}).bytes;
  const Timestamp later = kT0 + 90s;
  auto sent = rewrite_header(saved, later, kDsn);
  REQUIRE(sent);
  const std::string first_line = sent->substr(0, sent->find('\n'));
  CHECK(first_line == R"({"event_id":")" + kId +
                          R"(","sent_at":"2026-11-23T08:01:30.123Z","dsn":")" + kDsn +
                          R"(","sdk":{"name":"crashwrap","version":")" CRASHWRAP_VERSION R"("}})");
  CHECK(sent->substr(sent->find('\n')) == saved.substr(saved.find('\n')));

  auto back = rewrite_header(*sent, kT0, "");
  REQUIRE(back);
  CHECK(*back == saved);
  CHECK_FALSE(rewrite_header("not json\n{}", kT0, kDsn));
  CHECK(*rewrite_header("{\"x\":1}", kT0, "") == R"({"sent_at":"2026-11-23T08:00:00.123Z","x":1})");
}
