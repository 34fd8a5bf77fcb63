#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/diag.h"
#include "sinks/envelope.h"
#include "sinks/rate_limits.h"
#include "sinks/sender.h"
#include "sinks/spool.h"
#include "support/process.h"
#include "support/receiver.h"

using namespace crashwrap;
using namespace crashwrap::sinks;
using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

std::string hex_id(int n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08x%024d", 0x5e4d0000u + static_cast<unsigned>(n), n);
  return buf;
}

// An error event with an output-tail attachment, as the spool holds it.
std::string event_envelope(int n, std::string tail = "[stderr] boom\n") {
  nlohmann::json event = {{"event_id", hex_id(n)}, {"platform", "native"}, {"level", "fatal"},
                          {"timestamp", 1700000000 + n},
                          {"exception", {{"values", {{{"type", "SIGSEGV"}, {"value", "crash"}}}}}}};
  std::vector<AttachmentPart> parts;
  if (!tail.empty()) parts.push_back({"output-tail.txt", "text/plain", std::move(tail)});
  return build_event_envelope(hex_id(n), event, parts, "", parsers::Clock::now(), EnvelopeLimits{}).bytes;
}

std::string session_envelope() {
  nlohmann::json s = {{"sid", "0123456789abcdef0123456789abcdef"}, {"status", "exited"},
                      {"started", "2024-01-01T00:00:00Z"}, {"attrs", {{"release", "app@1"}}}};
  Envelope e;
  e.header = envelope_header("", parsers::Clock::now(), "");
  e.items.push_back(session_item(s));
  return serialize(e);
}

struct Fixture {
  TempDir dir;
  config::Config config;

  explicit Fixture(std::vector<std::string> dsns) {
    config.spool_dir = dir.file("spool");
    config.dsns = std::move(dsns);
    config.http_timeout = 2000ms;
    config.connect_timeout = 1000ms;
  }
  Spool spool() const {
    SpoolOptions o;
    o.dir = config.spool_dir;
    o.dsns = config.dsns;
    std::string error;
    auto s = Spool::open(o, error);
    INFO(error);
    REQUIRE(s);
    return std::move(*s);
  }
  std::string save(int n, std::string tail = "[stderr] boom\n") {
    Spool s = spool();
    REQUIRE(s.save_envelope(event_envelope(n, std::move(tail)), {hex_id(n), "error", "SIGSEGV"}));
    return hex_id(n);
  }
  void save_session() {
    Spool s = spool();
    REQUIRE(s.save_envelope(session_envelope(), {hex_id(900), "session", "session"}));
  }
  SpoolEntry entry(const std::string& id) const {
    auto f = spool().find(id);
    REQUIRE(f.found == Spool::Found::One);
    return f.entry;
  }
  std::optional<std::string> state(const std::string& what, const std::string& dsn) const {
    return spool().read_state(what + "-" + dsn_key(dsn));
  }
};

// Keeps diag lines out of the test output and lets tests read them.
struct DiagCapture {
  TempDir dir;
  int fd;
  DiagCapture() : fd(::open(dir.file("diag").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    agent::diag::set_output_fd(fd);
  }
  ~DiagCapture() {
    agent::diag::set_output_fd(2);
    ::close(fd);
  }
  std::string text() const { return read_file(dir.file("diag")); }
};

std::uint64_t report_quantity(const nlohmann::json& report, std::string_view reason, std::string_view category) {
  std::uint64_t n = 0;
  if (report.is_null()) return 0;
  for (const auto& d : report["discarded_events"])
    if (d["reason"] == reason && d["category"] == category) n += d["quantity"].get<std::uint64_t>();
  return n;
}

}  // namespace

TEST_CASE("an event saved before start is delivered and the entry moves to sent", "[sender]") {
  Receiver rx;
  Fixture f({rx.dsn()});
  std::string id = f.save(1);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  CHECK(sender.flush(5s));
  REQUIRE(rx.envelope_count() == 1);
  auto env = rx.envelopes()[0];
  CHECK(env.event_id() == id);
  CHECK(env.item_types() == std::vector<std::string>{"event", "attachment"});
  CHECK(env.item("attachment")->payload == "[stderr] boom\n");
  CHECK(env.parsed.header["dsn"] == rx.dsn());
  CHECK(f.entry(id).stage == Stage::Sent);
  CHECK(f.entry(id).delivery_for(rx.dsn()).status == DsnStatus::Sent);
  sender.stop();
  CHECK(rx.problems().empty());
}

TEST_CASE("wake delivers an event saved while the sender runs", "[sender]") {
  Receiver rx;
  Fixture f({rx.dsn()});
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  CHECK(sender.flush(2s));
  CHECK(rx.request_count() == 0);
  std::string id = f.save(2);
  sender.wake();
  REQUIRE(rx.wait_for_envelopes(1, 5s));
  CHECK(rx.envelopes()[0].event_id() == id);
  CHECK(sender.flush(5s));
  CHECK(f.entry(id).stage == Stage::Sent);
}

TEST_CASE("a 500 is retried within a second and then delivered", "[sender]") {
  Receiver rx;
  rx.push_reply(Reply::with_status(500));
  Fixture f({rx.dsn()});
  std::string id = f.save(3);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  auto start = std::chrono::steady_clock::now();
  CHECK(sender.flush(5s));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(rx.request_count() == 2);
  REQUIRE(rx.envelope_count() == 1);
  CHECK(rx.envelopes()[0].event_id() == id);
  CHECK(f.entry(id).stage == Stage::Sent);
}

TEST_CASE("a 413 drops the entry and the next envelope reports send_error", "[sender]") {
  DiagCapture diag;
  Receiver rx;
  rx.push_reply(Reply::with_status(413));
  Fixture f({rx.dsn()});
  std::string first = f.save(4);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  CHECK(sender.flush(5s));
  CHECK(rx.request_count() >= 1);
  CHECK(rx.envelope_count() <= 1);  // at most the standalone client report
  SpoolEntry e = f.entry(first);
  CHECK(e.stage == Stage::Dropped);
  CHECK(e.delivery_for(rx.dsn()).reason == "send_error: HTTP 413");
  CHECK(diag.text().find("refused event " + first.substr(0, 8) + " (HTTP 413)") != std::string::npos);
  // The counts reach the server: with the next envelope or on their own.
  REQUIRE(rx.wait_for([](const Receiver& r) {
    for (const auto& env : r.envelopes())
      if (!env.client_report().is_null()) return true;
    return false;
  }, 5s));
  std::uint64_t reported = 0;
  for (const auto& env : rx.envelopes()) {
    reported += report_quantity(env.client_report(), "send_error", "error");
    reported += report_quantity(env.client_report(), "send_error", "attachment");
  }
  CHECK(reported == 2);  // the event and its attachment
  CHECK(sender.flush(2s));
  CHECK(f.state("reports", rx.dsn()).value_or("") == "");
}

TEST_CASE("429 with X-Sentry-Rate-Limits: 60:error holds that category, others go", "[sender]") {
  Receiver rx;
  rx.push_reply(Reply::rate_limited("", "60:error"));
  Fixture f({rx.dsn()});
  std::string first = f.save(5);
  {
    Sender sender(f.config, f.config.spool_dir);
    sender.start();
    auto start = std::chrono::steady_clock::now();
    CHECK(sender.flush(3s));  // owed, but the retry is a minute away: no waiting
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK(rx.request_count() == 1);
  }
  SpoolEntry e = f.entry(first);
  CHECK(e.stage == Stage::Pending);
  auto d = e.delivery_for(rx.dsn());
  CHECK(d.status == DsnStatus::Retry);
  REQUIRE(d.retry_at);
  CHECK(*d.retry_at > parsers::Clock::now() + 50s);
  // The limit survives a restart: a new error event is not sent, a session is.
  auto limits = f.state("ratelimits", rx.dsn());
  REQUIRE(limits);
  CHECK(RateLimits::parse(*limits).is_limited("error", parsers::Clock::now()));
  std::string second = f.save(6);
  f.save_session();
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  CHECK(sender.flush(3s));  // the first event still waits for its retry, a minute away
  CHECK(f.entry(second).stage == Stage::Dropped);
  CHECK(f.entry(second).delivery_for(rx.dsn()).reason == "ratelimit_backoff");
  std::vector<std::string> types;
  std::uint64_t backoff_error = 0;
  for (const auto& env : rx.envelopes()) {
    CHECK(env.item("event") == nullptr);
    for (const auto& t : env.item_types()) types.push_back(t);
    backoff_error += report_quantity(env.client_report(), "ratelimit_backoff", "error");
  }
  CHECK(std::count(types.begin(), types.end(), "session") == 1);
  CHECK(std::count(types.begin(), types.end(), "attachment") == 0);
  CHECK(backoff_error == 1);
}

TEST_CASE("items of a limited category are left out, the rest is sent", "[sender]") {
  Receiver rx;
  rx.push_reply(Reply::with_status(200, {{"X-Sentry-Rate-Limits", "60:attachment:project"}}));
  Fixture f({rx.dsn()});
  f.save(7);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  CHECK(sender.flush(3s));
  std::string id = f.save(8, "[stderr] second\n");
  sender.wake();
  CHECK(sender.flush(3s));
  auto envs = rx.envelopes();
  REQUIRE(envs.size() >= 2);
  CHECK(envs[0].item_types() == std::vector<std::string>{"event", "attachment"});
  CHECK(envs[1].event_id() == id);
  CHECK(envs[1].item_types() == std::vector<std::string>{"event", "client_report"});
  CHECK(report_quantity(envs[1].client_report(), "ratelimit_backoff", "attachment") == 1);
  CHECK(f.entry(id).stage == Stage::Sent);
}

TEST_CASE("a hung DSN does not delay another one", "[sender]") {
  Receiver good, hung;
  hung.set_default_reply(Reply::hang());
  Fixture f({hung.dsn(), good.dsn()});
  f.config.http_timeout = 10000ms;
  std::string id = f.save(9);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  REQUIRE(good.wait_for_envelopes(1, 2s));
  CHECK(good.envelopes()[0].event_id() == id);
  CHECK(hung.wait_for_requests(1, 2s));
  f.save(10);
  sender.wake();
  CHECK(good.wait_for_envelopes(2, 2s));
  CHECK_FALSE(sender.flush(300ms));  // the hung DSN still owes both
  auto start = std::chrono::steady_clock::now();
  sender.stop();
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  SpoolEntry e = f.entry(id);
  CHECK(e.stage == Stage::Pending);
  CHECK(e.delivery_for(good.dsn()).status == DsnStatus::Sent);
  CHECK(e.delivery_for(hung.dsn()).status == DsnStatus::Pending);  // cut off mid-send: not marked
}

TEST_CASE("a refused connection keeps the event for later", "[sender]") {
  std::string dsn;
  {
    Receiver gone;
    dsn = gone.dsn();
  }
  Fixture f({dsn});
  std::string id = f.save(11);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  auto start = std::chrono::steady_clock::now();
  // Retries due within the deadline are made; it gives up when the next is beyond it.
  CHECK(sender.flush(1500ms));
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
  sender.stop();
  SpoolEntry e = f.entry(id);
  CHECK(e.stage == Stage::Pending);
  CHECK(e.delivery_for(dsn).status == DsnStatus::Retry);
  CHECK(e.delivery_for(dsn).attempts >= 1);
}

TEST_CASE("send_all delivers everything and says so", "[sender]") {
  DiagCapture diag;
  Receiver rx;
  Fixture f({rx.dsn()});
  for (int i = 20; i < 23; ++i) f.save(i);
  Sender sender(f.config, f.config.spool_dir);
  SendSummary s = sender.send_all(10s, false);
  CHECK(s.sent == 3);
  CHECK(s.dropped == 0);
  CHECK(s.deferred == 0);
  CHECK(s.spool_empty);
  CHECK(rx.envelope_count() == 3);
  CHECK(diag.text() == "crashwrap: send: 3 sent, 0 dropped, 0 left in the spool\n");
}

TEST_CASE("send_all retries now, ignoring retry-at, and stops at a dead server", "[sender]") {
  DiagCapture diag;
  std::string dead;
  {
    Receiver gone;
    dead = gone.dsn();
  }
  Fixture f({dead});
  for (int i = 30; i < 33; ++i) f.save(i);
  {
    Sender sender(f.config, f.config.spool_dir);
    auto start = std::chrono::steady_clock::now();
    SendSummary s = sender.send_all(10s, false);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    CHECK(s.sent == 0);
    CHECK(s.deferred == 3);
    CHECK_FALSE(s.spool_empty);
  }
  CHECK(diag.text().find("crashwrap: send: 0 sent, 0 dropped, 3 left in the spool (last error: connect") == 0);
  // The server comes back on the same port... a new one here; same spool, new DSN.
  Receiver rx;
  f.config.dsns = {rx.dsn()};
  Sender again(f.config, f.config.spool_dir);
  SendSummary s = again.send_all(10s, false);
  CHECK(s.sent == 3);
  CHECK(s.spool_empty);
}

TEST_CASE("entries the spool evicts are reported as queue_overflow", "[sender]") {
  DiagCapture diag;
  Receiver rx;
  Fixture f({rx.dsn()});
  {
    SpoolOptions o;
    o.dir = f.config.spool_dir;
    o.dsns = f.config.dsns;
    o.max_files = 2;
    std::string error;
    auto s = Spool::open(o, error);
    REQUIRE(s);
    for (int i = 40; i < 45; ++i) REQUIRE(s->save_envelope(event_envelope(i), {hex_id(i), "error", "x"}));
  }
  Sender sender(f.config, f.config.spool_dir);
  SendSummary s = sender.send_all(10s, false);
  CHECK(s.sent == 2);
  std::uint64_t overflow = 0;
  for (const auto& env : rx.envelopes()) overflow += report_quantity(env.client_report(), "queue_overflow", "error");
  CHECK(overflow == 3);
}

TEST_CASE("without a DSN the sender is inert", "[sender]") {
  Fixture f({});
  f.save(50);
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  sender.wake();
  CHECK(sender.flush(1s));
  sender.stop();
  CHECK(f.entry(hex_id(50)).stage == Stage::Pending);
}

TEST_CASE("settled() polled by an event loop waits for a quick retry", "[sender]") {
  Receiver rx;
  rx.push_reply(Reply::with_status(503));
  Fixture f({rx.dsn()});
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  std::string id = f.save(12);
  sender.wake();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int polls = 0;
  while (!sender.settled(deadline) && std::chrono::steady_clock::now() < deadline) {
    ++polls;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(std::chrono::steady_clock::now() < deadline);
  CHECK(polls > 5);  // the retry, ≥ 0.5 s after the 503, was waited for
  CHECK(rx.request_count() == 2);
  REQUIRE(rx.envelope_count() == 1);
  CHECK(rx.envelopes()[0].event_id() == id);
  CHECK(f.entry(id).stage == Stage::Sent);
}

TEST_CASE("the same DSN given twice is delivered to once", "[sender]") {
  DiagCapture diag;
  Receiver rx;
  Fixture f({rx.dsn(), rx.dsn()});
  f.save(60);
  Sender sender(f.config, f.config.spool_dir);
  SendSummary s = sender.send_all(10s, false);
  CHECK(s.sent == 1);
  CHECK(s.spool_empty);
  CHECK(rx.request_count() == 1);
}

TEST_CASE("an event saved while log envelopes are queued goes before the rest of them", "[sender]") {
  Receiver rx;
  rx.set_default_reply(Reply::slow(30ms));
  Fixture f({rx.dsn()});
  constexpr int kLogs = 40;
  {
    Spool s = f.spool();
    for (int i = 0; i < kLogs; ++i) {
      Envelope e;
      e.header = envelope_header("", parsers::Clock::now(), "");
      e.items.push_back(log_item(nlohmann::json::array(
          {{{"timestamp", 1795420800.5}, {"trace_id", std::string(32, 'a')}, {"level", "info"},
            {"body", "line " + std::to_string(i)}}})));
      REQUIRE(s.save_envelope(serialize(e), {hex_id(100 + i), "log_item", "1 log"}));
    }
  }
  Sender sender(f.config, f.config.spool_dir);
  sender.start();
  REQUIRE(rx.wait_for_envelopes(3, 10s));
  std::string id = f.save(7);
  sender.wake();
  CHECK(sender.flush(20s));
  std::vector<ReceivedEnvelope> got = rx.envelopes();
  REQUIRE(got.size() == kLogs + 1);
  std::size_t at = got.size();
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i].event_id() == id) at = i;
  // Saved after three logs had arrived, sent within a few requests, not after all forty.
  CHECK(at >= 3);
  CHECK(at < 12);
}
