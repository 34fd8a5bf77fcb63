#include "sinks/session.h"

#include <csignal>
#include <regex>

#include <catch2/catch.hpp>

using namespace crashwrap;
using namespace crashwrap::sinks;
using parsers::ExitInfo;
using parsers::ExitKind;
using parsers::Timestamp;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::seconds(1795420800)};

config::Config cfg() {
  config::Config c;
  c.release = "app@1.0";
  c.environment = "prod";
  c.session_did = "web-1";
  c.dsns = {"http://key@127.0.0.1:9/1"};
  return c;
}

ExitInfo exit_of(ExitKind kind, int code = 0, int signal = 0) {
  ExitInfo e;
  e.kind = kind;
  e.code = code;
  e.signal = signal;
  return e;
}

SessionStatus status(ExitInfo e, std::uint64_t errors = 0, bool crash = false, bool ignored = false,
                     bool stop = false) {
  SessionEnd end;
  end.exit = e;
  end.unhandled_crash = crash;
  end.ignored_exit_code = ignored;
  end.stop_requested = stop;
  return end_status(end, errors);
}

}  // namespace

TEST_CASE("sessions need a release and a DSN, and can be turned off", "[session]") {
  config::Config c = cfg();
  CHECK(sessions_enabled(c));
  c.release.clear();
  CHECK_FALSE(sessions_enabled(c));
  c = cfg();
  c.dsns.clear();
  CHECK_FALSE(sessions_enabled(c));
  c = cfg();
  c.sessions = false;
  CHECK_FALSE(sessions_enabled(c));
}

TEST_CASE("the first update is init, later ones are not", "[session]") {
  Session s = new_session(cfg(), kT0);
  CHECK(std::regex_match(s.sid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(new_session(cfg(), kT0).sid != s.sid);
  nlohmann::json first = session_update(s, SessionStatus::Ok, kT0);
  CHECK(first == nlohmann::json{{"sid", s.sid},
                                {"did", "web-1"},
                                {"init", true},
                                {"started", "2026-11-23T08:00:00.000Z"},
                                {"timestamp", "2026-11-23T08:00:00.000Z"},
                                {"duration", 0.0},
                                {"status", "ok"},
                                {"errors", 0},
                                {"attrs", {{"release", "app@1.0"}, {"environment", "prod"}}}});
  s.errors = 2;
  nlohmann::json last = session_update(s, SessionStatus::Crashed, kT0 + 1500ms);
  CHECK_FALSE(last.contains("init"));
  CHECK(last["status"] == "crashed");
  CHECK(last["errors"] == 2);
  CHECK(last["duration"] == 1.5);
  CHECK(last["timestamp"] == "2026-11-23T08:00:01.500Z");
  CHECK(last["started"] == first["started"]);
}

TEST_CASE("a clock that went back gives no negative duration", "[session]") {
  Session s = new_session(cfg(), kT0);
  nlohmann::json u = session_update(s, SessionStatus::Ok, kT0 - 5s);
  CHECK(u["duration"] == 0.0);
  CHECK(u["timestamp"] == u["started"]);
}

TEST_CASE("no environment: attrs carry the release only", "[session]") {
  config::Config c = cfg();
  c.environment.clear();
  c.session_did.clear();
  Session s = new_session(c, kT0);
  nlohmann::json u = session_update(s, SessionStatus::Exited, kT0);
  CHECK(u["attrs"] == nlohmann::json{{"release", "app@1.0"}});
  CHECK_FALSE(u.contains("did"));
}

TEST_CASE("how a lifetime ended gives the final status", "[session]") {
  CHECK(status(exit_of(ExitKind::Clean)) == SessionStatus::Exited);
  CHECK(status(exit_of(ExitKind::Clean), 1) == SessionStatus::Errored);  // a handled, logged trace
  CHECK(status(exit_of(ExitKind::ErrorExit, 3), 1) == SessionStatus::Errored);
  CHECK(status(exit_of(ExitKind::ErrorExit, 3), 1, true) == SessionStatus::Crashed);  // trace + exit 3
  CHECK(status(exit_of(ExitKind::ErrorExit, 143), 0, false, true) == SessionStatus::Exited);  // ignored code
  CHECK(status(exit_of(ExitKind::ErrorExit, 143), 2, false, true) == SessionStatus::Errored);
  CHECK(status(exit_of(ExitKind::Signal, 0, SIGSEGV), 1) == SessionStatus::Crashed);
  CHECK(status(exit_of(ExitKind::Signal, 0, SIGKILL), 1) == SessionStatus::Crashed);
  CHECK(status(exit_of(ExitKind::OomKilled, 0, SIGKILL), 1) == SessionStatus::Crashed);
  CHECK(status(exit_of(ExitKind::Unknown)) == SessionStatus::Abnormal);
  // A stop crashwrap forwarded is how the run was meant to end; a SEGV is still a crash.
  CHECK(status(exit_of(ExitKind::Signal, 0, SIGTERM), 0, false, false, true) == SessionStatus::Exited);
  CHECK(status(exit_of(ExitKind::Signal, 0, SIGTERM), 0, false, false, false) == SessionStatus::Crashed);
  CHECK(status(exit_of(ExitKind::Signal, 0, SIGSEGV), 1, false, false, true) == SessionStatus::Crashed);
}

TEST_CASE("status names are Sentry's", "[session]") {
  CHECK(session_status_name(SessionStatus::Ok) == "ok");
  CHECK(session_status_name(SessionStatus::Exited) == "exited");
  CHECK(session_status_name(SessionStatus::Crashed) == "crashed");
  CHECK(session_status_name(SessionStatus::Errored) == "errored");
  CHECK(session_status_name(SessionStatus::Abnormal) == "abnormal");
}

TEST_CASE("a crashed session counts at least one error", "[session]") {
  Session s = new_session(cfg(), kT0);
  CHECK(session_update(s, SessionStatus::Crashed, kT0)["errors"] == 1);
  CHECK(session_update(s, SessionStatus::Abnormal, kT0)["errors"] == 0);
  s.errors = 3;
  CHECK(session_update(s, SessionStatus::Crashed, kT0)["errors"] == 3);
}
