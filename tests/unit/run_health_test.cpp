#include "agent/run_health.h"

#include <csignal>

#include <catch2/catch.hpp>

#include "support/process.h"

using namespace crashwrap;
using namespace crashwrap::sinks;
using crashwrap::agent::AbandonedRun;
using crashwrap::agent::RunHealth;
using crashwrap::test::TempDir;
using parsers::Timestamp;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::seconds(1795420800)};

config::Config cfg(const std::string& spool) {
  config::Config c;
  c.spool_dir = spool;
  c.release = "app@1";
  c.session_did = "host-1";
  c.dsns = {"http://key@127.0.0.1:9/1"};
  c.session_update_interval = 10min;
  return c;
}

struct Saved {
  std::string category;
  std::string summary;
  ParsedEnvelope envelope;
};

std::vector<Saved> saved(Spool& spool) {
  std::vector<Saved> out;
  for (const SpoolEntry& e : spool.entries()) {
    std::string error;
    auto parsed = parse_envelope(spool.read_envelope(e).value_or(""), error);
    REQUIRE(parsed);
    out.push_back({e.category, e.summary, *parsed});
  }
  return out;
}

nlohmann::json payload(const Saved& s) { return nlohmann::json::parse(s.envelope.items.at(0).payload); }

}  // namespace

TEST_CASE("a lifetime's session: init ok, periodic ok, final update handed back", "[run_health]") {
  TempDir dir;
  config::Config c = cfg(dir.file("spool"));
  std::string error;
  auto spool = Spool::open(c, error);
  REQUIRE(spool);
  int wakes = 0;
  RunHealth h(c, &*spool, nullptr, [&] { ++wakes; });
  h.started(kT0);
  REQUIRE(h.session());
  CHECK_FALSE(h.check_in());
  h.tick(kT0 + 9min);   // not yet due
  h.tick(kT0 + 10min);  // due
  h.tick(kT0 + 11min);
  auto items = saved(*spool);
  REQUIRE(items.size() == 2);
  CHECK(wakes == 2);
  CHECK(items[0].category == "session");
  CHECK(items[0].summary == "session ok");
  CHECK(items[0].envelope.items.size() == 1);
  CHECK(items[0].envelope.items[0].type() == "session");
  CHECK(payload(items[0])["init"] == true);
  CHECK_FALSE(payload(items[1]).contains("init"));
  CHECK(payload(items[1])["duration"] == 600.0);

  BuiltEvent handled;
  handled.event = {{"event_id", "x"}};
  h.on_event(handled);
  CHECK_FALSE(handled.event.contains("contexts"));  // no monitor: no trace
  SessionEnd end;
  end.exit.kind = parsers::ExitKind::Clean;
  auto final_item = h.finish(end, kT0 + 12min);
  REQUIRE(final_item);
  nlohmann::json last = nlohmann::json::parse(final_item->payload);
  CHECK(last["status"] == "errored");
  CHECK(last["errors"] == 1);
  CHECK(last["sid"] == payload(items[0])["sid"]);
  CHECK_FALSE(h.session());
  CHECK(saved(*spool).size() == 2);  // the final update is the caller's to place
  h.save_alone(std::move(*final_item), kT0 + 12min);
  CHECK(saved(*spool).size() == 3);
}

TEST_CASE("a monitored lifetime: check-ins and the events' trace", "[run_health]") {
  TempDir dir;
  config::Config c = cfg(dir.file("spool"));
  c.release.clear();  // no release: no session, check-ins still go
  c.monitor_slug = "job";
  std::string error;
  auto spool = Spool::open(c, error);
  REQUIRE(spool);
  RunHealth h(c, &*spool, nullptr, nullptr);
  h.started(kT0);
  CHECK_FALSE(h.session());
  REQUIRE(h.check_in());
  const std::string trace = h.check_in()->trace_id;
  BuiltEvent fatal;
  fatal.event = {{"event_id", "x"}, {"contexts", {{"os", {{"name", "Linux"}}}}}};
  h.on_event(fatal);
  CHECK(fatal.event["contexts"]["trace"]["trace_id"] == trace);
  CHECK(fatal.event["contexts"]["os"]["name"] == "Linux");
  SessionEnd end;
  end.exit.kind = parsers::ExitKind::Signal;
  end.exit.signal = SIGSEGV;
  CHECK_FALSE(h.finish(end, kT0 + 3s));
  auto items = saved(*spool);
  REQUIRE(items.size() == 2);
  CHECK(items[0].category == "monitor");
  CHECK(items[0].summary == "check-in in_progress");
  CHECK(items[1].summary == "check-in error");
  CHECK(payload(items[1])["check_in_id"] == payload(items[0])["check_in_id"]);
  CHECK(payload(items[1])["contexts"]["trace"]["trace_id"] == trace);
  CHECK(payload(items[1])["duration"] == 3.0);
}

TEST_CASE("an abandoned run closes its recorded session as abnormal", "[run_health]") {
  config::Config c = cfg("/nonexistent");
  AbandonedRun run;
  run.started = kT0;
  run.last_update = kT0 + 30s;
  run.session_sid = "6f1c9a52-6a3c-4c51-9d3e-2f0c2f6a9b10";
  run.session_started = kT0;
  run.session_errors = 2;
  run.session_release = "app@0.9";  // the release of that run, not this one's
  auto item = RunHealth::abandoned_session(c, run);
  REQUIRE(item);
  nlohmann::json u = nlohmann::json::parse(item->payload);
  CHECK(u["sid"] == run.session_sid);
  CHECK(u["status"] == "abnormal");
  CHECK_FALSE(u.contains("init"));
  CHECK(u["errors"] == 2);
  CHECK(u["duration"] == 30.0);
  CHECK(u["attrs"]["release"] == "app@0.9");

  run.session_sid.clear();  // no recorded session: a new one, init
  auto fresh = RunHealth::abandoned_session(c, run);
  REQUIRE(fresh);
  nlohmann::json f = nlohmann::json::parse(fresh->payload);
  CHECK(f["init"] == true);
  CHECK(f["status"] == "abnormal");
  CHECK(f["attrs"]["release"] == "app@1");
  c.sessions = false;
  CHECK_FALSE(RunHealth::abandoned_session(c, run));
}
