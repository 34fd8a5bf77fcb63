#include "sinks/session.h"

#include <csignal>

#include "sinks/envelope.h"
#include "sinks/event_builder.h"

namespace crashwrap::sinks {

using parsers::ExitKind;

std::string_view session_status_name(SessionStatus s) noexcept {
  switch (s) {
    case SessionStatus::Ok: return "ok";
    case SessionStatus::Exited: return "exited";
    case SessionStatus::Crashed: return "crashed";
    case SessionStatus::Errored: return "errored";
    case SessionStatus::Abnormal: return "abnormal";
  }
  return "ok";
}

bool sessions_enabled(const config::Config& c) {
  return c.sessions && !c.release.empty() && !c.dsns.empty();
}

std::string new_uuid() {
  std::string hex = new_event_id();  // 32 random hex digits
  hex[12] = '4';                                     // version 4
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
         "-" + hex.substr(20);
}

Session new_session(const config::Config& c, parsers::Timestamp started) {
  Session s;
  s.sid = new_uuid();
  s.did = c.session_did;
  s.release = c.release;
  s.environment = c.environment;
  s.started = started;
  return s;
}

nlohmann::json session_update(Session& s, SessionStatus status, parsers::Timestamp now) {
  // A clock that went backwards must not give a negative duration (Relay drops those).
  const auto elapsed = now > s.started ? now - s.started : parsers::Clock::duration::zero();
  const double seconds = std::chrono::duration<double>(elapsed).count();
  nlohmann::json u = {{"sid", s.sid}};
  if (!s.did.empty()) u["did"] = s.did;
  if (!s.init_sent) u["init"] = true;
  u["started"] = rfc3339(s.started);
  u["timestamp"] = rfc3339(now > s.started ? now : s.started);
  u["duration"] = seconds;
  u["status"] = std::string(session_status_name(status));
  // A crashed session counts its crash as an error (Relay requires errors >= 1).
  u["errors"] = status == SessionStatus::Crashed && s.errors == 0 ? 1 : s.errors;
  nlohmann::json attrs = {{"release", s.release}};
  if (!s.environment.empty()) attrs["environment"] = s.environment;
  u["attrs"] = std::move(attrs);
  s.init_sent = true;
  return u;
}

SessionStatus end_status(const SessionEnd& end, std::uint64_t errors) {
  const SessionStatus quiet = errors > 0 ? SessionStatus::Errored : SessionStatus::Exited;
  switch (end.exit.kind) {
    case ExitKind::Clean: return quiet;
    case ExitKind::ErrorExit:
      if (end.unhandled_crash) return SessionStatus::Crashed;
      return end.ignored_exit_code ? quiet : SessionStatus::Errored;
    case ExitKind::Signal: {
      const int sig = end.exit.signal;
      // A stop crashwrap forwarded (or its --kill-after SIGKILL) is how the run was meant to end.
      if (end.stop_requested && (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGKILL)) return quiet;
      return SessionStatus::Crashed;
    }
    case ExitKind::OomKilled: return SessionStatus::Crashed;
    case ExitKind::Unknown: return SessionStatus::Abnormal;
  }
  return SessionStatus::Errored;
}

}  // namespace crashwrap::sinks
