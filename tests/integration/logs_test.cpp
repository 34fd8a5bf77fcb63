// --logs with the real binary: the child's lines arrive at a loopback receiver
// as Sentry structured logs, batched, filtered and counted, and crashes still
// go first.
#include <csignal>
#include <set>

#include <catch2/catch.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;
using Json = nlohmann::json;

namespace {

// Every log of every accepted envelope, in arrival order.
std::vector<Json> received_logs(const Receiver& rx) {
  std::vector<Json> logs;
  for (const auto& env : rx.envelopes()) {
    const sinks::ParsedItem* item = env.item("log");
    if (!item) continue;
    Json payload = Json::parse(item->payload);
    CHECK(item->header["item_count"] == payload["items"].size());
    CHECK(item->header["content_type"] == "application/vnd.sentry.items.log+json");
    for (auto& log : payload["items"]) logs.push_back(log);
  }
  return logs;
}

std::size_t log_envelopes(const Receiver& rx) {
  std::size_t n = 0;
  for (const auto& env : rx.envelopes()) n += env.item("log") != nullptr;
  return n;
}

const Json* find_body(const std::vector<Json>& logs, std::string_view body) {
  for (const auto& log : logs)
    if (log["body"] == body) return &log;
  return nullptr;
}

}  // namespace

TEST_CASE("JSON, logfmt and text lines on both streams arrive as logs", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(wrap(dir.file("spool"),
                         {"--dsn", rx.dsn(), "--logs", "--release", "app@1.0", "--environment", "test"},
                         {"out", R"({"level":"warn","msg":"disk low","free_mb":12,"ok":false})",
                          "err", R"(level=error msg="db down" attempt=3)",
                          "out", "plain info line",
                          "err", "stderr is not an error",
                          "err", "ERROR: explicit error",
                          "out", "DEBUG below the default level",
                          "exit", "0"}),
                    30s);
  CHECK(r.exit_code() == 0);
  CHECK(r.out == "{\"level\":\"warn\",\"msg\":\"disk low\",\"free_mb\":12,\"ok\":false}\nplain info line\n"
                 "DEBUG below the default level\n");
  CHECK(rx.problems().empty());
  REQUIRE(rx.wait_for([](const Receiver& x) { return received_logs(x).size() >= 5; }, 10s));
  std::vector<Json> logs = received_logs(rx);
  CHECK(logs.size() == 5);
  CHECK_FALSE(find_body(logs, "DEBUG below the default level"));

  const Json* warn = find_body(logs, "disk low");
  REQUIRE(warn);
  CHECK((*warn)["level"] == "warn");
  CHECK((*warn)["severity_number"] == 13);
  CHECK((*warn)["attributes"]["free_mb"] == Json({{"value", 12}, {"type", "integer"}}));
  CHECK((*warn)["attributes"]["ok"] == Json({{"value", false}, {"type", "boolean"}}));
  CHECK((*warn)["attributes"]["log.iostream"]["value"] == "stdout");
  CHECK((*warn)["attributes"]["sentry.release"]["value"] == "app@1.0");
  CHECK((*warn)["attributes"]["sentry.environment"]["value"] == "test");
  CHECK((*warn)["attributes"]["sentry.sdk.name"]["value"] == "crashwrap");
  CHECK((*warn)["attributes"]["process.pid"]["type"] == "integer");
  CHECK((*warn)["attributes"]["server.address"]["type"] == "string");

  const Json* db = find_body(logs, "db down");
  REQUIRE(db);
  CHECK((*db)["level"] == "error");
  CHECK((*db)["attributes"]["attempt"]["value"] == "3");
  CHECK((*db)["attributes"]["log.iostream"]["value"] == "stderr");

  const Json* plain = find_body(logs, "stderr is not an error");
  REQUIRE(plain);
  CHECK((*plain)["level"] == "info");
  CHECK((*plain)["attributes"]["log.iostream"]["value"] == "stderr");
  REQUIRE(find_body(logs, "ERROR: explicit error"));
  CHECK((*find_body(logs, "ERROR: explicit error"))["level"] == "error");
  REQUIRE(find_body(logs, "plain info line"));
  CHECK((*find_body(logs, "plain info line"))["level"] == "info");
  // A clean exit is not reported: only log envelopes, no event.
  CHECK(event_count(rx) == 0);
  for (const auto& log : logs) CHECK(log["trace_id"] == logs[0]["trace_id"]);
}

TEST_CASE("CRASHWRAP_LOGS=1 turns logs on; without it nothing is forwarded", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  ProcessOptions off = wrap(dir.file("spool"), {"--dsn", rx.dsn()}, {"out", "not forwarded"});
  CHECK(run(off, 30s).exit_code() == 0);
  CHECK(rx.envelope_count() == 0);
  ProcessOptions on = wrap(dir.file("spool"), {"--dsn", rx.dsn()}, {"out", "forwarded"});
  on.env_set.push_back({"CRASHWRAP_LOGS", "1"});
  CHECK(run(on, 30s).exit_code() == 0);
  REQUIRE(rx.wait_for_envelopes(1, 10s));
  std::vector<Json> logs = received_logs(rx);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["body"] == "forwarded");
}

TEST_CASE("250 lines arrive in batches of at most 100 logs", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--logs"}, {"outlines", "250"}), 30s);
  CHECK(r.exit_code() == 0);
  REQUIRE(rx.wait_for([](const Receiver& x) { return received_logs(x).size() >= 250; }, 10s));
  CHECK(log_envelopes(rx) >= 3);
  for (const auto& env : rx.envelopes()) {
    if (const sinks::ParsedItem* item = env.item("log")) CHECK(item->header["item_count"] <= 100);
    CHECK(env.item_types().size() <= 2);  // the log item, perhaps a client report
  }
  std::vector<Json> logs = received_logs(rx);
  CHECK(logs.size() == 250);
  std::set<std::string> bodies;
  for (const auto& log : logs) bodies.insert(log["body"].get<std::string>());
  CHECK(bodies.size() == 250);
  CHECK(bodies.count("stdout 00000001"));
  CHECK(bodies.count("stdout 00000250"));
}

TEST_CASE("the minimum level (--logs-min-level) keeps only what is at or above it", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--logs", "--logs-min-level", "warn"},
                         {"out", "INFO skipped", "err", "plain skipped", "out", "WARN kept",
                          "err", "<3>kept too", "out", "[debug] skipped"}),
                    30s);
  CHECK(r.exit_code() == 0);
  REQUIRE(rx.wait_for([](const Receiver& x) { return received_logs(x).size() >= 2; }, 10s));
  std::vector<Json> logs = received_logs(rx);
  REQUIRE(logs.size() == 2);
  // The two lines come from different streams: their order is not defined.
  if (logs[0]["body"] != "WARN kept") std::swap(logs[0], logs[1]);
  CHECK(logs[0]["body"] == "WARN kept");
  CHECK(logs[1]["body"] == "<3>kept too");
  CHECK(logs[1]["level"] == "error");
}

TEST_CASE("sampled-out lines are reported as sample_rate log_item", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  std::vector<std::string> child;
  for (int i = 0; i < 10; ++i) child.insert(child.end(), {"out", "info " + std::to_string(i)});
  child.insert(child.end(), {"err", "ERROR always kept"});
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--logs", "--logs-sample-rate", "0"}, child), 30s);
  CHECK(r.exit_code() == 0);
  REQUIRE(rx.wait_for([](const Receiver& x) { return reported(x, "sample_rate", "log_item") >= 10; }, 10s));
  CHECK(reported(rx, "sample_rate", "log_item") == 10);
  std::vector<Json> logs = received_logs(rx);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["body"] == "ERROR always kept");
}

TEST_CASE("over the byte budget: one warning, drops counted, the app unaffected", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--logs", "--logs-budget", "4KiB"},
                         {"outlines", "200", "exit", "4"}),
                    30s);
  CHECK(r.exit_code() == 4);
  const std::string warning = "crashwrap: warning: log lines over the budget of 4096 bytes per minute are dropped";
  REQUIRE(r.err.find(warning) != std::string::npos);
  CHECK(r.err.find(warning) == r.err.rfind(warning));
  REQUIRE(rx.wait_for([](const Receiver& x) { return reported(x, "ratelimit_backoff", "log_item") > 0; }, 10s));
  const std::size_t kept = received_logs(rx).size();
  CHECK(kept > 0);
  CHECK(kept < 50);
  CHECK(reported(rx, "ratelimit_backoff", "log_item") == 200 - kept);
  CHECK(event_count(rx) == 1);  // exit 4 is still reported
}

TEST_CASE("a bad --logs-min-level is one warning and the default", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--logs", "--logs-min-level", "loud"},
                         {"out", "DEBUG no", "out", "INFO yes"}),
                    30s);
  CHECK(r.exit_code() == 0);
  CHECK(r.err.find("--logs-min-level") != std::string::npos);
  CHECK(r.err.find("is not one of trace, debug, info, warn, error, fatal") != std::string::npos);
  REQUIRE(rx.wait_for([](const Receiver& x) { return received_logs(x).size() >= 1; }, 10s));
  std::vector<Json> logs = received_logs(rx);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["body"] == "INFO yes");
}

TEST_CASE("a crash goes before thousands of queued log lines", "[logs][integration]") {
  TempDir dir;
  Receiver rx;
  rx.set_default_reply(Reply::slow(20ms));  // the log envelopes pile up in the spool
  RunResult r = run(wrap(dir.file("spool"), {"--dsn", rx.dsn(), "--logs", "--logs-budget", "0",
                                             "--flush-timeout", "20s"},
                         {"outlines", "5000", "err", "about to crash", "segv"}),
                    60s);
  CHECK(r.term_signal() == SIGSEGV);
  CHECK(rx.problems().empty());
  std::vector<ReceivedEnvelope> got = rx.envelopes();
  std::size_t event_at = got.size(), logs_after = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i].item("event")) event_at = i;
    else if (event_at < got.size() && got[i].item("log")) ++logs_after;
  }
  REQUIRE(event_at < got.size());
  CHECK(event_count(rx) == 1);
  CHECK(got[event_at].event()["level"] == "fatal");
  // The event did not wait for the log envelopes saved before it.
  CHECK(logs_after >= 20);
  CHECK(received_logs(rx).size() == 5001);
  // The crash's own lines are logs too, at their own level.
  const std::vector<Json> logs = received_logs(rx);
  REQUIRE(find_body(logs, "about to crash"));
  CHECK((*find_body(logs, "about to crash"))["level"] == "info");
}
