// Release-health sessions (https://develop.sentry.dev/sdk/sessions/): one
// session per lifetime of the child. The first update says init:true and
// status "ok"; periodic "ok" updates follow while the child runs; the last one
// says how the lifetime ended:
//   exited    clean exit, or an exit code in --ignore-exit-codes, no errors seen
//   errored   any other non-zero exit without a crash, or handled errors seen
//   crashed   a fatal signal, an OOM kill, or an unhandled trace with a failing exit
//   abnormal  found running by the flight recorder after crashwrap itself died
// A death by SIGTERM/SIGINT/SIGHUP (or --kill-after's SIGKILL) after crashwrap
// forwarded a stop request ends the session as exited. Sentry requires a release: no release, no session.
//
// Pure apart from the random session id; callable from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "parsers/model.h"

namespace crashwrap::sinks {

enum class SessionStatus : std::uint8_t { Ok, Exited, Crashed, Errored, Abnormal };
std::string_view session_status_name(SessionStatus s) noexcept;  // "ok", "exited", …

struct Session {
  std::string sid;                  // UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  std::string did;
  std::string release;
  std::string environment;
  parsers::Timestamp started{};
  std::uint64_t errors = 0;         // error events of this lifetime (handled and fatal)
  bool init_sent = false;           // the init:true update has been built
};

// Sessions are sent when enabled, a release is known and a DSN is configured
// (without one they would only pile up in the spool).
bool sessions_enabled(const config::Config& config);

// A new session for a lifetime that started at `started` (release, environment
// and did from the configuration).
Session new_session(const config::Config& config, parsers::Timestamp started);

// The payload of one update: sid, did (when set), init (true on the first
// update only), started, timestamp, duration (seconds), status, errors,
// attrs {release, environment?}. Marks the init update as built.
nlohmann::json session_update(Session& session, SessionStatus status, parsers::Timestamp now);

// How a lifetime ended, for its final status.
struct SessionEnd {
  parsers::ExitInfo exit;
  bool ignored_exit_code = false;   // the exit code is in --ignore-exit-codes
  bool unhandled_crash = false;     // a fatal (unhandled) trace report went with the exit
  bool stop_requested = false;      // crashwrap forwarded a SIGTERM/SIGINT to the child
};
SessionStatus end_status(const SessionEnd& end, std::uint64_t errors);

// A random UUID v4 in its dashed form.
std::string new_uuid();

}  // namespace crashwrap::sinks
