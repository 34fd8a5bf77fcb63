// Release health and cron monitoring of one lifetime of the child: its
// session (sinks/session.h) and its check-ins (sinks/check_in.h), saved to the
// spool as they happen so that the sender delivers them like events.
//
//   started()  → session update init:true "ok" + check-in "in_progress"
//   tick()     → an "ok" session update every --session-update-interval
//   on_event() → each event of the lifetime counts as an error and carries the
//                check-in's trace id
//   finish()   → check-in "ok"/"error"; the final session update is handed back
//                so that it travels in the same envelope as the fatal event
//                (save_alone() when there is none)
// Each part is off when its feature is (sinks::sessions_enabled,
// sinks::check_ins_enabled). Nothing here touches the child's exit status; a
// spool that refuses an item has already printed its one warning.
// Event loop only.
#pragma once

#include <functional>
#include <optional>

#include "agent/flight_recorder.h"
#include "config/config.h"
#include "sinks/check_in.h"
#include "sinks/envelope.h"
#include "sinks/event_builder.h"
#include "sinks/session.h"
#include "sinks/spool.h"

namespace crashwrap::agent {

class RunHealth {
 public:
  // `spool` and `recorder` may be null (unavailable); `saved` runs after each save.
  RunHealth(const config::Config& config, sinks::Spool* spool, FlightRecorder* recorder,
            std::function<void()> saved);

  void started(parsers::Timestamp now);
  void tick(parsers::Timestamp now);
  void on_event(sinks::BuiltEvent& event);
  std::optional<sinks::EnvelopeItem> finish(const sinks::SessionEnd& end, parsers::Timestamp now);
  void save_alone(sinks::EnvelopeItem item, parsers::Timestamp now);

  const std::optional<sinks::Session>& session() const noexcept { return session_; }
  const std::optional<sinks::CheckIn>& check_in() const noexcept { return check_in_; }

  // A run the flight recorder found abandoned: the session it recorded (else
  // a new one) closed as abnormal, for the recovered event's envelope; nullopt
  // when sessions are off.
  static std::optional<sinks::EnvelopeItem> abandoned_session(const config::Config& config,
                                                              const AbandonedRun& run);

 private:
  void save(sinks::EnvelopeItem item, const char* category, parsers::Timestamp now);

  const config::Config& cfg_;
  sinks::Spool* spool_;
  FlightRecorder* recorder_;
  std::function<void()> saved_;
  std::optional<sinks::Session> session_;
  std::optional<sinks::CheckIn> check_in_;
  parsers::Timestamp last_update_{};
};

}  // namespace crashwrap::agent
